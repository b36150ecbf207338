import { describe, expect, it } from "vitest";
import type { KvErrorName, KvResponse } from "../../../common/kv-protocol/messages.ts";
import type { KvUsage } from "../../../common/request-units.ts";
import { KvClient, kvErrorToPgError } from "./kv-client.ts";

describe("kvErrorToPgError", () => {
  it("maps storage errors to the SQLSTATEs clients act on", () => {
    const cases: Array<[KvErrorName, string]> = [
      ["conflict", "40001"],
      ["snapshot_too_old", "40001"],
      ["transaction_expired", "40001"],
      ["rate_limited", "53400"],
      ["overloaded", "53400"],
      ["limit_exceeded", "54000"],
      ["internal", "XX000"],
      ["unavailable", "57P01"],
      ["outcome_unknown", "08006"],
    ];
    for (const [code, sqlstate] of cases) expect(kvErrorToPgError({ code, message: "m" }).code).toBe(sqlstate);
    expect(kvErrorToPgError({ code: "conflict", message: "m" }).hint).toBe("retry the transaction");
  });
});

describe("KvClient usage", () => {
  const k = (s: string) => new TextEncoder().encode(s);
  const reported = { readBatches: 1, readRequests: 2, readBytes: 300, writeBatches: 0, writeRequests: 0, writeBytes: 0 };

  it("accumulates the usage each response reports, errors included, and hands each to onUsage", async () => {
    const responses: KvResponse[] = [
      { type: "read", readTs: 5n, results: [{ op: "get", value: k("v") }, { op: "get", value: null }], usage: reported },
      { type: "error", error: { code: "condition_failed", message: "no" }, usage: { ...reported, readRequests: 0, readBytes: 0 } },
    ];
    const kv = new KvClient({ send: async () => responses.shift()! });
    const seen: KvUsage[] = [];
    kv.onUsage = (u) => seen.push(u);
    await kv.read(null, [{ op: "get", key: k("a") }, { op: "get", key: k("b") }]);
    await expect(kv.batch([], [{ op: "cput", key: k("a"), value: k("x"), expected: null }])).rejects.toThrow();
    expect(seen).toEqual([reported, { ...reported, readRequests: 0, readBytes: 0 }]);
    expect(kv.usage).toEqual({ ...reported, readBatches: 2 });
    expect(kv.unmeteredResponses).toBe(0);
  });

  it("computes the usage with the same model when the node does not report it (an older node)", async () => {
    const kv = new KvClient({ send: async () => ({ type: "batch", commitTs: 9n, results: [{ op: "get", value: k("value") }] }) });
    await kv.batch([{ op: "get", key: k("key") }], [{ op: "put", key: k("a"), value: k("bc") }]);
    expect(kv.usage).toEqual({ readBatches: 1, readRequests: 1, readBytes: 3 + 5, writeBatches: 1, writeRequests: 1, writeBytes: 3 });
    expect(kv.unmeteredResponses).toBe(1);
  });
});
