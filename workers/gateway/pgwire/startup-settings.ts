// The session settings a connection starts with, from its StartupMessage parameters (which the
// edge forwards after authentication). `options` is libpq's command-line style
// (`-c name=value`, `--name=value`, backslash escapes a space); `--cluster=TENANT` there named
// the virtual cluster and was consumed by the edge, so it is not a setting.
import { PgError } from "../../../common/errors.ts";

/** Startup parameters that are not settings (client_encoding is one: the session checks its value). */
const NOT_SETTINGS = new Set(["user", "database", "options", "replication", "cluster"]);

export function splitOptions(options: string): string[] {
  const out: string[] = [];
  let cur = "";
  let escaped = false;
  let any = false;
  for (const ch of options) {
    if (escaped) {
      cur += ch;
      escaped = false;
      any = true;
    } else if (ch === "\\") {
      escaped = true;
    } else if (/\s/.test(ch)) {
      if (any) out.push(cur);
      cur = "";
      any = false;
    } else {
      cur += ch;
      any = true;
    }
  }
  if (any) out.push(cur);
  return out;
}

export function settingsFromStartup(params: Record<string, string>): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) if (!NOT_SETTINGS.has(k.toLowerCase())) settings[k] = v;
  const tokens = splitOptions(params["options"] ?? "");
  for (let i = 0; i < tokens.length; i++) {
    let t = tokens[i]!;
    if (t === "-c") {
      t = tokens[++i] ?? "";
    } else if (t.startsWith("-c")) {
      t = t.slice(2);
    } else if (t.startsWith("--")) {
      t = t.slice(2);
    } else {
      throw new PgError("protocol_violation", `invalid command-line argument for server process: ${t}`, { hint: "Use options=-c name=value or --name=value." });
    }
    const eq = t.indexOf("=");
    if (eq <= 0) throw new PgError("syntax_error", `invalid option in startup options: ${JSON.stringify(t)}`, { hint: "Use -c name=value." });
    const name = t.slice(0, eq).replace(/-/g, "_");
    if (name.toLowerCase() === "cluster") continue;
    settings[name] = t.slice(eq + 1);
  }
  return settings;
}

const DURATION_UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A time setting as Postgres reads one whose base unit is milliseconds (statement_timeout,
 * idle_in_transaction_session_timeout): a number, optionally a unit (us, ms, s, min, h, d), spaces
 * allowed between; a bare number is milliseconds. null when the text is not such a value.
 */
export function parseDurationMs(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)?\s*$/.exec(text);
  if (m === null) return null;
  return Math.round(Number(m[1]) * DURATION_UNIT_MS[m[2] ?? "ms"]!);
}
