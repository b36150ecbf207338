// Proleptic Gregorian calendar arithmetic, the calendar Postgres uses for every date (no Julian
// switch). Days count from 1970-01-01; years are astronomical (year 0 = 1 BC, -1 = 2 BC).
// The algorithm is Howard Hinnant's days_from_civil / civil_from_days, valid far beyond Postgres's
// range (4713 BC .. 5874897 AD for dates).

import { MICROS_PER_DAY } from "./datum.ts";

export interface CivilDate {
  /** Astronomical year: 0 is 1 BC. */
  readonly year: number;
  /** 1..12 */
  readonly month: number;
  /** 1..31 */
  readonly day: number;
}

export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(days: number): CivilDate {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
}

/** 0 = Sunday … 6 = Saturday (Postgres's dow). 1970-01-01 was a Thursday. */
export function dayOfWeek(days: number): number {
  return (((days + 4) % 7) + 7) % 7;
}

/** Floor division of microseconds into (days, micros within the day ≥ 0). */
export function splitMicros(micros: bigint): { days: number; timeMicros: bigint } {
  let days = micros / MICROS_PER_DAY;
  let rem = micros % MICROS_PER_DAY;
  if (rem < 0n) {
    rem += MICROS_PER_DAY;
    days -= 1n;
  }
  return { days: Number(days), timeMicros: rem };
}

/** Postgres's date range: 4713-11-24 BC (Julian day 0) .. 5874897-12-31. */
export const DATE_DAYS_MIN = daysFromCivil(-4713, 11, 24);
export const DATE_DAYS_MAX = daysFromCivil(5874897, 12, 31);
/** Postgres's timestamp range: 4713-11-24 BC 00:00 .. 294276-12-31 23:59:59.999999. */
export const TIMESTAMP_MICROS_MIN = BigInt(DATE_DAYS_MIN) * MICROS_PER_DAY;
export const TIMESTAMP_MICROS_MAX = BigInt(daysFromCivil(294277, 1, 1)) * MICROS_PER_DAY - 1n;
