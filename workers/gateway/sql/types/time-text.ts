// Text input and output of `time` and `timetz` (time with time zone), and timetz ordering, as
// PostgreSQL 15 does them with DateStyle ISO:
//   output  `13:45:00`, `13:45:00.5`, `13:45:00+02`, `13:45:00-03:30`;
//   input   HH:MM[:SS[.frac]] with optional am/pm, an optional leading date (ignored, as time_in
//           ignores it), an optional zone suffix (Z, UTC, GMT, ±HH[[:]MM[[:]SS]], an IANA name);
//           `now` and `allballs`. `24:00:00` is a valid time. A time input with a zone ignores the
//           zone; a timetz input without one takes the session zone's offset at the transaction's
//           start (Postgres uses the current date to resolve it too).
// timetz compares by the instant in UTC first, then by offset (the larger offset east sorts
// first, as Postgres compares its seconds-west field), so 12:00+01 and 11:00+00 are different
// values that sort next to each other.

import { PgError } from "../../../../common/errors.ts";
import type { EvalContext } from "./context.ts";
import { rint } from "./datetime-text.ts";
import { MICROS_PER_DAY, MICROS_PER_HOUR, MICROS_PER_MINUTE, MICROS_PER_SECOND, TimeTz } from "./datum.ts";
import { formatOffset, timeZoneFromSetting, type TimeZone } from "./timezone.ts";

/** Postgres's TZDISP_LIMIT: a UTC offset is within ±15:59:59. */
export const TIME_ZONE_OFFSET_SECONDS_MAX = 15 * 3600 + 59 * 60 + 59;

type TimeKind = "time" | "timetz";

function syntaxError(kind: TimeKind, text: string): PgError {
  return new PgError("invalid_datetime_format", `invalid input syntax for type ${kind === "time" ? "time" : "time with time zone"}: "${text}"`);
}

function fieldRangeError(text: string): PgError {
  return new PgError("datetime_field_overflow", `date/time field value out of range: "${text}"`);
}

function fractionMicros(digits: string): bigint {
  if (digits === "") return 0n;
  if (digits.length <= 6) return BigInt(digits.padEnd(6, "0"));
  return BigInt(rint(Number(`0.${digits}`) * 1e6));
}

interface ParsedTime {
  micros: bigint;
  /** Seconds east, a zone to evaluate, or null when the input named none. */
  zone: number | TimeZone | null;
}

function parseTimeText(text: string, kind: TimeKind, ctx: Pick<EvalContext, "timeZone" | "transactionTimestamp">): ParsedTime {
  const src = text.trim().toLowerCase();
  if (src === "allballs") return { micros: 0n, zone: 0 };
  if (src === "now") {
    const offset = ctx.timeZone.offsetAtUtc(ctx.transactionTimestamp);
    const local = ctx.transactionTimestamp + BigInt(offset) * MICROS_PER_SECOND;
    return { micros: ((local % MICROS_PER_DAY) + MICROS_PER_DAY) % MICROS_PER_DAY, zone: offset };
  }
  let rest = src;
  // A leading date is accepted and ignored (time_in reads a full date-time and keeps the time).
  const date = /^(\d+-\d{1,2}-\d{1,2}|\d{1,2}\/\d{1,2}\/\d+)(?:t|\s+)(?=\d)/.exec(rest);
  if (date !== null) rest = rest.slice(date[0].length);
  const t = /^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d*))?)?(?:\s*(am|pm)(?![a-z]))?/.exec(rest);
  if (t === null) throw syntaxError(kind, text);
  let hour = Number(t[1]);
  const minute = Number(t[2]);
  const second = t[3] === undefined ? 0 : Number(t[3]);
  if (t[5] !== undefined) {
    if (hour < 1 || hour > 12) throw fieldRangeError(text);
    hour = (hour % 12) + (t[5] === "pm" ? 12 : 0);
  }
  if (hour > 24 || minute > 59 || second > 60) throw fieldRangeError(text);
  const micros = BigInt(hour) * MICROS_PER_HOUR + BigInt(minute) * MICROS_PER_MINUTE + BigInt(second) * MICROS_PER_SECOND + fractionMicros(t[4] ?? "");
  if (micros > MICROS_PER_DAY) throw fieldRangeError(text);
  rest = rest.slice(t[0].length);

  let zone: number | TimeZone | null = null;
  const z = /^\s*(z|utc|gmt|[+-]\d{1,2}(?::?\d{2}(?::?\d{2})?)?|[a-z_]+\/[a-z_/+-]+)\s*$/.exec(rest);
  if (z !== null) {
    const zs = z[1]!;
    if (zs === "z" || zs === "utc" || zs === "gmt") zone = 0;
    else if (zs[0] === "+" || zs[0] === "-") {
      const d = /^([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?$/.exec(zs)!;
      if (Number(d[3] ?? 0) > 59 || Number(d[4] ?? 0) > 59) throw fieldRangeError(text);
      if (Number(d[2]) > 15) throw new PgError("invalid_time_zone_displacement_value", `time zone displacement out of range: "${text}"`);
      const secs = Number(d[2]) * 3600 + Number(d[3] ?? 0) * 60 + Number(d[4] ?? 0);
      zone = d[1] === "-" ? -secs : secs;
    } else {
      const start = text.toLowerCase().indexOf(zs);
      const name = text.slice(start, start + zs.length);
      try {
        zone = timeZoneFromSetting(name);
      } catch {
        throw new PgError("invalid_parameter_value", `time zone "${name}" not recognized`);
      }
    }
  } else if (rest.trim() !== "") {
    throw syntaxError(kind, text);
  }
  return { micros, zone };
}

/** time_in. */
export function parseTime(text: string, ctx: Pick<EvalContext, "timeZone" | "transactionTimestamp">): bigint {
  return parseTimeText(text, "time", ctx).micros;
}

/** timetz_in: a zone named by name takes its offset at the transaction's start. */
export function parseTimeTz(text: string, ctx: Pick<EvalContext, "timeZone" | "transactionTimestamp">): TimeTz {
  const p = parseTimeText(text, "timetz", ctx);
  return new TimeTz(p.micros, offsetOf(p.zone ?? ctx.timeZone, ctx.transactionTimestamp));
}

function offsetOf(zone: number | TimeZone, atUtcMicros: bigint): number {
  return typeof zone === "number" ? zone : zone.offsetAtUtc(atUtcMicros);
}

/** time_out: HH:MM:SS[.ffffff], trailing fractional zeros removed. */
export function formatTime(micros: bigint): string {
  const secs = micros / MICROS_PER_SECOND;
  const frac = micros % MICROS_PER_SECOND;
  const two = (n: bigint) => n.toString().padStart(2, "0");
  let out = `${two(secs / 3600n)}:${two((secs / 60n) % 60n)}:${two(secs % 60n)}`;
  if (frac !== 0n) out += `.${frac.toString().padStart(6, "0").replace(/0+$/, "")}`;
  return out;
}

/** timetz_out: the time, then its offset as `+HH`, `+HH:MM` or `+HH:MM:SS`. */
export function formatTimeTz(v: TimeTz): string {
  return formatTime(v.micros) + formatOffset(v.offsetSeconds);
}

/** timetz_cmp: by UTC instant of the day, then by offset (larger east first). */
export function compareTimeTz(a: TimeTz, b: TimeTz): number {
  const ua = a.utcMicros();
  const ub = b.utcMicros();
  if (ua !== ub) return ua < ub ? -1 : 1;
  if (a.offsetSeconds !== b.offsetSeconds) return a.offsetSeconds > b.offsetSeconds ? -1 : 1;
  return 0;
}

/** A time of day wrapped into 0 .. 24h (time arithmetic wraps around midnight, as in Postgres). */
export function wrapTimeOfDay(micros: bigint): bigint {
  const m = micros % MICROS_PER_DAY;
  return m < 0n ? m + MICROS_PER_DAY : m;
}

/** time(p) / timetz(p): round the fraction to p digits (AdjustTimeForTypmod). */
export function roundTimeMicros(micros: bigint, precision: number): bigint {
  if (precision < 0 || precision >= 6) return micros;
  const unit = 10n ** BigInt(6 - precision);
  const half = unit / 2n;
  return ((micros + half) / unit) * unit;
}
