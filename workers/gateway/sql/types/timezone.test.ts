import { describe, expect, it } from "vitest";
import { formatTimestamptz, parseTimestamp } from "./datetime-text.ts";
import { fixedOffsetZone, formatOffset, localToUtc, timeZoneFromSetting } from "./timezone.ts";

const at = (text: string) => parseTimestamp(text, true, { timeZone: timeZoneFromSetting("UTC"), transactionTimestamp: 0n });
const local = (text: string) => parseTimestamp(text, false, { timeZone: timeZoneFromSetting("UTC"), transactionTimestamp: 0n });

// Expected outputs checked against PostgreSQL 15 with the same TimeZone settings.
describe("time zones", () => {
  it("prints offsets as Postgres does", () => {
    expect(formatTimestamptz(at("2024-01-02 03:04:05Z"), timeZoneFromSetting("Asia/Kolkata"))).toBe("2024-01-02 08:34:05+05:30");
    expect(formatTimestamptz(at("2024-07-02 03:04:05Z"), timeZoneFromSetting("America/St_Johns"))).toBe("2024-07-02 00:34:05-02:30");
    // Historical local-mean-time offsets (Amsterdam 1900: +00:19:32 in Postgres) follow the
    // platform's ICU data, which rounds them away; only modern offsets are asserted.
    expect(formatOffset(0)).toBe("+00");
  });

  it("treats POSIX-style offsets as west of Greenwich, numeric zones as east", () => {
    expect(formatTimestamptz(at("2024-01-02 03:04:05Z"), timeZoneFromSetting("+05:30"))).toBe("2024-01-01 21:34:05-05:30");
    expect(fixedOffsetZone(-3 * 3600).name).toBe("<-03>+03");
    expect(fixedOffsetZone(5.5 * 3600).name).toBe("<+05:30>-05:30");
  });

  it("resolves DST overlaps to standard time and gaps with the earlier offset", () => {
    const ny = timeZoneFromSetting("America/New_York");
    expect(formatTimestamptz(localToUtc(local("2024-11-03 01:30"), ny), ny)).toBe("2024-11-03 01:30:00-05");
    expect(formatTimestamptz(localToUtc(local("2024-03-10 02:30"), ny), ny)).toBe("2024-03-10 03:30:00-04");
    expect(formatTimestamptz(localToUtc(local("2024-07-01 12:00"), ny), ny)).toBe("2024-07-01 12:00:00-04");
  });

  it("refuses unknown zone names with 22023", () => {
    expect(() => timeZoneFromSetting("Mars/Olympus")).toThrow(expect.objectContaining({ code: "22023" }));
  });
});
