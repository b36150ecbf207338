import { describe, expect, it } from "vitest";
import type { TenantUsage } from "../admin-client.ts";
import { parseArgs } from "../options.ts";
import { alterPatchOf, tenantAlterCommand, usageText } from "./tenant.ts";

const alter = (...argv: string[]) => alterPatchOf(parseArgs(tenantAlterCommand.spec, ["acme", ...argv], {}));

describe("warren tenant alter", () => {
  it("sends only the settings given, numbers as numbers, none as null, CIDR lists split", () => {
    expect(alter("--ru-per-second", "100", "--burst", "1e3")).toEqual({ ruPerSecond: 100, burstRu: 1000 });
    expect(alter("--spend-limit", "none", "--max-connections", "none", "--allow", "any")).toEqual({ spendLimitRu: null, maxConnections: null, allowedCidrs: [] });
    expect(alter("--spend-limit", "5000", "--at-limit", "refuse", "--allow", "10.0.0.0/8, 192.168.0.0/16")).toEqual({
      spendLimitRu: 5000,
      atSpendLimit: "refuse",
      allowedCidrs: ["10.0.0.0/8", "192.168.0.0/16"],
    });
    // Not a number: sent as typed, so the edge names the setting in its 22023.
    expect(alter("--ru-per-second", "fast")).toEqual({ ruPerSecond: "fast" });
    expect(alter("--password", "a-long-password")).toEqual({ password: "a-long-password" });
    expect(alter("--allow-origins", "https://a.example, http://127.0.0.1:8080")).toEqual({ allowedOrigins: ["https://a.example", "http://127.0.0.1:8080"] });
    expect(alter("--allow-origins", "any")).toEqual({ allowedOrigins: [] });
    expect(alter()).toEqual({});
  });
});

describe("warren tenant usage", () => {
  const usage: TenantUsage = {
    name: "acme",
    id: 7,
    since: "2026-08-20T00:00:00.000Z",
    until: "2026-08-21T00:00:00.000Z",
    config: { ruPerSecond: 100, burstRu: 1000, spendLimitRu: 5000, atSpendLimit: "refuse" },
    bucket: { tokensRu: 12.5, refillRuPerSecond: 100, burstRu: 1000, gateways: 1 },
    month: { month: "2026-08", ru: 5001, limitRu: 5000, atLimit: true, atSpendLimit: "refuse" },
    totals: { ru: 5001, kv: { readBatches: 10, readRequests: 20, readBytes: 3000, writeBatches: 1, writeRequests: 2, writeBytes: 300 }, cpuMs: 5, egressBytes: 2048, connections: 1, httpRequests: 9, grantedRu: 6000, lastReportMs: 0 },
    hours: [
      { hourStartMs: Date.UTC(2026, 7, 20, 13), ru: 5001, kv: { readBatches: 10, readRequests: 20, readBytes: 3000, writeBatches: 1, writeRequests: 2, writeBytes: 300 }, cpuMs: 5, egressBytes: 2048, connections: 1, httpRequests: 9, grantedRu: 6000, storage: { liveBytes: 777, mvccBytes: 900 } },
    ],
    storageNode: { requests: 11, readBatches: 10, readRequests: 20, readBytes: 3000, writeBatches: 1, writeRequests: 2, writeBytes: 300, requestUnits: 4990, liveBytes: 777, mvccBytes: 900 },
    historyHoursMax: 2232,
  };

  it("prints the quota, the month at its limit, totals beside the storage node's counters, and one line per hour", () => {
    const text = usageText(usage);
    expect(text).toMatch(/^tenant acme \(id 7\): 100 RU\/s, burst 1000 RU, spend limit 5000 RU \(at the limit: refuse\)$/m);
    expect(text).toMatch(/month 2026-08: 5001 RU used of 5000 — AT THE LIMIT \(refuse\)/);
    expect(text).toMatch(/^storage node: 4990 RU; reads 20 in 10 batches/m);
    expect(text).toMatch(/^2026-08-20T13:00 +5001 +20 +3000 +2 +300 +5 +2048 +1 +9 +777$/m);
    expect(usageText({ ...usage, hours: [], storageNode: { error: "down" } })).toMatch(/counters unavailable \(down\)[\s\S]*\(no activity\)/);
  });
});
