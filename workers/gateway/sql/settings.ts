// Session settings: SET / SHOW / RESET, current_setting(), and the values reported to clients.
// Names are case-insensitive, as in Postgres; unknown names fail with 42704 like Postgres does,
// except custom "prefix.name" settings, which Postgres accepts.
import { PgError } from "../../../common/errors.ts";
import { formatUnitSetting, MEMORY_KB, parseUnitSetting, TIME_MS, type UnitSpec } from "./setting-units.ts";
import { timeZoneFromSetting } from "./types/timezone.ts";
import { pgEncodingName, supportedEncoding } from "./client-encoding.ts";

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
  // What pg_dump and its restore scripts set. Each is accepted with PostgreSQL's value check and
  // means here what it means in Postgres where that applies: scans always start at the beginning
  // of a table (nothing to synchronize), there are no function bodies to check, no xml type, one
  // tablespace (pg_default, '' for it) and one table access method (heap).
  synchronize_seqscans: "on",
  check_function_bodies: "on",
  xmloption: "content",
  default_tablespace: "",
  default_table_access_method: "heap",
};

/** Settings with a fixed set of values (lower case), checked as Postgres checks them. */
const CHOICES: Record<string, readonly string[]> = {
  synchronize_seqscans: ["on", "off"],
  check_function_bodies: ["on", "off"],
  xmloption: ["content", "document"],
  default_tablespace: ["", "pg_default"],
  default_table_access_method: ["heap"],
};

/** Settings with units: stored as SHOW prints them (PG 15's form), validated as PG 15 does. */
const UNIT_SETTINGS: Record<string, UnitSpec> = {
  statement_timeout: TIME_MS,
  lock_timeout: TIME_MS,
  idle_in_transaction_session_timeout: TIME_MS,
  work_mem: MEMORY_KB,
};

/** How SHOW prints a name (Postgres keeps the canonical capitalisation for a few). */
const DISPLAY: Record<string, string> = { datestyle: "DateStyle", intervalstyle: "IntervalStyle", timezone: "TimeZone" };

/** A boolean setting's value in SHOW's form (on/off from any of Postgres's spellings), else the value itself. */
function checkChoice(name: string, value: string, choices: readonly string[]): string {
  const lower = value.toLowerCase();
  if (choices.includes("on")) {
    if (["on", "true", "yes", "1", "t", "y"].includes(lower)) return "on";
    if (["off", "false", "no", "0", "f", "n"].includes(lower)) return "off";
    throw new PgError("invalid_parameter_value", `parameter "${name}" requires a Boolean value`);
  }
  if (choices.includes(lower)) return lower;
  if (name === "default_tablespace") throw new PgError("invalid_parameter_value", `invalid value for parameter "${name}": "${value}"`, { detail: `Tablespace "${value}" does not exist.` });
  if (name === "default_table_access_method") {
    if (lower === "btree" || lower === "hash") throw new PgError("invalid_parameter_value", `access method "${lower}" is not of type TABLE`);
    throw new PgError("invalid_parameter_value", `invalid value for parameter "${name}": "${value}"`, { detail: `Table access method "${value}" does not exist.` });
  }
  throw new PgError("invalid_parameter_value", `invalid value for parameter "${name}": "${value}"`, { hint: `Available values: ${choices.join(", ")}.` });
}

export class Settings {
  private readonly values = new Map<string, string>();
  private readonly initial = new Map<string, string>();
  /** Names the client set at startup and names SET in this session: pg_settings.source. */
  private readonly fromClient = new Set<string>();
  private readonly fromSession = new Set<string>();
  /** searchPath() of the current search_path value (recomputed when the setting changes). */
  private searchPathCache: { raw: string; user: string; path: string[] } | null = null;

  /**
   * `initial`: startup parameters (they become what RESET returns to). `statementTimeoutMsDefault`:
   * the tenant's statement_timeout when the startup parameters set none (Postgres has none).
   */
  constructor(initial: Record<string, string> = {}, statementTimeoutMsDefault?: number) {
    for (const [k, v] of Object.entries(DEFAULTS)) this.values.set(k, v);
    if (statementTimeoutMsDefault !== undefined) this.values.set("statement_timeout", formatUnitSetting(statementTimeoutMsDefault, TIME_MS));
    for (const [k, v] of Object.entries(initial)) {
      const n = this.norm(k);
      const spec = UNIT_SETTINGS[n];
      // client_encoding is checked here because a wrong one garbles every message after startup.
      const value = n === "client_encoding" ? clientEncodingSetting(v) : v;
      this.values.set(n, spec === undefined ? value : formatUnitSetting(parseUnitSetting(n, v, spec), spec));
      this.fromClient.add(n);
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
    let v = value;
    if (n === "client_encoding") v = clientEncodingSetting(value);
    const spec = UNIT_SETTINGS[n];
    if (spec !== undefined) v = formatUnitSetting(parseUnitSetting(n, value, spec), spec);
    if (n === "timezone" && ["utc", "gmt", "z", "zulu"].includes(value.toLowerCase())) v = "UTC";
    if (n === "timezone") {
      try {
        timeZoneFromSetting(v);
      } catch {
        throw new PgError("invalid_parameter_value", `invalid value for parameter "TimeZone": "${value}"`);
      }
    }
    if (n === "transaction_isolation" || n === "default_transaction_isolation") v = value.toLowerCase();
    const choices = CHOICES[n];
    if (choices !== undefined) v = checkChoice(n, value, choices);
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
   * Sessions may lower it; `capBytes` (the isolate-safe maximum) bounds it from above.
   */
  workMemBytes(capBytes: number): number {
    return Math.min(capBytes, this.unitValue("work_mem") * 1024);
  }

  /**
   * The statement timeout in force, in ms: statement_timeout, where 0 (Postgres: none) and any
   * value above `maxMs` (the operator's bound) mean `maxMs`.
   */
  statementTimeoutMs(maxMs: number): number {
    const ms = this.unitValue("statement_timeout");
    return ms === 0 ? maxMs : Math.min(ms, maxMs);
  }

  /**
   * idle_in_transaction_session_timeout in ms, 0 for none (Postgres's meaning): how long a session
   * may sit idle inside an open transaction before the connection that holds it ends it. The
   * session only stores it; the pgwire connection enforces it.
   */
  idleInTransactionTimeoutMs(): number {
    return this.unitValue("idle_in_transaction_session_timeout");
  }

  /** A unit setting's value in its base unit (stored values are always valid: set() checked them). */
  private unitValue(name: string): number {
    return parseUnitSetting(name, this.get(name), UNIT_SETTINGS[name]!);
  }
}

/** client_encoding's check (check_client_encoding): a name Postgres knows and Warren converts → its canonical form. */
function clientEncodingSetting(value: string): string {
  const name = pgEncodingName(value);
  if (name === undefined) throw new PgError("invalid_parameter_value", `invalid value for parameter "client_encoding": "${value}"`);
  if (name === "MULE_INTERNAL") {
    throw new PgError("feature_not_supported", `invalid value for parameter "client_encoding": "${value}"`, { detail: "Conversion between MULE_INTERNAL and UTF8 is not supported." });
  }
  return supportedEncoding(name, "client_encoding");
}
