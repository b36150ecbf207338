// to_char(timestamp, format): Postgres's date/time template patterns — YYYY YYY YY Y IYYY MM DD DDD
// D ID HH HH12 HH24 MI SS MS US AM PM A.M. P.M. Mon MON mon Month MONTH month Dy DY dy Day DAY day
// Q WW IW TZ tz OF, the FM prefix (no padding) and TH/th suffix, "quoted text" and backslash
// escapes. Anything else is copied through, as Postgres does.

import { civilFromDays, dayOfWeek, daysFromCivil, splitMicros } from "../types/calendar.ts";
import { isFiniteTimestamp } from "../types/datum.ts";

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

const PATTERNS = [
  "HH24", "HH12", "HH", "MI", "SS", "MS", "US", "A.M.", "P.M.", "a.m.", "p.m.", "AM", "PM", "am", "pm",
  "IYYY", "YYYY", "YYY", "YY", "Y", "MONTH", "Month", "month", "MON", "Mon", "mon", "MM",
  "DAY", "Day", "day", "DY", "Dy", "dy", "DDD", "DD", "D", "ID", "IW", "WW", "Q", "TZ", "tz", "OF",
];

function ordinal(n: number): string {
  const t = n % 100;
  if (t >= 11 && t <= 13) return "th";
  return ["th", "st", "nd", "rd"][n % 10] ?? "th";
}

export function toCharDateTime(local: bigint, format: string, zone: { offset: number; zoneText: string } | null): string | null {
  if (!isFiniteTimestamp(local)) return null;
  const { days, timeMicros } = splitMicros(local);
  const c = civilFromDays(days);
  const t = Number(timeMicros);
  const hour = Math.floor(t / 3_600_000_000);
  const minute = Math.floor(t / 60_000_000) % 60;
  const second = Math.floor(t / 1_000_000) % 60;
  const micros = t % 1_000_000;
  const dow = dayOfWeek(days);
  const year = c.year > 0 ? c.year : 1 - c.year;
  const doy = days - daysFromCivil(c.year, 1, 1) + 1;
  const isoDow = ((dow + 6) % 7) + 1;
  const thursday = days + (4 - isoDow);
  const isoYear = civilFromDays(thursday).year;
  const isoWeek = Math.floor((thursday - daysFromCivil(isoYear, 1, 1)) / 7) + 1;
  let out = "";
  let i = 0;
  while (i < format.length) {
    if (format[i] === '"') {
      const end = format.indexOf('"', i + 1);
      out += format.slice(i + 1, end < 0 ? format.length : end);
      i = end < 0 ? format.length : end + 1;
      continue;
    }
    if (format[i] === "\\" && i + 1 < format.length) {
      out += format[i + 1];
      i += 2;
      continue;
    }
    let fm = false;
    if (format.startsWith("FM", i)) {
      fm = true;
      i += 2;
    }
    const p = PATTERNS.find((x) => format.startsWith(x, i));
    if (p === undefined) {
      if (!fm) out += format[i];
      if (!fm) i++;
      continue;
    }
    i += p.length;
    const numeric = (n: number, width: number): string => (fm ? String(n) : String(n).padStart(width, "0"));
    const name = (s: string, upper: boolean | null, width: number): string => {
      const v = upper === true ? s.toUpperCase() : upper === false ? s.toLowerCase() : s;
      return fm ? v : v.padEnd(width, " ");
    };
    let piece: string;
    let n: number | null = null;
    switch (p) {
      case "HH24": n = hour; piece = numeric(hour, 2); break;
      case "HH12": case "HH": n = hour % 12 || 12; piece = numeric(n, 2); break;
      case "MI": n = minute; piece = numeric(minute, 2); break;
      case "SS": n = second; piece = numeric(second, 2); break;
      case "MS": piece = numeric(Math.floor(micros / 1000), 3); break;
      case "US": piece = numeric(micros, 6); break;
      case "AM": case "PM": piece = hour < 12 ? "AM" : "PM"; break;
      case "am": case "pm": piece = hour < 12 ? "am" : "pm"; break;
      case "A.M.": case "P.M.": piece = hour < 12 ? "A.M." : "P.M."; break;
      case "a.m.": case "p.m.": piece = hour < 12 ? "a.m." : "p.m."; break;
      case "YYYY": n = year; piece = numeric(year, 4); break;
      case "IYYY": n = isoYear; piece = numeric(isoYear, 4); break;
      case "YYY": piece = numeric(year % 1000, 3); break;
      case "YY": piece = numeric(year % 100, 2); break;
      case "Y": piece = String(year % 10); break;
      case "MONTH": piece = name(MONTHS[c.month - 1]!, true, 9); break;
      case "Month": piece = name(MONTHS[c.month - 1]!, null, 9); break;
      case "month": piece = name(MONTHS[c.month - 1]!, false, 9); break;
      case "MON": piece = MONTHS[c.month - 1]!.slice(0, 3).toUpperCase(); break;
      case "Mon": piece = MONTHS[c.month - 1]!.slice(0, 3); break;
      case "mon": piece = MONTHS[c.month - 1]!.slice(0, 3).toLowerCase(); break;
      case "MM": n = c.month; piece = numeric(c.month, 2); break;
      case "DAY": piece = name(DAYS[dow]!, true, 9); break;
      case "Day": piece = name(DAYS[dow]!, null, 9); break;
      case "day": piece = name(DAYS[dow]!, false, 9); break;
      case "DY": piece = DAYS[dow]!.slice(0, 3).toUpperCase(); break;
      case "Dy": piece = DAYS[dow]!.slice(0, 3); break;
      case "dy": piece = DAYS[dow]!.slice(0, 3).toLowerCase(); break;
      case "DDD": n = doy; piece = numeric(doy, 3); break;
      case "DD": n = c.day; piece = numeric(c.day, 2); break;
      case "D": n = dow + 1; piece = String(dow + 1); break;
      case "ID": n = isoDow; piece = String(isoDow); break;
      case "IW": n = isoWeek; piece = numeric(isoWeek, 2); break;
      case "WW": n = Math.floor((doy - 1) / 7) + 1; piece = numeric(n, 2); break;
      case "Q": n = Math.floor((c.month - 1) / 3) + 1; piece = String(n); break;
      case "TZ": piece = zone === null ? "" : zone.zoneText.toUpperCase(); break;
      case "tz": piece = zone === null ? "" : zone.zoneText.toLowerCase(); break;
      case "OF": piece = zone === null ? "" : zone.zoneText; break;
      default: piece = p;
    }
    if (n !== null && (format.startsWith("TH", i) || format.startsWith("th", i))) {
      const suffix = ordinal(n);
      piece += format.startsWith("TH", i) ? suffix.toUpperCase() : suffix;
      i += 2;
    }
    out += piece;
  }
  return out;
}
