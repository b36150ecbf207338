// Metering at the storage node: each KV response reports, when asked, exactly what the node added
// to the tenant's counters (the usage trailer), a client that did not ask gets the old frame, and
// the counters survive a restart of the node (a clean stop writes them; a start loads them).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeResponse, encodeRequest, KV_USAGE_HEADER } from "../common/kv-protocol/codec.ts";
import type { KvRequest, KvResponse } from "../common/kv-protocol/messages.ts";
import { addKvUsage, emptyKvUsage, kvRequestUnits, type KvUsage } from "../common/request-units.ts";
import { SYSTEM_TENANT_ID } from "../common/tenant-prefix.ts";
import { decodeCounters, emptyCounters, encodeCounters } from "./metrics.ts";
import { startStorageNode, type StorageNode } from "./server.ts";
import { bytes, KvHttpClient, randomTxnId, tkey } from "./testing/kv-client.ts";

const SECRET = "metering-fleet-secret-0123456789";
const T = 30;

let dir: string;
let node: StorageNode;
let t: KvHttpClient;
let sys: KvHttpClient;

async function start(): Promise<void> {
  node = await startStorageNode({ dataDir: dir, port: 0, fleetSecret: SECRET, limits: { countersPersistIntervalMs: 60_000 } });
  t = await KvHttpClient.forTenant(node.url, SECRET, T);
  sys = await KvHttpClient.forTenant(node.url, SECRET, SYSTEM_TENANT_ID);
}

async function stop(): Promise<void> {
  t?.close();
  sys?.close();
  await node?.close();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "warren-meter-"));
  await start();
});

afterAll(async () => {
  await stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Sends with the usage header; returns the decoded response (with its usage). */
async function metered(req: KvRequest): Promise<KvResponse> {
  const { body } = await t.raw(encodeRequest(req), { [KV_USAGE_HEADER]: "1" });
  return decodeResponse(body);
}

interface TenantStats extends KvUsage {
  tenantId: number;
  requests: number;
  requestUnits: number;
  errors: number;
}

async function stats(): Promise<TenantStats> {
  const { json } = await sys.json("/v1/admin/stats");
  return (json.tenants as TenantStats[]).find((x) => x.tenantId === T)!;
}

function kvPart(s: TenantStats): KvUsage {
  const { readBatches, readRequests, readBytes, writeBatches, writeRequests, writeBytes } = s;
  return { readBatches, readRequests, readBytes, writeBatches, writeRequests, writeBytes };
}

describe("the usage trailer", () => {
  it("reports exactly what each request added to the tenant's counters, errors included", async () => {
    await metered({ type: "batch", reads: [], writes: [{ op: "put", key: tkey(T, "seed"), value: bytes("x") }] });
    const before = await stats();
    const sum = emptyKvUsage();
    const requests: KvRequest[] = [
      { type: "batch", reads: [], writes: [{ op: "put", key: tkey(T, "a"), value: bytes("hello") }, { op: "put", key: tkey(T, "b"), value: bytes("world!") }] },
      { type: "read", readTs: null, ops: [{ op: "get", key: tkey(T, "a") }, { op: "get", key: tkey(T, "missing") }] },
      { type: "read", readTs: null, ops: [{ op: "scan", start: tkey(T, ""), end: tkey(T, "z"), reverse: false, maxRows: 0, maxBytes: 0 }] },
      { type: "begin" },
      // A cput whose expectation fails: an error response, still metered as the node counts it.
      { type: "batch", reads: [], writes: [{ op: "cput", key: tkey(T, "a"), value: bytes("v"), expected: bytes("nope") }] },
    ];
    for (const req of requests) {
      const res = await metered(req);
      expect(res.usage, `usage of ${req.type}`).toBeDefined();
      addKvUsage(sum, res.usage!);
    }
    const after = await stats();
    const delta = kvPart(after);
    for (const k of Object.keys(delta) as Array<keyof KvUsage>) delta[k] -= kvPart(before)[k];
    expect(delta).toEqual(sum);
    expect(after.requestUnits - before.requestUnits).toBeCloseTo(kvRequestUnits(sum), 9);
    // The two puts: 1 write batch, 2 write requests, keys + values; the gets count their keys too.
    expect(sum.writeRequests).toBe(2);
    expect(sum.readRequests).toBe(3);
    expect(sum.readBytes).toBeGreaterThan(0);
  });

  it("sends the old frame to a client that did not ask, and zeros for a request refused before metering", async () => {
    const req: KvRequest = { type: "read", readTs: null, ops: [{ op: "get", key: tkey(T, "a") }] };
    const plain = decodeResponse((await t.raw(encodeRequest(req))).body);
    expect(plain.type).toBe("read");
    expect("usage" in plain).toBe(false);
    // Outside the tenant's span: refused whole before anything runs, so it cost nothing.
    const refused = await metered({ type: "read", readTs: null, ops: [{ op: "get", key: tkey(T + 1, "a") }] });
    expect(refused.type).toBe("error");
    expect(refused.usage).toEqual(emptyKvUsage());
  });
});

describe("counters across a restart", () => {
  it("keeps every tenant counter after a clean stop and start on the same data", async () => {
    await metered({ type: "commit", txnId: randomTxnId(), readTs: (await metered({ type: "begin" }) as { readTs: bigint }).readTs, readSpans: [], writes: [{ op: "put", key: tkey(T, "c"), value: bytes("1") }] });
    const before = await stats();
    expect(before.requests).toBeGreaterThan(5);
    await stop();
    await start();
    const after = await stats();
    expect(after).toEqual({ ...before, openTransactions: 0 });
  });

  it("encodes counters in a stored format that reads back, tolerates added fields and refuses garbage", () => {
    const c = { ...emptyCounters(), requests: 7, readBytes: 123456789, requestUnits: 12.375, errors: 2 };
    const stored = encodeCounters(c);
    const back = emptyCounters();
    decodeCounters(stored, back);
    expect(back).toEqual({ ...c, liveBytes: 0, mvccBytes: 0 });
    // A later node's value with one more field: the known ones still read.
    const longer = new Uint8Array(stored.length + 8);
    longer.set(stored);
    longer[1] = stored[1]! + 1;
    const fromLonger = emptyCounters();
    decodeCounters(longer, fromLonger);
    expect(fromLonger.requests).toBe(7);
    expect(() => decodeCounters(new Uint8Array([9, 0]), emptyCounters())).toThrow(/format/);
    expect(() => decodeCounters(stored.subarray(0, stored.length - 1), emptyCounters())).toThrow(/bytes/);
  });
});
