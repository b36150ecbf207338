// Text input and output of date, timestamp and timestamptz, as Postgres does it with
// DateStyle = 'ISO, MDY' (its default): output `2024-01-02 03:04:05.123456+00`, ` BC` suffix for
// years ≤ 0; input accepts ISO 8601 (space or T), YYYYMMDD, MM/DD/YYYY, month names
// ("January 8, 1999", "8-Jan-1999"), 12-hour times with am/pm, zone suffixes (Z, ±HH[:MM[:SS]],
// UTC, IANA names), BC/AD, and the special words infinity, -infinity, epoch, now, today,
// tomorrow, yesterday. Fractional seconds beyond microseconds round to the nearest microsecond.

import { PgError } from "../../../../common/errors.ts";
import {
  DATE_DAYS_MAX, DATE_DAYS_MIN, TIMESTAMP_MICROS_MAX, TIMESTAMP_MICROS_MIN,
  civilFromDays, daysFromCivil, daysInMonth, splitMicros,
} from "./calendar.ts";
import type { EvalContext } from "./context.ts";
import {
  DATE_INFINITY, DATE_NEG_INFINITY, MICROS_PER_DAY, MICROS_PER_HOUR, MICROS_PER_MINUTE, MICROS_PER_SECOND,
  TIMESTAMP_INFINITY, TIMESTAMP_NEG_INFINITY,
} from "./datum.ts";
import { formatOffset, localToUtc, timeZoneFromSetting, type TimeZone } from "./timezone.ts";

type DateTimeKind = "date" | "timestamp" | "timestamptz";

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

interface Parsed {
  /** Local days since the epoch (before zone adjustment). */
  days: number;
  timeMicros: bigint;
  /** Explicit zone in the input: seconds east, or a zone to evaluate at the local time. */
  zone: number | TimeZone | null;
  special: "infinity" | "-infinity" | null;
}

function syntaxError(kind: DateTimeKind, text: string): PgError {
  const label = kind === "timestamptz" ? "timestamp with time zone" : kind === "timestamp" ? "timestamp" : "date";
  return new PgError("invalid_datetime_format", `invalid input syntax for type ${label}: "${text}"`);
}

function fieldRangeError(text: string): PgError {
  return new PgError("datetime_field_overflow", `date/time field value out of range: "${text}"`);
}

function monthIndex(name: string): number {
  const i = MONTHS.indexOf(name.slice(0, 3));
  if (i < 0) return -1;
  const full = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"][i]!;
  return full.startsWith(name) || name === "sept" ? i + 1 : -1;
}

function parseDateTime(text: string, kind: DateTimeKind, ctx: Pick<EvalContext, "timeZone" | "transactionTimestamp">): Parsed {
  const src = text.trim().toLowerCase();
  switch (src) {
    case "infinity":
    case "+infinity":
      return { days: 0, timeMicros: 0n, zone: null, special: "infinity" };
    case "-infinity":
      return { days: 0, timeMicros: 0n, zone: null, special: "-infinity" };
    case "epoch":
      return { days: 0, timeMicros: 0n, zone: 0, special: null };
    case "now": {
      const { days, timeMicros } = splitMicros(ctx.transactionTimestamp);
      return { days, timeMicros, zone: 0, special: null };
    }
    case "today":
    case "tomorrow":
    case "yesterday": {
      const local = ctx.transactionTimestamp + BigInt(ctx.timeZone.offsetAtUtc(ctx.transactionTimestamp)) * MICROS_PER_SECOND;
      const days = splitMicros(local).days + (src === "tomorrow" ? 1 : src === "yesterday" ? -1 : 0);
      return { days, timeMicros: 0n, zone: null, special: null };
    }
  }
  let rest = src;
  let year: number;
  let month: number;
  let day: number;
  let m: RegExpExecArray | null;
  if ((m = /^(\d+)-(\d{1,2})-(\d{1,2})/.exec(rest)) !== null) {
    [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  } else if ((m = /^(\d{4})(\d{2})(\d{2})(?![\d:])/.exec(rest)) !== null) {
    [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  } else if ((m = /^(\d{1,2})\/(\d{1,2})\/(\d+)/.exec(rest)) !== null) {
    [month, day, year] = [Number(m[1]), Number(m[2]), Number(m[3])];
  } else if ((m = /^([a-z]+)\.?\s+(\d{1,2}),?\s+(\d+)/.exec(rest)) !== null) {
    [month, day, year] = [monthIndex(m[1]!), Number(m[2]), Number(m[3])];
  } else if ((m = /^(\d{1,2})[-\s]([a-z]+)[-\s](\d+)/.exec(rest)) !== null) {
    [day, month, year] = [Number(m[1]), monthIndex(m[2]!), Number(m[3])];
  } else {
    throw syntaxError(kind, text);
  }
  if (month < 0) throw syntaxError(kind, text);
  rest = rest.slice(m[0].length);

  let timeMicros = 0n;
  const t = /^(?:t|\s+)(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d*))?)?(?:\s*(am|pm)(?![a-z]))?/.exec(rest);
  if (t !== null) {
    let hour = Number(t[1]);
    const minute = Number(t[2]);
    const second = t[3] === undefined ? 0 : Number(t[3]);
    if (t[5] !== undefined) {
      if (hour < 1 || hour > 12) throw fieldRangeError(text);
      hour = (hour % 12) + (t[5] === "pm" ? 12 : 0);
    }
    // 24:00:00 is allowed (it means the next midnight); 60 seconds rolls into the next minute.
    if (hour > 24 || minute > 59 || second > 60) throw fieldRangeError(text);
    const frac = fractionMicros(t[4] ?? "");
    timeMicros = BigInt(hour) * MICROS_PER_HOUR + BigInt(minute) * MICROS_PER_MINUTE + BigInt(second) * MICROS_PER_SECOND + frac;
    if (hour === 24 && timeMicros !== 24n * MICROS_PER_HOUR) throw fieldRangeError(text);
    rest = rest.slice(t[0].length);
  }

  let zone: number | TimeZone | null = null;
  const z = /^\s*(z|utc|gmt|[+-]\d{1,2}(?::?\d{2}(?::?\d{2})?)?|[a-z_]+\/[a-z_/+-]+)(?=\s|$)/.exec(rest);
  if (z !== null) {
    const zs = z[1]!;
    if (zs === "z" || zs === "utc" || zs === "gmt") zone = 0;
    else if (zs[0] === "+" || zs[0] === "-") {
      const d = /^([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?$/.exec(zs)!;
      const secs = Number(d[2]) * 3600 + Number(d[3] ?? 0) * 60 + Number(d[4] ?? 0);
      if (Number(d[2]) > 15 || Number(d[3] ?? 0) > 59) throw fieldRangeError(text);
      zone = d[1] === "-" ? -secs : secs;
    } else {
      // Keep the zone name's original spelling for Intl.
      const start = text.toLowerCase().indexOf(zs);
      try {
        zone = timeZoneFromSetting(text.slice(start, start + zs.length));
      } catch {
        throw new PgError("invalid_parameter_value", `time zone "${text.slice(start, start + zs.length)}" not recognized`);
      }
    }
    rest = rest.slice(z[0].length);
  }
  const era = /^\s*(bc|ad)?\s*$/.exec(rest);
  if (era === null) throw syntaxError(kind, text);
  if (era[1] === "bc") {
    if (year < 1) throw syntaxError(kind, text);
    year = 1 - year;
  } else if (year === 0) {
    throw syntaxError(kind, text);
  }
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) throw fieldRangeError(text);
  return { days: daysFromCivil(year, month, day), timeMicros, zone, special: null };
}

/**
 * Digits after the point → microseconds. Postgres reads the fraction as a double and rounds
 * with rint() (half to even, after the binary rounding), so .1234565 becomes .123456.
 */
function fractionMicros(digits: string): bigint {
  if (digits === "") return 0n;
  if (digits.length <= 6) return BigInt(digits.padEnd(6, "0"));
  return BigInt(rint(Number(`0.${digits}`) * 1e6));
}

/** C's rint(): round to nearest, ties to even. */
export function rint(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function parseDate(text: string, ctx: Pick<EvalContext, "timeZone" | "transactionTimestamp">): number {
  const p = parseDateTime(text, "date", ctx);
  if (p.special === "infinity") return DATE_INFINITY;
  if (p.special === "-infinity") return DATE_NEG_INFINITY;
  let days = p.days;
  if (p.zone !== null && text.trim().toLowerCase() === "now") {
    // 'now'::date is the current date in the session's zone.
    const local = BigInt(days) * MICROS_PER_DAY + p.timeMicros + BigInt(ctx.timeZone.offsetAtUtc(BigInt(days) * MICROS_PER_DAY + p.timeMicros)) * MICROS_PER_SECOND;
    days = splitMicros(local).days;
  }
  if (days < DATE_DAYS_MIN || days > DATE_DAYS_MAX) {
    throw new PgError("datetime_field_overflow", `date out of range: "${text}"`);
  }
  return days;
}

export function parseTimestamp(text: string, withTimeZone: boolean, ctx: Pick<EvalContext, "timeZone" | "transactionTimestamp">): bigint {
  const p = parseDateTime(text, withTimeZone ? "timestamptz" : "timestamp", ctx);
  if (p.special === "infinity") return TIMESTAMP_INFINITY;
  if (p.special === "-infinity") return TIMESTAMP_NEG_INFINITY;
  const local = BigInt(p.days) * MICROS_PER_DAY + p.timeMicros;
  let micros: bigint;
  const word = text.trim().toLowerCase();
  if (withTimeZone) {
    if (typeof p.zone === "number") micros = local - BigInt(p.zone) * MICROS_PER_SECOND;
    else micros = localToUtc(local, p.zone ?? ctx.timeZone);
  } else if (word === "now") {
    // 'now'::timestamp is the session-local wall clock.
    micros = local + BigInt(ctx.timeZone.offsetAtUtc(local)) * MICROS_PER_SECOND;
  } else {
    micros = local; // a zone in timestamp-without-zone input is ignored, as in Postgres
  }
  if (micros < TIMESTAMP_MICROS_MIN || micros > TIMESTAMP_MICROS_MAX) {
    throw new PgError("datetime_field_overflow", `timestamp out of range: "${text}"`);
  }
  return micros;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

function formatYmd(days: number): { ymd: string; bc: boolean } {
  const c = civilFromDays(days);
  const bc = c.year <= 0;
  const y = bc ? 1 - c.year : c.year;
  return { ymd: `${pad(y, 4)}-${pad(c.month, 2)}-${pad(c.day, 2)}`, bc };
}

export function formatDate(days: number): string {
  if (days === DATE_INFINITY) return "infinity";
  if (days === DATE_NEG_INFINITY) return "-infinity";
  const { ymd, bc } = formatYmd(days);
  return bc ? `${ymd} BC` : ymd;
}

/** HH:MM:SS[.ffffff] with trailing fractional zeros removed, as Postgres prints times. */
export function formatTimeOfDay(timeMicros: bigint): string {
  const secs = timeMicros / MICROS_PER_SECOND;
  const frac = timeMicros % MICROS_PER_SECOND;
  const h = Number(secs / 3600n);
  const mi = Number((secs / 60n) % 60n);
  const s = Number(secs % 60n);
  let out = `${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}`;
  if (frac !== 0n) out += `.${frac.toString().padStart(6, "0").replace(/0+$/, "")}`;
  return out;
}

/** timestamp output: `2024-01-02 03:04:05.123456`. */
export function formatTimestamp(micros: bigint): string {
  if (micros === TIMESTAMP_INFINITY) return "infinity";
  if (micros === TIMESTAMP_NEG_INFINITY) return "-infinity";
  const { days, timeMicros } = splitMicros(micros);
  const { ymd, bc } = formatYmd(days);
  return `${ymd} ${formatTimeOfDay(timeMicros)}${bc ? " BC" : ""}`;
}

/** timestamptz output in the session zone: `2024-01-02 03:04:05+00`, `… 08:34:05+05:30`. */
export function formatTimestamptz(micros: bigint, zone: TimeZone): string {
  if (micros === TIMESTAMP_INFINITY) return "infinity";
  if (micros === TIMESTAMP_NEG_INFINITY) return "-infinity";
  const offset = zone.offsetAtUtc(micros);
  const { days, timeMicros } = splitMicros(micros + BigInt(offset) * MICROS_PER_SECOND);
  const { ymd, bc } = formatYmd(days);
  return `${ymd} ${formatTimeOfDay(timeMicros)}${formatOffset(offset)}${bc ? " BC" : ""}`;
}

/** Local wall-clock micros of a timestamptz in a zone (timestamptz → timestamp). */
export function utcToLocal(micros: bigint, zone: TimeZone): bigint {
  if (micros === TIMESTAMP_INFINITY || micros === TIMESTAMP_NEG_INFINITY) return micros;
  return micros + BigInt(zone.offsetAtUtc(micros)) * MICROS_PER_SECOND;
}

/** timestamp (local) → timestamptz in a zone. */
export function localToTimestamptz(micros: bigint, zone: TimeZone): bigint {
  if (micros === TIMESTAMP_INFINITY || micros === TIMESTAMP_NEG_INFINITY) return micros;
  return localToUtc(micros, zone);
}
