// Session time zones: what `SET TIME ZONE` / the TimeZone setting resolves to.
//
// A TimeZone answers one question, the UTC offset in force at an instant. Fixed offsets and UTC
// are computed directly; IANA names ("Europe/Berlin") go through Intl.DateTimeFormat, which both
// Node and workerd carry with full tz data, so there is no zone table of our own to keep current.

import { PgError } from "../../../../common/errors.ts";
import { MICROS_PER_SECOND } from "./datum.ts";

export interface TimeZone {
  /** The setting as SHOW TimeZone prints it. */
  readonly name: string;
  /** Seconds east of UTC in force at the instant `utcMicros` (microseconds since the epoch). */
  offsetAtUtc(utcMicros: bigint): number;
}

class FixedZone implements TimeZone {
  readonly name: string;
  readonly offsetSeconds: number;
  constructor(name: string, offsetSeconds: number) {
    this.name = name;
    this.offsetSeconds = offsetSeconds;
  }
  offsetAtUtc(): number {
    return this.offsetSeconds;
  }
}

export const UTC: TimeZone = new FixedZone("UTC", 0);

/** A zone at a fixed number of seconds east of UTC (SET TIME ZONE 5.5, SET TIME ZONE INTERVAL …). */
export function fixedOffsetZone(offsetSecondsEast: number, name?: string): TimeZone {
  return new FixedZone(name ?? posixName(offsetSecondsEast), offsetSecondsEast);
}

/** Postgres shows a numeric zone as a POSIX spec: <+05:30>-05:30 for 5.5 hours east, <-03>+03. */
function posixName(east: number): string {
  return `<${formatOffset(east)}>${formatOffset(-east)}`;
}

// Intl reads the platform's tz database; instants are rounded to the second for the lookup,
// since no zone changes offset inside a second.
class IanaZone implements TimeZone {
  readonly name: string;
  private readonly format: Intl.DateTimeFormat;
  constructor(name: string, format: Intl.DateTimeFormat) {
    this.name = name;
    this.format = format;
  }
  offsetAtUtc(utcMicros: bigint): number {
    let ms = Number(utcMicros / 1000n);
    // Intl's Date range is ±8.64e15 ms; beyond it, use the offset at the nearest representable instant.
    ms = Math.max(-8.64e15, Math.min(8.64e15, ms));
    const parts = this.format.formatToParts(new Date(ms));
    const tzPart = parts.find((p) => p.type === "timeZoneName")?.value ?? "GMT";
    const m = /^GMT(?:([+-])(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?)?$/.exec(tzPart);
    if (m === null || m[1] === undefined) return 0;
    const secs = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
    return m[1] === "-" ? -secs : secs;
  }
}

const ianaCache = new Map<string, TimeZone>();

/**
 * Resolves a TimeZone setting value as Postgres does: UTC/GMT/Z, IANA names (case-insensitive
 * lookup through Intl), and POSIX-style offsets, whose sign is inverted ('+05:30' and 'UTC+3' are
 * WEST of Greenwich, as in Postgres). Throws 22023 for names it cannot resolve.
 */
export function timeZoneFromSetting(setting: string): TimeZone {
  const s = setting.trim();
  const upper = s.toUpperCase();
  if (upper === "UTC" || upper === "GMT" || upper === "Z" || upper === "ZULU" || upper === "UCT" || upper === "ETC/UTC") {
    return new FixedZone(s === "" ? "UTC" : s, 0);
  }
  const posix = /^(?:(?:UTC|GMT)\s*)?([+-]?)(\d{1,2})(?::?(\d{2}))?(?::(\d{2}))?$/i.exec(s);
  if (posix !== null) {
    const secs = Number(posix[2]) * 3600 + Number(posix[3] ?? 0) * 60 + Number(posix[4] ?? 0);
    if (secs <= 15 * 3600) return new FixedZone(s, posix[1] === "-" ? secs : -secs);
  }
  const cached = ianaCache.get(s.toLowerCase());
  if (cached !== undefined) return cached;
  try {
    const format = new Intl.DateTimeFormat("en-US", { timeZone: s, timeZoneName: "longOffset", year: "numeric" });
    const zone = new IanaZone(s, format);
    ianaCache.set(s.toLowerCase(), zone);
    return zone;
  } catch {
    throw new PgError("invalid_parameter_value", `invalid value for parameter "TimeZone": "${setting}"`);
  }
}

/**
 * Converts a local wall-clock time in `zone` to UTC. Around a transition Postgres resolves a local
 * time that occurs twice (clocks turned back) to the standard-time reading (the smaller offset),
 * and one that never occurs (clocks turned forward) with the offset in force before the change,
 * which is also the smaller one; so: the smallest offset that is consistent, else the smallest.
 */
export function localToUtc(localMicros: bigint, zone: TimeZone): bigint {
  if (zone instanceof FixedZone) return localMicros - BigInt(zone.offsetSeconds) * MICROS_PER_SECOND;
  const day = 86_400n * MICROS_PER_SECOND;
  const before = zone.offsetAtUtc(localMicros - day);
  const after = zone.offsetAtUtc(localMicros + day);
  if (before === after) {
    const t = localMicros - BigInt(before) * MICROS_PER_SECOND;
    const actual = zone.offsetAtUtc(t);
    if (actual === before) return t;
    return localMicros - BigInt(Math.min(actual, before)) * MICROS_PER_SECOND;
  }
  const valid = [before, after].filter((o) => zone.offsetAtUtc(localMicros - BigInt(o) * MICROS_PER_SECOND) === o);
  const chosen = valid.length > 0 ? Math.min(...valid) : Math.min(before, after);
  return localMicros - BigInt(chosen) * MICROS_PER_SECOND;
}

/** `+05:30`, `-03`, `+00:19:32` as Postgres prints a UTC offset; `alwaysMinutes` forces :MM. */
export function formatOffset(secondsEast: number, alwaysMinutes = false): string {
  const sign = secondsEast < 0 ? "-" : "+";
  const a = Math.abs(secondsEast);
  const h = Math.floor(a / 3600);
  const m = Math.floor((a % 3600) / 60);
  const s = a % 60;
  let out = `${sign}${String(h).padStart(2, "0")}`;
  if (m !== 0 || s !== 0 || alwaysMinutes) out += `:${String(m).padStart(2, "0")}`;
  if (s !== 0) out += `:${String(s).padStart(2, "0")}`;
  return out;
}
