import { describe, expect, it } from "vitest";
import { emptyUsageReport } from "../../common/quota-protocol.ts";
import { limits } from "../limits.ts";
import { addReport, emptyHour, HOUR_MS, hourKey, hourOfKey, hourStart, monthOf, oldestKeptHour, spendAfter, storageKey } from "./usage-history.ts";

describe("usage history", () => {
  it("keys hours so that they sort by time, and reads the hour back from its key", () => {
    const a = hourStart(Date.UTC(2026, 7, 1, 9, 30));
    const b = a + HOUR_MS;
    const far = hourStart(Date.UTC(2286, 0, 1));
    expect(hourKey(a) < hourKey(b)).toBe(true);
    expect(hourKey(b) < hourKey(far)).toBe(true);
    expect(hourOfKey(hourKey(a))).toBe(a);
    expect(hourOfKey(storageKey(b))).toBe(b);
  });

  it("keeps exactly usageHistoryHoursMax hours: the current one and the ones before it", () => {
    const now = Date.UTC(2026, 7, 20, 13, 45);
    const oldest = oldestKeptHour(now, limits.usageHistoryHoursMax);
    expect((hourStart(now) - oldest) / HOUR_MS + 1).toBe(limits.usageHistoryHoursMax);
    // The bound covers the current month and the two before it, whatever the day.
    expect(oldest).toBeLessThanOrEqual(Date.UTC(2026, 5, 1));
    expect(limits.usageHistoryHoursMax).toBe(2232);
  });

  it("adds a report by part and restarts the month's spend in a new month", () => {
    const h = emptyHour(0);
    addReport(h, { ...emptyUsageReport(), ru: 3, cpuMs: 2, egressBytes: 10, connections: 1, kv: { readBatches: 1, readRequests: 2, readBytes: 3, writeBatches: 4, writeRequests: 5, writeBytes: 6 } });
    addReport(h, { ...emptyUsageReport(), ru: 1, httpRequests: 1 });
    expect(h).toMatchObject({ ru: 4, cpuMs: 2, egressBytes: 10, connections: 1, httpRequests: 1, kv: { readBytes: 3, writeBytes: 6 } });
    const aug = Date.UTC(2026, 7, 31, 23, 59);
    const sep = Date.UTC(2026, 8, 1, 0, 0);
    expect(monthOf(aug)).toBe("2026-08");
    const s1 = spendAfter(undefined, aug, 10);
    expect(spendAfter(s1, aug, 5)).toEqual({ month: "2026-08", ru: 15 });
    expect(spendAfter(s1, sep, 5)).toEqual({ month: "2026-09", ru: 5 });
  });
});
