// Date, timestamp and interval arithmetic as Postgres does it (timestamp_pl_interval,
// timestamp_mi, interval_mul, interval_div, timestamp_age): months are added on the calendar
// (clamping Jan 31 + 1 month to Feb 29/28), then days, then the time; for timestamptz the months
// and days are added in the session's local time, so a day across a DST change is 23 or 25 hours.

import { PgError } from "../../../../common/errors.ts";
import { civilFromDays, daysFromCivil, daysInMonth, splitMicros } from "../types/calendar.ts";
import { MICROS_PER_DAY, MICROS_PER_SECOND, interval, isFiniteTimestamp, type Interval } from "../types/datum.ts";
import { localToTimestamptz, rint, utcToLocal } from "../types/datetime-text.ts";
import { TIMESTAMP_MICROS_MAX, TIMESTAMP_MICROS_MIN } from "../types/calendar.ts";
import type { TimeZone } from "../types/timezone.ts";

function timestampOutOfRange(): PgError {
  return new PgError("datetime_field_overflow", "timestamp out of range");
}

function checkTimestamp(v: bigint): bigint {
  if (v < TIMESTAMP_MICROS_MIN || v > TIMESTAMP_MICROS_MAX) throw timestampOutOfRange();
  return v;
}

/** Adds months then days on the calendar to a local timestamp (no zone). */
function addMonthsDays(local: bigint, months: number, days: number): bigint {
  let { days: d, timeMicros } = splitMicros(local);
  if (months !== 0) {
    const c = civilFromDays(d);
    const total = c.year * 12 + (c.month - 1) + months;
    const year = Math.floor(total / 12);
    const month = total - year * 12 + 1;
    d = daysFromCivil(year, month, Math.min(c.day, daysInMonth(year, month)));
  }
  return BigInt(d + days) * MICROS_PER_DAY + timeMicros;
}

/** timestamp + interval (timestamp without time zone). */
export function timestampPlusInterval(ts: bigint, iv: Interval): bigint {
  if (!isFiniteTimestamp(ts)) return ts;
  return checkTimestamp(addMonthsDays(ts, iv.months, iv.days) + iv.micros);
}

/** timestamptz + interval: months and days in the session's local time, then the time. */
export function timestamptzPlusInterval(ts: bigint, iv: Interval, zone: TimeZone): bigint {
  if (!isFiniteTimestamp(ts)) return ts;
  let t = ts;
  if (iv.months !== 0 || iv.days !== 0) {
    t = localToTimestamptz(addMonthsDays(utcToLocal(ts, zone), iv.months, iv.days), zone);
  }
  return checkTimestamp(t + iv.micros);
}

export function negateInterval(iv: Interval): Interval {
  return interval(-iv.months || 0, -iv.days || 0, -iv.micros);
}

export function addIntervals(a: Interval, b: Interval): Interval {
  const months = a.months + b.months;
  const days = a.days + b.days;
  if (Math.abs(months) > 2147483647 || Math.abs(days) > 2147483647) {
    throw new PgError("datetime_field_overflow", "interval out of range");
  }
  return interval(months, days, a.micros + b.micros);
}

/** timestamp - timestamp: whole days split off the time (interval_justify_hours). */
export function timestampDifference(a: bigint, b: bigint): Interval {
  if (!isFiniteTimestamp(a) || !isFiniteTimestamp(b)) {
    throw new PgError("datetime_field_overflow", "cannot subtract infinite timestamps");
  }
  const diff = a - b;
  const days = diff / MICROS_PER_DAY;
  return interval(0, Number(days), diff - days * MICROS_PER_DAY);
}

/** interval * factor, spilling fractional months into days (30) and days into time (24 h). */
export function multiplyInterval(iv: Interval, factor: number): Interval {
  if (Number.isNaN(factor)) throw new PgError("datetime_field_overflow", "interval out of range");
  const monthsF = iv.months * factor;
  const months = Math.trunc(monthsF);
  const monthRemainderDays = (monthsF - months) * 30;
  const daysF = iv.days * factor;
  let days = Math.trunc(daysF);
  const secRemainder = (daysF - days + monthRemainderDays - Math.trunc(monthRemainderDays)) * 86400;
  days += Math.trunc(monthRemainderDays);
  const micros = rint(Number(iv.micros) * factor + secRemainder * 1e6);
  if (!Number.isFinite(micros) || Math.abs(months) > 2147483647 || Math.abs(days) > 2147483647) {
    throw new PgError("datetime_field_overflow", "interval out of range");
  }
  return interval(months || 0, days || 0, BigInt(micros));
}

export function divideInterval(iv: Interval, divisor: number): Interval {
  if (divisor === 0) throw new PgError("division_by_zero", "division by zero");
  return multiplyInterval(iv, 1 / divisor);
}

/** age(a, b): the symbolic years/months/days difference of two local timestamps (timestamp_age). */
export function ageBetween(a: bigint, b: bigint): Interval {
  if (!isFiniteTimestamp(a) || !isFiniteTimestamp(b)) {
    throw new PgError("datetime_field_overflow", "cannot compute age of infinite timestamps");
  }
  const fa = fields(a);
  const fb = fields(b);
  let usec = fa.usec - fb.usec;
  let sec = fa.sec - fb.sec;
  let min = fa.min - fb.min;
  let hour = fa.hour - fb.hour;
  let mday = fa.day - fb.day;
  let mon = fa.month - fb.month;
  let year = fa.year - fb.year;
  const flip = a < b;
  if (flip) [usec, sec, min, hour, mday, mon, year] = [-usec, -sec, -min, -hour, -mday, -mon, -year];
  while (usec < 0) { usec += 1_000_000; sec--; }
  while (sec < 0) { sec += 60; min--; }
  while (min < 0) { min += 60; hour--; }
  while (hour < 0) { hour += 24; mday--; }
  while (mday < 0) {
    const ref = flip ? fa : fb;
    mday += daysInMonth(ref.year, ref.month);
    mon--;
  }
  while (mon < 0) { mon += 12; year--; }
  if (flip) [usec, sec, min, hour, mday, mon, year] = [-usec, -sec, -min, -hour, -mday, -mon, -year];
  const micros = BigInt(hour) * 3_600_000_000n + BigInt(min) * 60_000_000n + BigInt(sec) * MICROS_PER_SECOND + BigInt(usec);
  return interval(year * 12 + mon || 0, mday || 0, micros);
}

function fields(ts: bigint): { year: number; month: number; day: number; hour: number; min: number; sec: number; usec: number } {
  const { days, timeMicros } = splitMicros(ts);
  const c = civilFromDays(days);
  const t = Number(timeMicros);
  return {
    year: c.year,
    month: c.month,
    day: c.day,
    hour: Math.floor(t / 3_600_000_000),
    min: Math.floor(t / 60_000_000) % 60,
    sec: Math.floor(t / 1_000_000) % 60,
    usec: t % 1_000_000,
  };
}

