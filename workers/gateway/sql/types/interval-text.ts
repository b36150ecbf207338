// Text input and output of `interval`, IntervalStyle = 'postgres' (Postgres's default):
// output `1 year 2 mons 3 days 04:05:06.5`, `-1 days +02:00:00`, `00:00:00`; input accepts that
// form and its relatives ("@ 1 hour ago", "1.5 days", "3 weeks", "02:03", "1-2" year-month) and
// ISO 8601 durations (P1Y2M3DT4H5M6S). Fractional units spill into smaller ones as in Postgres:
// a month is 30 days, a day 24 hours; fractional years round to whole months.

import { PgError } from "../../../../common/errors.ts";
import { MICROS_PER_DAY, MICROS_PER_HOUR, MICROS_PER_MINUTE, MICROS_PER_SECOND, interval, type Interval } from "./datum.ts";

interface Acc {
  months: number;
  days: number;
  micros: number; // kept as a float while accumulating fractions, rounded once at the end
}

const UNIT_ALIASES: ReadonlyMap<string, string> = new Map([
  ...["millennium", "millennia", "millenniums", "mil", "mils"].map((u) => [u, "millennium"] as const),
  ...["century", "centuries", "cent", "c"].map((u) => [u, "century"] as const),
  ...["decade", "decades", "dec", "decs"].map((u) => [u, "decade"] as const),
  ...["year", "years", "y", "yr", "yrs"].map((u) => [u, "year"] as const),
  ...["month", "months", "mon", "mons"].map((u) => [u, "month"] as const),
  ...["week", "weeks", "w"].map((u) => [u, "week"] as const),
  ...["day", "days", "d"].map((u) => [u, "day"] as const),
  ...["hour", "hours", "h", "hr", "hrs"].map((u) => [u, "hour"] as const),
  ...["minute", "minutes", "m", "min", "mins"].map((u) => [u, "minute"] as const),
  ...["second", "seconds", "s", "sec", "secs"].map((u) => [u, "second"] as const),
  ...["millisecond", "milliseconds", "ms", "msec", "msecs", "millisecon"].map((u) => [u, "millisecond"] as const),
  ...["microsecond", "microseconds", "us", "usec", "usecs"].map((u) => [u, "microsecond"] as const),
]);

function addUnit(acc: Acc, value: number, unit: string): void {
  const whole = Math.trunc(value);
  const frac = value - whole;
  const spillDays = (f: number): void => {
    const d = f * 30;
    acc.days += Math.trunc(d);
    acc.micros += (d - Math.trunc(d)) * 86_400e6;
  };
  switch (unit) {
    case "millennium": acc.months += Math.round(value * 12000); break;
    case "century": acc.months += Math.round(value * 1200); break;
    case "decade": acc.months += Math.round(value * 120); break;
    case "year": acc.months += whole * 12 + Math.round(frac * 12); break;
    case "month": acc.months += whole; spillDays(frac); break;
    case "week": {
      const d = value * 7;
      acc.days += Math.trunc(d);
      acc.micros += (d - Math.trunc(d)) * 86_400e6;
      break;
    }
    case "day": acc.days += whole; acc.micros += frac * 86_400e6; break;
    case "hour": acc.micros += value * 3_600e6; break;
    case "minute": acc.micros += value * 60e6; break;
    case "second": acc.micros += value * 1e6; break;
    case "millisecond": acc.micros += value * 1e3; break;
    case "microsecond": acc.micros += value; break;
  }
}

function syntaxError(text: string): PgError {
  return new PgError("invalid_datetime_format", `invalid input syntax for type interval: "${text}"`);
}

export function parseInterval(text: string): Interval {
  const src = text.trim().toLowerCase();
  const acc: Acc = { months: 0, days: 0, micros: 0 };
  if (src.startsWith("p")) {
    parseIso(src, text, acc);
  } else {
    let rest = src.startsWith("@") ? src.slice(1) : src;
    let ago = false;
    let sawAny = false;
    // Postgres refuses a field given twice ("1 day 1 day"); a time "hh:mm:ss" sets hour..second.
    const seen = new Set<string>();
    const mark = (field: string): void => {
      if (seen.has(field)) throw syntaxError(text);
      seen.add(field);
    };
    const tokenRe = /^\s*(?:([+-]?\d+)-(\d+)(?=\s|$)|([+-]?)(\d+):(\d{1,2})(?::(\d{1,2}(?:\.\d*)?))?|([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)\s*([a-z]+)?|(ago))/;
    while (rest.trim() !== "") {
      const m = tokenRe.exec(rest);
      if (m === null) throw syntaxError(text);
      rest = rest.slice(m[0].length);
      sawAny = true;
      if (m[1] !== undefined) {
        // SQL-standard year-month: 1-2 is 1 year 2 months.
        mark("year");
        mark("month");
        const y = Number(m[1]);
        const mo = Number(m[2]);
        acc.months += y * 12 + (y < 0 || m[1].startsWith("-") ? -mo : mo);
      } else if (m[4] !== undefined) {
        mark("hour");
        mark("minute");
        mark("second");
        const sign = m[3] === "-" ? -1 : 1;
        const h = Number(m[4]);
        const mi = Number(m[5]);
        const s = m[6] === undefined ? 0 : Number(m[6]);
        if (mi > 59 || s >= 60) throw new PgError("datetime_field_overflow", `interval field value out of range: "${text}"`);
        acc.micros += sign * (h * 3_600e6 + mi * 60e6 + s * 1e6);
      } else if (m[7] !== undefined) {
        const value = Number(m[7]);
        const unit = m[8] === undefined ? "second" : UNIT_ALIASES.get(m[8]);
        if (unit === undefined) throw syntaxError(text);
        mark(unit);
        addUnit(acc, value, unit);
      } else if (m[9] !== undefined) {
        if (rest.trim() !== "") throw syntaxError(text);
        ago = true;
      }
    }
    if (!sawAny) throw syntaxError(text);
    if (ago) {
      acc.months = -acc.months;
      acc.days = -acc.days;
      acc.micros = -acc.micros;
    }
  }
  return checked(acc, text);
}

function parseIso(src: string, text: string, acc: Acc): void {
  const m = /^p(?:([-\d.]+)y)?(?:([-\d.]+)m)?(?:([-\d.]+)w)?(?:([-\d.]+)d)?(?:t(?:([-\d.]+)h)?(?:([-\d.]+)m)?(?:([-\d.]+)s)?)?$/.exec(src);
  if (m === null || src === "p" || src.endsWith("t")) throw syntaxError(text);
  const units = ["year", "month", "week", "day", "hour", "minute", "second"];
  for (let i = 0; i < units.length; i++) {
    const v = m[i + 1];
    if (v === undefined) continue;
    const n = Number(v);
    if (!Number.isFinite(n)) throw syntaxError(text);
    addUnit(acc, n, units[i]!);
  }
}

const INT32_MAX = 2147483647;

function checked(acc: Acc, text: string): Interval {
  const micros = BigInt(Math.round(acc.micros));
  if (Math.abs(acc.months) > INT32_MAX || Math.abs(acc.days) > INT32_MAX || micros > 2n ** 63n - 1n || micros < -(2n ** 63n)) {
    throw new PgError("datetime_field_overflow", `interval out of range: "${text}"`);
  }
  return interval(acc.months, acc.days, micros);
}

function part(out: string[], value: number, unit: string, state: { zero: boolean; before: boolean }): void {
  if (value === 0) return;
  out.push(`${state.before && value > 0 ? "+" : ""}${value} ${unit}${value !== 1 ? "s" : ""}`);
  // Postgres: each nonzero field decides whether the next positive one gets a '+'.
  state.before = value < 0;
  state.zero = false;
}

/** Postgres's interval output (IntervalStyle postgres). */
export function formatInterval(iv: Interval): string {
  const out: string[] = [];
  const state = { zero: true, before: false };
  part(out, Math.trunc(iv.months / 12), "year", state);
  part(out, iv.months % 12, "mon", state);
  part(out, iv.days, "day", state);
  if (state.zero || iv.micros !== 0n) {
    const neg = iv.micros < 0n;
    const abs = neg ? -iv.micros : iv.micros;
    const h = abs / MICROS_PER_HOUR;
    const mi = (abs % MICROS_PER_HOUR) / MICROS_PER_MINUTE;
    const s = (abs % MICROS_PER_MINUTE) / MICROS_PER_SECOND;
    const frac = abs % MICROS_PER_SECOND;
    let t = `${neg ? "-" : state.before ? "+" : ""}${h.toString().padStart(2, "0")}:${mi.toString().padStart(2, "0")}:${s.toString().padStart(2, "0")}`;
    if (frac !== 0n) t += `.${frac.toString().padStart(6, "0").replace(/0+$/, "")}`;
    out.push(t);
  }
  return out.join(" ");
}

/**
 * Postgres's interval comparison key: months as 30 days, days as 24 hours, in microseconds.
 * Two intervals are equal when these match ('1 mon' = '30 days'), which is also how they sort.
 */
export function intervalSortKey(iv: Interval): bigint {
  return BigInt(iv.months) * 30n * MICROS_PER_DAY + BigInt(iv.days) * MICROS_PER_DAY + iv.micros;
}
