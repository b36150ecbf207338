// clearRange through the node's HTTP API: the commit answers at once and the span goes in the
// background; old snapshots are refused, new ones see the span empty while it is still being
// deleted; a tenant can clear only spans inside its own prefix (every refusal writes nothing); the
// admin census (system credential) shows what is really on disk; a restart resumes the deletion;
// dropping the tenant still works. The node here deletes 10 versions per step with a minute's
// pause between steps, so the half-deleted state stays observable.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KvErrorName, KvRequest, KvResponse, WriteOp } from "../../common/kv-protocol/messages.ts";
import { SYSTEM_TENANT_ID, tenantSpan } from "../../common/tenant-prefix.ts";
import type { StorageLimits } from "../limits.ts";
import { startStorageNode, type StorageNode } from "../server.ts";
import { bytes, KvHttpClient, randomTxnId, tkey } from "../testing/kv-client.ts";

const SECRET = "clear-http-fleet-secret-0123456";
const A = 30;
const B = 31;
const SLOW: Partial<StorageLimits> = { clearChunkKeysMax: 10, clearChunkPauseMs: 60_000 };

let dir: string;
let node: StorageNode;
let a: KvHttpClient;
let b: KvHttpClient;
let sys: KvHttpClient;

async function boot(limits: Partial<StorageLimits>): Promise<void> {
  node = await startStorageNode({ dataDir: dir, port: 0, fleetSecret: SECRET, limits });
  a = await KvHttpClient.forTenant(node.url, SECRET, A);
  b = await KvHttpClient.forTenant(node.url, SECRET, B);
  sys = await KvHttpClient.forTenant(node.url, SECRET, SYSTEM_TENANT_ID);
}

async function shutdown(): Promise<void> {
  for (const c of [a, b, sys]) c?.close();
  await node?.close();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "warren-clear-http-"));
  await boot(SLOW);
});

afterAll(async () => {
  await shutdown();
  rmSync(dir, { recursive: true, force: true });
});

const hex = (k: Uint8Array): string => Buffer.from(k).toString("hex");
const span = (t: number, p: string) => ({ start: tkey(t, `${p}/`), end: tkey(t, `${p}0`) });
const puts = (t: number, p: string, n: number): WriteOp[] => Array.from({ length: n }, (_, i) => ({ op: "put" as const, key: tkey(t, `${p}/${String(i).padStart(3, "0")}`), value: bytes(`v${i}`) }));

async function ok(client: KvHttpClient, req: KvRequest): Promise<KvResponse> {
  const res = await client.send(req);
  if (res.type === "error") throw new Error(`${res.error.code}: ${res.error.message}`);
  return res;
}

async function census(t: number, s?: { start: Uint8Array; end: Uint8Array }): Promise<{ versions: number; keys: number; more: boolean }> {
  const q = s === undefined ? "" : `&start=${hex(s.start)}&end=${hex(s.end)}`;
  const { status, json } = await sys.json(`/v1/admin/span-versions?tenantId=${t}${q}`);
  expect(status).toBe(200);
  return json;
}

async function nodeStats(): Promise<{ clearsPending: number; clearRecords: number }> {
  return (await sys.json("/v1/admin/stats")).json.node;
}

async function until(what: string, f: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function refused(client: KvHttpClient, req: KvRequest, code: KvErrorName, status: number): Promise<void> {
  const res = await client.send(req);
  expect(res.status).toBe(status);
  expect(res).toMatchObject({ type: "error", error: { code } });
}

describe("clearRange over HTTP", () => {
  it("commits at once; old snapshots are refused, new ones see the span empty while it is still being deleted", async () => {
    await ok(a, { type: "batch", reads: [], writes: [...puts(A, "t", 100), { op: "put", key: tkey(A, "u/1"), value: bytes("keep") }] });
    await ok(b, { type: "batch", reads: [], writes: puts(B, "t", 20) });
    const before = await ok(a, { type: "read", readTs: null, ops: [{ op: "get", key: tkey(A, "t/005") }] });
    const r0 = before.type === "read" ? before.readTs : 0n;
    const t0 = Date.now();
    await ok(a, { type: "commit", txnId: randomTxnId(), readTs: r0, readSpans: [], writes: [{ op: "clearRange", ...span(A, "t") }] });
    expect(Date.now() - t0).toBeLessThan(2000);
    // The first step (10 versions) runs, then a minute's pause: 90 versions are still on disk.
    await until("the first step", async () => (await census(A, span(A, "t"))).versions < 100);
    expect(await census(A, span(A, "t"))).toEqual({ tenantId: A, versions: 90, keys: 90, more: false });
    expect(await nodeStats()).toMatchObject({ clearsPending: 1, clearRecords: 1 });

    // Below the clear: refused, for gets and scans (never a half-deleted span).
    await refused(a, { type: "read", readTs: r0, ops: [{ op: "get", key: tkey(A, "t/050") }] }, "snapshot_too_old", 409);
    await refused(a, { type: "read", readTs: r0, ops: [{ op: "scan", start: tkey(A, "a"), end: tkey(A, "z"), reverse: false, maxRows: 0, maxBytes: 0 }] }, "snapshot_too_old", 409);
    // ...but the same snapshot may read outside the span.
    expect(await ok(a, { type: "read", readTs: r0, ops: [{ op: "get", key: tkey(A, "u/1") }] })).toMatchObject({ results: [{ value: bytes("keep") }] });
    // At or above: the span is empty, forward, reverse and in pages around it.
    const now = await ok(a, {
      type: "read",
      readTs: null,
      ops: [
        { op: "get", key: tkey(A, "t/095") },
        { op: "scan", start: tkey(A, "a"), end: tkey(A, "z"), reverse: false, maxRows: 0, maxBytes: 0 },
        { op: "scan", start: tkey(A, "a"), end: tkey(A, "z"), reverse: true, maxRows: 0, maxBytes: 0 },
        { op: "scan", ...span(A, "t"), reverse: false, maxRows: 1, maxBytes: 0 },
      ],
    });
    expect(now).toMatchObject({
      results: [
        { op: "get", value: null },
        { op: "scan", rows: [{ key: tkey(A, "u/1") }], resumeKey: null },
        { op: "scan", rows: [{ key: tkey(A, "u/1") }], resumeKey: null },
        { op: "scan", rows: [], resumeKey: null },
      ],
    });
    // Writes into the span are refused as long as the node keeps the record; nothing is written.
    await refused(a, { type: "batch", reads: [], writes: [{ op: "put", key: tkey(A, "v/1"), value: bytes("x") }, { op: "put", key: tkey(A, "t/new"), value: bytes("x") }] }, "conflict", 409);
    await refused(a, { type: "commit", txnId: randomTxnId(), readTs: r0, readSpans: [span(A, "t")], writes: [{ op: "put", key: tkey(A, "v/2"), value: bytes("x") }] }, "conflict", 409);
    expect((await census(A, span(A, "v"))).versions).toBe(0);
    // The other tenant's keys with the same suffixes are untouched.
    expect((await census(B, span(B, "t"))).versions).toBe(20);
  });

  it("refuses spans outside the tenant's prefix, straddling ones, node-local ones and writes inside a cleared span of the same request; nothing changes", async () => {
    const before = { a: await census(A), b: await census(B), stats: await nodeStats() };
    const t = tenantSpan(A);
    const cases: Array<[KvHttpClient, WriteOp[], KvErrorName, number]> = [
      [a, [{ op: "clearRange", ...tenantSpan(B) }], "outside_tenant_span", 403],
      [a, [{ op: "clearRange", start: tkey(A, "z"), end: tkey(B, "a") }], "outside_tenant_span", 403],
      [a, [{ op: "clearRange", start: tkey(A - 1, "z"), end: tkey(A, "a") }], "outside_tenant_span", 403],
      [a, [{ op: "clearRange", ...tenantSpan(SYSTEM_TENANT_ID) }], "outside_tenant_span", 403],
      [a, [{ op: "clearRange", start: Uint8Array.of(0x01), end: t.end }], "outside_tenant_span", 403],
      [a, [{ op: "clearRange", start: tkey(A, "b"), end: tkey(A, "a") }], "malformed_request", 400],
      // The system credential is confined to its own span like any tenant.
      [sys, [{ op: "clearRange", ...tenantSpan(A) }], "outside_tenant_span", 403],
      // A request may not write inside a span it clears, whatever the order.
      [a, [{ op: "clearRange", ...span(A, "u") }, { op: "put", key: tkey(A, "u/2"), value: bytes("x") }], "malformed_request", 400],
      [a, [{ op: "put", key: tkey(A, "u/2"), value: bytes("x") }, { op: "clearRange", ...span(A, "u") }], "malformed_request", 400],
      [a, [{ op: "deleteRange", start: tkey(A, "u/0"), end: tkey(A, "u/5") }, { op: "clearRange", ...span(A, "u") }], "malformed_request", 400],
      // A valid clear in the same request as a refused op: the whole request is refused.
      [a, [{ op: "clearRange", ...span(A, "u") }, { op: "clearRange", ...tenantSpan(B) }], "outside_tenant_span", 403],
    ];
    for (const [client, writes, code, status] of cases) {
      await refused(client, { type: "batch", reads: [], writes }, code, status);
      await refused(client, { type: "commit", txnId: randomTxnId(), readTs: 1n, readSpans: [], writes }, code, status);
    }
    expect(await census(A)).toEqual(before.a);
    expect(await census(B)).toEqual(before.b);
    expect(await nodeStats()).toMatchObject({ clearRecords: before.stats.clearRecords });
    // The census itself: only the system credential, only inside one tenant's span.
    expect((await a.json(`/v1/admin/span-versions?tenantId=${A}`)).status).toBe(401);
    for (const q of ["tenantId=0", "tenantId=x", `tenantId=${A}&start=zz`, `tenantId=${A}&start=${hex(tkey(B, "a"))}`, `tenantId=${A}&end=${hex(tkey(B, "a"))}`, `tenantId=${A}&start=${hex(tkey(A, "b"))}&end=${hex(tkey(A, "a"))}`]) {
      const r = await sys.json(`/v1/admin/span-versions?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.json.error.code).toBe("malformed_request");
    }
  });

  it("finishes a pending clear after a restart (with default pacing), and the tenant's bytes come down", async () => {
    expect((await census(A, span(A, "t"))).versions).toBe(90);
    const liveBefore = (await sys.json("/v1/admin/stats")).json.tenants.find((x: { tenantId: number }) => x.tenantId === A).liveBytes as number;
    await shutdown();
    await boot({});
    await until("the span to be empty", async () => (await census(A, span(A, "t"))).versions === 0);
    await until("the record to be done", async () => (await nodeStats()).clearsPending === 0);
    const liveAfter = (await sys.json("/v1/admin/stats")).json.tenants.find((x: { tenantId: number }) => x.tenantId === A).liveBytes as number;
    // 90 rows of "t/NNN" = "vN.." left: each key is 9 + 5 bytes, each value 2-3 bytes.
    let expectedDrop = 0;
    for (let i = 10; i < 100; i++) expectedDrop += tkey(A, `t/${String(i).padStart(3, "0")}`).length + `v${i}`.length;
    expect(liveBefore - liveAfter).toBe(expectedDrop);
    // The record stays (refusing old snapshots) until the GC window passes; the tenant can still write elsewhere.
    expect(await nodeStats()).toMatchObject({ clearRecords: 1 });
    await ok(a, { type: "batch", reads: [], writes: [{ op: "put", key: tkey(A, "w/1"), value: bytes("x") }] });
  });

  it("drops the tenant with cleared spans pending: its records go with it, other tenants keep theirs", async () => {
    await ok(b, { type: "batch", reads: [], writes: [{ op: "clearRange", ...span(B, "t") }] });
    await until("B's clear to finish", async () => (await census(B, span(B, "t"))).versions === 0);
    await ok(a, { type: "batch", reads: [], writes: [{ op: "clearRange", ...span(A, "u") }] });
    expect((await nodeStats()).clearRecords).toBe(3);
    const { status, json } = await sys.json("/v1/admin/drop-tenant", "POST", { tenantId: A });
    expect(status).toBe(200);
    expect(json.dropped).toBe(true);
    expect(await census(A)).toMatchObject({ versions: 0 });
    await until("A's records to go", async () => (await nodeStats()).clearRecords === 1);
    await refused(a, { type: "read", readTs: null, ops: [{ op: "get", key: tkey(A, "w/1") }] }, "tenant_dropped", 410);
  });
});
