// Session settings: SET / SHOW / RESET, current_setting(), and the values reported to clients.
// Names are case-insensitive, as in Postgres; unknown names fail with 42704 like Postgres does,
// except custom "prefix.name" settings, which Postgres accepts.
import { PgError } from "../../../common/errors.ts";
import { timeZoneFromSetting } from "./types/timezone.ts";

/** Defaults, as a PostgreSQL 15 server reports them (Warren runs every transaction serializable). */
const DEFAULTS: Record<string, string> = {
  application_name: "",
  client_encoding: "UTF8",
  client_min_messages: "notice",
  datestyle: "ISO, MDY",
  default_transaction_isolation: "serializable",
  default_transaction_read_only: "off",
  extra_float_digits: "1",
  idle_in_transaction_session_timeout: "0",
  integer_datetimes: "on",
  intervalstyle: "postgres",
  lc_collate: "C",
  lc_ctype: "C",
  lock_timeout: "0",
  max_identifier_length: "63",
  search_path: '"$user", public',
  server_encoding: "UTF8",
  server_version: "15.0",
  server_version_num: "150000",
  standard_conforming_strings: "on",
  statement_timeout: "0",
  timezone: "UTC",
  transaction_isolation: "serializable",
  transaction_read_only: "off",
  bytea_output: "hex",
  row_security: "on",
  synchronous_commit: "on",
  work_mem: "64MB",
  enable_seqscan: "on",
  jit: "off",
};

/** How SHOW prints a name (Postgres keeps the canonical capitalisation for a few). */
const DISPLAY: Record<string, string> = { datestyle: "DateStyle", intervalstyle: "IntervalStyle", timezone: "TimeZone" };

export class Settings {
  private readonly values = new Map<string, string>();
  private readonly initial = new Map<string, string>();
  /** Names the client set at startup and names SET in this session: pg_settings.source. */
  private readonly fromClient = new Set<string>();
  private readonly fromSession = new Set<string>();
  /** searchPath() of the current search_path value (recomputed when the setting changes). */
  private searchPathCache: { raw: string; user: string; path: string[] } | null = null;

  constructor(initial: Record<string, string> = {}) {
    for (const [k, v] of Object.entries(DEFAULTS)) this.values.set(k, v);
    for (const [k, v] of Object.entries(initial)) {
      const n = k.toLowerCase();
      this.values.set(n === "time zone" ? "timezone" : n, v);
      this.fromClient.add(n === "time zone" ? "timezone" : n);
    }
    for (const [k, v] of this.values) this.initial.set(k, v);
  }

  private norm(name: string): string {
    const n = name.toLowerCase();
    if (n === "time zone") return "timezone";
    return n;
  }

  has(name: string): boolean {
    return this.values.has(this.norm(name));
  }

  get(name: string): string {
    const n = this.norm(name);
    const v = this.values.get(n);
    if (v === undefined) throw new PgError("undefined_object", `unrecognized configuration parameter "${name}"`);
    return v;
  }

  getOr(name: string, fallback: string): string {
    return this.values.get(this.norm(name)) ?? fallback;
  }

  set(name: string, value: string): void {
    const n = this.norm(name);
    if (!this.values.has(n) && !n.includes(".")) throw new PgError("undefined_object", `unrecognized configuration parameter "${name}"`);
    const readOnly = ["server_version", "server_version_num", "server_encoding", "lc_collate", "lc_ctype", "integer_datetimes", "max_identifier_length"];
    if (readOnly.includes(n)) throw new PgError("cant_change_runtime_param", `parameter "${n}" cannot be changed`);
    if (n === "client_encoding" && !["utf8", "utf-8", "unicode"].includes(value.toLowerCase())) {
      throw new PgError("invalid_parameter_value", `invalid value for parameter "client_encoding": "${value}"`, { hint: "Warren supports only UTF8." });
    }
    if (n === "work_mem" && !/^\s*\d+\s*(kB|MB|GB|B)?\s*$/i.test(value)) {
      throw new PgError("invalid_parameter_value", `invalid value for parameter "work_mem": "${value}"`, { hint: "Valid units for this parameter are \"B\", \"kB\", \"MB\", \"GB\"." });
    }
    if (n === "statement_timeout" && !/^\d+(ms|s|min)?$/.test(value)) {
      throw new PgError("invalid_parameter_value", `invalid value for parameter "statement_timeout": "${value}"`);
    }
    let v = value;
    if (n === "client_encoding") v = "UTF8";
    if (n === "statement_timeout") {
      // Postgres shows time settings in the largest unit that divides them.
      const m = /^(\d+)(ms|s|min)?$/.exec(value)!;
      const ms = Number(m[1]) * (m[2] === "s" ? 1000 : m[2] === "min" ? 60_000 : 1);
      v = ms === 0 ? "0" : ms % 60_000 === 0 ? `${ms / 60_000}min` : ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
    }
    if (n === "timezone" && ["utc", "gmt", "z", "zulu"].includes(value.toLowerCase())) v = "UTC";
    if (n === "timezone") {
      try {
        timeZoneFromSetting(v);
      } catch {
        throw new PgError("invalid_parameter_value", `invalid value for parameter "TimeZone": "${value}"`);
      }
    }
    if (n === "transaction_isolation" || n === "default_transaction_isolation") v = value.toLowerCase();
    this.values.set(n, v);
    this.fromSession.add(n);
  }

  reset(name: string): void {
    const n = this.norm(name);
    this.fromSession.delete(n);
    const v = this.initial.get(n) ?? DEFAULTS[n];
    if (v === undefined) {
      if (n.includes(".")) {
        this.values.delete(n);
        return;
      }
      throw new PgError("undefined_object", `unrecognized configuration parameter "${name}"`);
    }
    this.values.set(n, v);
  }

  resetAll(): void {
    this.values.clear();
    this.fromSession.clear();
    for (const [k, v] of this.initial) this.values.set(k, v);
  }

  displayName(name: string): string {
    const n = this.norm(name);
    return DISPLAY[n] ?? n;
  }

  /** Every known setting as pg_settings lists it: where its value came from and its built-in default. */
  rows(): Array<{ name: string; setting: string; source: string; bootVal: string }> {
    return [...this.values.entries()]
      .filter(([k]) => !k.includes("."))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => ({ name: DISPLAY[k] ?? k, setting: v, source: this.fromSession.has(k) ? "session" : this.fromClient.has(k) ? "client" : "default", bootVal: DEFAULTS[k] ?? v }));
  }

  all(): Array<[string, string]> {
    return [...this.values.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [DISPLAY[k] ?? k, v]);
  }

  /** The schemas of search_path, with "$user" resolved to the session user. */
  searchPath(): string[] {
    const user = this.getOr("user", "");
    const raw = this.get("search_path");
    const c = this.searchPathCache;
    if (c !== null && c.raw === raw && c.user === user) return c.path;
    const path = raw
      .split(",")
      .map((s) => s.trim().replace(/^"(.*)"$/, "$1"))
      .filter((s) => s.length > 0)
      .map((s) => (s === "$user" ? user : s))
      .filter((s) => s.length > 0);
    this.searchPathCache = { raw, user, path };
    return path;
  }

  /**
   * work_mem in bytes: the memory budget of one statement's sorts, hash tables and aggregation.
   * Postgres units (kB, MB, GB; a bare number is kB). Sessions may lower it; `capBytes` (the
   * isolate-safe maximum) bounds it from above.
   */
  workMemBytes(capBytes: number): number {
    const m = /^\s*(\d+)\s*(kB|MB|GB|B)?\s*$/i.exec(this.get("work_mem"));
    if (m === null) return capBytes;
    const unit = (m[2] ?? "kB").toLowerCase();
    const mult = unit === "b" ? 1 : unit === "kb" ? 1024 : unit === "mb" ? 1024 * 1024 : 1024 * 1024 * 1024;
    return Math.max(64 * 1024, Math.min(capBytes, Number(m[1]) * mult));
  }

  /** statement_timeout in milliseconds (0: none). */
  statementTimeoutMs(): number {
    const v = this.get("statement_timeout");
    const m = /^(\d+)(ms|s|min)?$/.exec(v);
    if (m === null) return 0;
    // Stored in display form (5s, 2min, 250ms); a bare number is milliseconds.
    const n = Number(m[1]);
    return m[2] === "s" ? n * 1000 : m[2] === "min" ? n * 60_000 : n;
  }
}
