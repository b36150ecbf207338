// Date/time functions: now() and friends (from the evaluation context), date_trunc, extract /
// date_part, age, make_date, make_timestamp, make_interval, to_timestamp, justify_*, isfinite,
// and to_char for date/time values. Zone-dependent results (timestamptz) use the session's zone.

import { PgError } from "../../../../common/errors.ts";
import { civilFromDays, dayOfWeek, daysFromCivil, daysInMonth, splitMicros } from "../types/calendar.ts";
import type { EvalContext } from "../types/context.ts";
import {
  MICROS_PER_DAY, MICROS_PER_SECOND, TIMESTAMP_INFINITY, TIMESTAMP_NEG_INFINITY, interval, isFiniteTimestamp, type Datum, type Interval,
} from "../types/datum.ts";
import { localToTimestamptz, utcToLocal } from "../types/datetime-text.ts";
import { Decimal, Numeric } from "../types/numeric.ts";
import { fixedOffsetZone, formatOffset, timeZoneFromSetting, type TimeZone } from "../types/timezone.ts";
import { Types, type SqlType } from "../types/type.ts";
import { fn } from "./define.ts";
import { ageBetween } from "./interval-math.ts";
import { toCharDateTime } from "./to-char.ts";
import type { Candidate } from "./resolve.ts";

const TS = Types.timestamp;
const TSTZ = Types.timestamptz;
const IV = Types.interval;
const T = Types.text;

function badUnit(unit: string, t: string): PgError {
  return new PgError("feature_not_supported", `unit "${unit}" not supported for type ${t}`);
}

function unknownUnit(unit: string, t: string): PgError {
  return new PgError("invalid_parameter_value", `unit "${unit}" not recognized for type ${t}`);
}

const UNIT_ALIASES: Record<string, string> = {
  microsecond: "microseconds", microseconds: "microseconds", us: "microseconds", usec: "microseconds", usecs: "microseconds",
  millisecond: "milliseconds", milliseconds: "milliseconds", ms: "milliseconds", msec: "milliseconds", msecs: "milliseconds",
  second: "second", seconds: "second", sec: "second", secs: "second", s: "second",
  minute: "minute", minutes: "minute", min: "minute", mins: "minute", m: "minute",
  hour: "hour", hours: "hour", h: "hour", hr: "hour", hrs: "hour",
  day: "day", days: "day", d: "day", week: "week", weeks: "week", w: "week",
  month: "month", months: "month", mon: "month", mons: "month",
  quarter: "quarter", qtr: "quarter", year: "year", years: "year", y: "year", yr: "year", yrs: "year",
  decade: "decade", decades: "decade", century: "century", centuries: "century", millennium: "millennium", millennia: "millennium",
  dow: "dow", isodow: "isodow", doy: "doy", epoch: "epoch", isoyear: "isoyear", julian: "julian",
  timezone: "timezone", timezone_hour: "timezone_hour", timezone_minute: "timezone_minute",
};

function normalizeUnit(unit: string): string {
  const u = unit.trim().toLowerCase();
  return UNIT_ALIASES[u] ?? u;
}

/** ISO 8601 week number and ISO year of a day. */
function isoWeek(days: number): { week: number; year: number } {
  const isoDow = ((dayOfWeek(days) + 6) % 7) + 1; // Monday = 1
  const thursday = days + (4 - isoDow);
  const year = civilFromDays(thursday).year;
  const jan1 = daysFromCivil(year, 1, 1);
  return { week: Math.floor((thursday - jan1) / 7) + 1, year };
}

interface Fields {
  year: number; month: number; day: number; hour: number; minute: number; second: number; micros: number; days: number;
}

function fieldsOf(local: bigint): Fields {
  const { days, timeMicros } = splitMicros(local);
  const c = civilFromDays(days);
  const t = Number(timeMicros);
  return {
    year: c.year, month: c.month, day: c.day, days,
    hour: Math.floor(t / 3_600_000_000), minute: Math.floor(t / 60_000_000) % 60, second: Math.floor(t / 1_000_000) % 60, micros: t % 1_000_000,
  };
}

const num = (v: number | string, scale = 0): Numeric => Numeric.of(new Decimal(v), scale);

/** EXTRACT(unit FROM timestamp[tz]) as numeric, Postgres 14+ scales. `offset` is the zone offset (timestamptz). */
function extractTimestamp(unit: string, local: bigint, typeName: string, utc: bigint, offset: number | null): Numeric {
  const u = normalizeUnit(unit);
  if (!isFiniteTimestamp(local)) {
    const sign = local === TIMESTAMP_INFINITY ? 1 : -1;
    if (["epoch", "year", "decade", "century", "millennium", "julian", "isoyear"].includes(u)) return sign > 0 ? Numeric.Infinity : Numeric.NegativeInfinity;
    if (UNIT_ALIASES[u] === undefined) throw unknownUnit(unit, typeName);
    return null as unknown as Numeric;
  }
  const f = fieldsOf(local);
  const yearForCentury = f.year > 0 ? f.year : f.year - 1;
  switch (u) {
    case "microseconds": return num(f.second * 1_000_000 + f.micros);
    case "milliseconds": return num((f.second * 1_000_000 + f.micros) / 1000, 3);
    case "second": return num(f.second + f.micros / 1e6, 6);
    case "minute": return num(f.minute);
    case "hour": return num(f.hour);
    case "day": return num(f.day);
    case "month": return num(f.month);
    case "quarter": return num(Math.floor((f.month - 1) / 3) + 1);
    case "year": return num(f.year > 0 ? f.year : f.year - 1);
    case "decade": return num(Math.floor(f.year / 10));
    case "century": return num(yearForCentury > 0 ? Math.floor((yearForCentury + 99) / 100) : -Math.floor((99 - yearForCentury - 1) / 100));
    case "millennium": return num(yearForCentury > 0 ? Math.floor((yearForCentury + 999) / 1000) : -Math.floor((999 - yearForCentury - 1) / 1000));
    case "dow": return num(dayOfWeek(f.days));
    case "isodow": return num(((dayOfWeek(f.days) + 6) % 7) + 1);
    case "doy": return num(f.days - daysFromCivil(f.year, 1, 1) + 1);
    case "week": return num(isoWeek(f.days).week);
    case "isoyear": return num(isoWeek(f.days).year);
    case "epoch": return Numeric.of(new Decimal(utc.toString()).div(1_000_000), 6);
    case "julian": return Numeric.of(new Decimal(f.days + 2440588).plus(new Decimal(Number(splitMicros(local).timeMicros)).div(86_400_000_000)), 12).trunc(12);
    case "timezone": if (offset !== null) return num(offset); break;
    case "timezone_hour": if (offset !== null) return num(Math.trunc(offset / 3600)); break;
    case "timezone_minute": if (offset !== null) return num(Math.trunc((offset % 3600) / 60)); break;
    default: throw unknownUnit(unit, typeName);
  }
  throw badUnit(unit, typeName);
}

function extractDate(unit: string, days: number): Numeric {
  const u = normalizeUnit(unit);
  if (["microseconds", "milliseconds", "second", "minute", "hour", "timezone", "timezone_hour", "timezone_minute"].includes(u)) throw badUnit(unit, "date");
  if (!Number.isFinite(days)) {
    if (["epoch", "year", "decade", "century", "millennium", "julian", "isoyear"].includes(u)) return days > 0 ? Numeric.Infinity : Numeric.NegativeInfinity;
    return null as unknown as Numeric;
  }
  const micros = BigInt(days) * MICROS_PER_DAY;
  const r = extractTimestamp(unit, micros, "date", micros, null);
  return u === "epoch" ? r.round(0) : u === "julian" ? r.round(0) : r;
}

function extractInterval(unit: string, iv: Interval): Numeric {
  const u = normalizeUnit(unit);
  const micros = iv.micros;
  const secs = Number(micros % 60_000_000n) / 1e6;
  switch (u) {
    case "microseconds": return num(Number(micros % 60_000_000n));
    case "milliseconds": return num(Number(micros % 60_000_000n) / 1000, 3);
    case "second": return num(secs, 6);
    case "minute": return num(Number((micros / 60_000_000n) % 60n));
    case "hour": return num(Number(micros / 3_600_000_000n));
    case "day": return num(iv.days);
    case "month": return num(iv.months % 12);
    case "quarter": return num(Math.floor((iv.months % 12) / 3) + 1);
    case "year": return num(Math.trunc(iv.months / 12));
    case "decade": return num(Math.trunc(iv.months / 120));
    case "century": return num(Math.trunc(iv.months / 1200));
    case "millennium": return num(Math.trunc(iv.months / 12000));
    case "epoch": {
      const months = new Decimal(iv.months);
      const years = months.div(12).trunc();
      const secsTotal = years.times(365.25 * 86400).plus(months.minus(years.times(12)).times(30 * 86400)).plus(new Decimal(iv.days).times(86400)).plus(new Decimal(micros.toString()).div(1e6));
      return Numeric.of(secsTotal, 6);
    }
    default: throw UNIT_ALIASES[u] === undefined ? unknownUnit(unit, "interval") : badUnit(unit, "interval");
  }
}

/** date_trunc on a local timestamp. */
function truncLocal(unit: string, local: bigint, typeName: string): bigint {
  if (!isFiniteTimestamp(local)) return local;
  const f = fieldsOf(local);
  const day = (y: number, m: number, d: number): bigint => BigInt(daysFromCivil(y, m, d)) * MICROS_PER_DAY;
  const { days, timeMicros } = splitMicros(local);
  const base = BigInt(days) * MICROS_PER_DAY;
  switch (normalizeUnit(unit)) {
    case "microseconds": return local;
    case "milliseconds": return base + (timeMicros / 1000n) * 1000n;
    case "second": return base + (timeMicros / MICROS_PER_SECOND) * MICROS_PER_SECOND;
    case "minute": return base + (timeMicros / 60_000_000n) * 60_000_000n;
    case "hour": return base + (timeMicros / 3_600_000_000n) * 3_600_000_000n;
    case "day": return base;
    case "week": return BigInt(days - ((dayOfWeek(days) + 6) % 7)) * MICROS_PER_DAY;
    case "month": return day(f.year, f.month, 1);
    case "quarter": return day(f.year, Math.floor((f.month - 1) / 3) * 3 + 1, 1);
    case "year": return day(f.year, 1, 1);
    case "decade": return day(Math.floor(f.year / 10) * 10, 1, 1);
    case "century": return day(f.year > 0 ? Math.floor((f.year - 1) / 100) * 100 + 1 : -Math.floor(-f.year / 100) * 100 - 99, 1, 1);
    case "millennium": return day(f.year > 0 ? Math.floor((f.year - 1) / 1000) * 1000 + 1 : -Math.floor(-f.year / 1000) * 1000 - 999, 1, 1);
    default: throw unknownUnit(unit, typeName);
  }
}

function truncInterval(unit: string, iv: Interval): Interval {
  const m = iv.micros;
  switch (normalizeUnit(unit)) {
    case "microseconds": return iv;
    case "milliseconds": return interval(iv.months, iv.days, (m / 1000n) * 1000n);
    case "second": return interval(iv.months, iv.days, (m / MICROS_PER_SECOND) * MICROS_PER_SECOND);
    case "minute": return interval(iv.months, iv.days, (m / 60_000_000n) * 60_000_000n);
    case "hour": return interval(iv.months, iv.days, (m / 3_600_000_000n) * 3_600_000_000n);
    case "day": return interval(iv.months, iv.days, 0n);
    case "month": return interval(iv.months, 0, 0n);
    case "quarter": return interval(Math.trunc(iv.months / 3) * 3, 0, 0n);
    case "year": return interval(Math.trunc(iv.months / 12) * 12, 0, 0n);
    case "decade": return interval(Math.trunc(iv.months / 120) * 120, 0, 0n);
    case "century": return interval(Math.trunc(iv.months / 1200) * 1200, 0, 0n);
    case "millennium": return interval(Math.trunc(iv.months / 12000) * 12000, 0, 0n);
    case "week": throw new PgError("feature_not_supported", `unit "${unit}" not supported for type interval`, { detail: "Months usually have fractional weeks." });
    default: throw unknownUnit(unit, "interval");
  }
}

function localToday(ctx: EvalContext): number {
  return splitMicros(utcToLocal(ctx.transactionTimestamp, ctx.timeZone)).days;
}

function makeDate(y: number, m: number, d: number): number {
  const year = y < 0 ? y + 1 : y;
  if (y === 0 || m < 1 || m > 12 || d < 1 || d > daysInMonth(year, m)) {
    throw new PgError("datetime_field_overflow", `date field value out of range: ${y}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`);
  }
  return daysFromCivil(year, m, d);
}

function justifyHours(iv: Interval): Interval {
  const days = iv.micros / MICROS_PER_DAY;
  return interval(iv.months, iv.days + Number(days), iv.micros - days * MICROS_PER_DAY);
}

function justifyDays(iv: Interval): Interval {
  const months = Math.trunc(iv.days / 30);
  return interval(iv.months + months, iv.days - months * 30, iv.micros);
}

const dateTypeName = (t: SqlType): string => (t.oid === TSTZ.oid ? "timestamp with time zone" : "timestamp without time zone");

export const datetimeFunctions: Candidate[] = [
  ...["now", "current_timestamp", "transaction_timestamp"].map((name) => fn(name, [], TSTZ, (_a, ctx) => ctx.transactionTimestamp, { volatility: "stable" })),
  fn("statement_timestamp", [], TSTZ, (_a, ctx) => ctx.statementTimestamp, { volatility: "stable" }),
  fn("clock_timestamp", [], TSTZ, (_a, ctx) => ctx.clockTimestamp(), { volatility: "volatile" }),
  fn("timeofday", [], T, (_a, ctx) => new Date(Number(ctx.clockTimestamp() / 1000n)).toString(), { volatility: "volatile" }),
  fn("current_date", [], Types.date, (_a, ctx) => localToday(ctx), { volatility: "stable" }),
  fn("localtimestamp", [], TS, (_a, ctx) => utcToLocal(ctx.transactionTimestamp, ctx.timeZone), { volatility: "stable" }),
  fn("date_trunc", [T, TS], TS, ([u, ts]) => truncLocal(u as string, ts as bigint, "timestamp without time zone")),
  fn("date_trunc", [T, TSTZ], TSTZ, ([u, ts], ctx) => {
    const local = utcToLocal(ts as bigint, ctx.timeZone);
    return localToTimestamptz(truncLocal(u as string, local, "timestamp with time zone"), ctx.timeZone);
  }, { volatility: "stable" }),
  fn("date_trunc", [T, TSTZ, T], TSTZ, ([u, ts, zone]) => {
    const z = zoneOf(zone as string);
    return localToTimestamptz(truncLocal(u as string, utcToLocal(ts as bigint, z), "timestamp with time zone"), z);
  }),
  // x AT TIME ZONE z is timezone(z, x): a timestamptz becomes the wall-clock time in z, a
  // timestamp is read as wall-clock time in z. Zone names as SET TIME ZONE takes them ('+05' is
  // west of Greenwich, POSIX style); an interval is an offset east of UTC ('-03:00' is UTC-3).
  fn("timezone", [T, TSTZ], TS, ([z, ts]) => utcToLocal(ts as bigint, atZone(z as string))),
  fn("timezone", [T, TS], TSTZ, ([z, ts]) => localToTimestamptz(ts as bigint, atZone(z as string))),
  fn("timezone", [IV, TSTZ], TS, ([z, ts]) => utcToLocal(ts as bigint, intervalZone(z as Interval))),
  fn("timezone", [IV, TS], TSTZ, ([z, ts]) => localToTimestamptz(ts as bigint, intervalZone(z as Interval))),
  fn("date_trunc", [T, IV], IV, ([u, iv]) => truncInterval(u as string, iv as Interval)),
  fn("extract", [T, TS], Types.numeric, ([u, ts]) => extractTimestamp(u as string, ts as bigint, "timestamp without time zone", ts as bigint, null)),
  fn("extract", [T, TSTZ], Types.numeric, ([u, ts], ctx) => {
    const offset = isFiniteTimestamp(ts as bigint) ? ctx.timeZone.offsetAtUtc(ts as bigint) : 0;
    return extractTimestamp(u as string, utcToLocal(ts as bigint, ctx.timeZone), "timestamp with time zone", ts as bigint, offset);
  }, { volatility: "stable" }),
  fn("extract", [T, Types.date], Types.numeric, ([u, d]) => extractDate(u as string, d as number)),
  fn("extract", [T, IV], Types.numeric, ([u, iv]) => extractInterval(u as string, iv as Interval)),
  fn("date_part", [T, TS], Types.float8, ([u, ts]) => toFloat(extractTimestamp(u as string, ts as bigint, "timestamp without time zone", ts as bigint, null))),
  fn("date_part", [T, TSTZ], Types.float8, ([u, ts], ctx) => {
    const offset = isFiniteTimestamp(ts as bigint) ? ctx.timeZone.offsetAtUtc(ts as bigint) : 0;
    return toFloat(extractTimestamp(u as string, utcToLocal(ts as bigint, ctx.timeZone), "timestamp with time zone", ts as bigint, offset));
  }, { volatility: "stable" }),
  fn("date_part", [T, IV], Types.float8, ([u, iv]) => toFloat(extractInterval(u as string, iv as Interval))),
  fn("age", [TS, TS], IV, ([a, b]) => ageBetween(a as bigint, b as bigint)),
  fn("age", [TSTZ, TSTZ], IV, ([a, b], ctx) => ageBetween(utcToLocal(a as bigint, ctx.timeZone), utcToLocal(b as bigint, ctx.timeZone)), { volatility: "stable" }),
  fn("age", [TS], IV, ([a], ctx) => ageBetween(BigInt(localToday(ctx)) * MICROS_PER_DAY, a as bigint), { volatility: "stable" }),
  fn("age", [TSTZ], IV, ([a], ctx) => ageBetween(BigInt(localToday(ctx)) * MICROS_PER_DAY, utcToLocal(a as bigint, ctx.timeZone)), { volatility: "stable" }),
  fn("make_date", [Types.int4, Types.int4, Types.int4], Types.date, ([y, m, d]) => makeDate(y as number, m as number, d as number)),
  fn("make_timestamp", [Types.int4, Types.int4, Types.int4, Types.int4, Types.int4, Types.float8], TS, ([y, mo, d, h, mi, s]) =>
    makeTimestamp(y as number, mo as number, d as number, h as number, mi as number, s as number)),
  fn("make_timestamptz", [Types.int4, Types.int4, Types.int4, Types.int4, Types.int4, Types.float8], TSTZ, ([y, mo, d, h, mi, s], ctx) =>
    localToTimestamptz(makeTimestamp(y as number, mo as number, d as number, h as number, mi as number, s as number), ctx.timeZone), { volatility: "stable" }),
  fn("make_interval", [Types.int4, Types.int4, Types.int4, Types.int4, Types.int4, Types.int4, Types.float8], IV, ([y, mo, w, d, h, mi, s]) =>
    interval((y as number) * 12 + (mo as number), (w as number) * 7 + (d as number),
      BigInt(h as number) * 3_600_000_000n + BigInt(mi as number) * 60_000_000n + BigInt(Math.round((s as number) * 1e6)))),
  fn("to_timestamp", [Types.float8], TSTZ, ([s]) => {
    const x = s as number;
    if (Number.isNaN(x)) throw new PgError("invalid_parameter_value", "timestamp cannot be NaN");
    if (x === Infinity) return TIMESTAMP_INFINITY;
    if (x === -Infinity) return TIMESTAMP_NEG_INFINITY;
    return BigInt(Math.round(x * 1e6));
  }),
  fn("justify_hours", [IV], IV, ([iv]) => justifyHours(iv as Interval)),
  fn("justify_days", [IV], IV, ([iv]) => justifyDays(iv as Interval)),
  fn("justify_interval", [IV], IV, ([iv]) => justifyDays(justifyHours(iv as Interval))),
  fn("isfinite", [Types.date], Types.bool, ([d]) => Number.isFinite(d as number)),
  fn("isfinite", [TS], Types.bool, ([t]) => isFiniteTimestamp(t as bigint)),
  fn("isfinite", [TSTZ], Types.bool, ([t]) => isFiniteTimestamp(t as bigint)),
  fn("to_char", [TS, T], T, ([ts, f]) => toCharDateTime(ts as bigint, f as string, null)),
  fn("to_char", [TSTZ, T], T, ([ts, f], ctx) => {
    const offset = isFiniteTimestamp(ts as bigint) ? ctx.timeZone.offsetAtUtc(ts as bigint) : 0;
    return toCharDateTime(utcToLocal(ts as bigint, ctx.timeZone), f as string, { offset, zoneText: formatOffset(offset) });
  }, { volatility: "stable" }),
];

/** The zone of AT TIME ZONE 'name': as SET TIME ZONE resolves it, with AT TIME ZONE's own error. */
function atZone(name: string): TimeZone {
  try {
    return timeZoneFromSetting(name);
  } catch {
    throw new PgError("invalid_parameter_value", `time zone "${name}" not recognized`);
  }
}

/** The zone of AT TIME ZONE interval: a fixed offset east of UTC, whole time only (Postgres: 22023 otherwise). */
function intervalZone(iv: Interval): TimeZone {
  if (iv.months !== 0 || iv.days !== 0) {
    throw new PgError("invalid_parameter_value", "interval time zone must not include months or days");
  }
  return fixedOffsetZone(Number(iv.micros / MICROS_PER_SECOND));
}

function zoneOf(name: string) {
  // date_trunc(unit, timestamptz, zone): a zone name as SET TIME ZONE accepts.
  return timeZoneFromSetting(name);
}

function toFloat(n: Numeric | null): Datum {
  return n === null ? null : n.isNaN() ? NaN : n.toNumber();
}

function makeTimestamp(y: number, mo: number, d: number, h: number, mi: number, s: number): bigint {
  const days = makeDate(y, mo, d);
  if (h < 0 || h > 24 || mi < 0 || mi > 59 || s < 0 || s > 60) {
    throw new PgError("datetime_field_overflow", `time field value out of range: ${h}:${String(mi).padStart(2, "0")}:${s}`);
  }
  return BigInt(days) * MICROS_PER_DAY + BigInt(h) * 3_600_000_000n + BigInt(mi) * 60_000_000n + BigInt(Math.round(s * 1e6));
}

