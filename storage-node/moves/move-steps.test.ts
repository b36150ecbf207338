// A tenant move at the writer, on two real LMDB engines (a source and a target writer core, no
// replication: on a replicated node each step below is one log entry): the fence is a barrier,
// the copy plus the adopting import reproduce the tenant's state byte for byte (its digest),
// a commit retried on the target gets its first answer instead of applying twice, and every
// refusal leaves nothing behind.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { decodeResponse, encodeRequest } from "../../common/kv-protocol/codec.ts";
import type { KvRequest } from "../../common/kv-protocol/messages.ts";
import { LmdbEngine } from "../engine/lmdb-engine.ts";
import { makeTimestamp } from "../hlc.ts";
import { resolveLimits } from "../limits.ts";
import { tenantMovedKey } from "../node-keys.ts";
import { encodeGroupEntry } from "../replication/group-entry.ts";
import { tkey } from "../testing/kv-client.ts";
import { WriterCore } from "../writer/writer-core.ts";
import { tenantState, tenantStateDigest, touchedKeysDigest } from "./tenant-keys.ts";

const T = 7;
const OTHER = 8;
const dirs: string[] = [];
const engines: LmdbEngine[] = [];

afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function node(): { engine: LmdbEngine; core: WriterCore } {
  const dir = mkdtempSync(join(tmpdir(), "warren-move-"));
  dirs.push(dir);
  const engine = new LmdbEngine({ path: dir, noSync: true });
  engines.push(engine);
  return { engine, core: new WriterCore(engine, resolveLimits()) };
}

let id = 1;
let ts = makeTimestamp(Date.now());
/** Runs one commit or batch of `tenant` at a fresh timestamp; the decoded answer. */
function run(core: WriterCore, tenant: number, req: KvRequest) {
  ts += 1000n;
  const msg = core.runGroup([{ kind: req.type === "commit" ? "commit" : "batch", id: id++, tenantId: tenant, commitTs: ts, body: encodeRequest(req) }]);
  if (msg.kind !== "done") throw new Error(`group failed: ${msg.kind === "failed" ? msg.message : msg.kind}`);
  return decodeResponse(msg.replies[0]!.response);
}

const enc = (s: string) => new TextEncoder().encode(s);
const put = (tenant: number, k: string, v: string) => ({ op: "put" as const, key: tkey(tenant, k), value: enc(v) });

/** The tenant's whole state as import chunks (what the source's export sends). */
function exportOps(engine: LmdbEngine, tenant: number): Uint8Array {
  engine.refresh();
  return encodeGroupEntry([...tenantState(engine, tenant)].map((e) => ({ put: true as const, key: e.key, value: e.value })));
}

describe("a tenant move's writer steps", () => {
  it("fences, copies the state byte for byte, adopts, answers a retried commit from its record, and purges the source", () => {
    const src = node();
    const dst = node();
    expect(run(src.core, T, { type: "batch", reads: [], writes: [put(T, "a", "1"), put(T, "b", "1")] }).type).toBe("batch");
    expect(run(src.core, T, { type: "batch", reads: [], writes: [put(T, "a", "2")] }).type).toBe("batch"); // a GC-queue entry
    const readTs = ts;
    const txnId = new Uint8Array(16).fill(3);
    const commit: KvRequest = { type: "commit", txnId, readTs, readSpans: [], writes: [put(T, "c", "once")] };
    expect(run(src.core, T, commit).type).toBe("commit");
    expect(run(src.core, T, { type: "batch", reads: [], writes: [{ op: "clearRange", start: tkey(T, "b"), end: tkey(T, "b\u0000") }] }).type).toBe("batch");
    expect(run(src.core, OTHER, { type: "batch", reads: [], writes: [put(OTHER, "x", "other")] }).type).toBe("batch");

    // The fence is a barrier: a job after it is refused and writes nothing.
    expect(src.core.moveStep(id++, { op: "fence", tenantId: T }).ok).toBe(true);
    const before = tenantStateDigest(src.engine, T);
    const refused = run(src.core, T, { type: "batch", reads: [], writes: [put(T, "late", "x")] });
    expect(refused).toMatchObject({ type: "error", error: { code: "tenant_moved" } });
    src.engine.refresh();
    expect(tenantStateDigest(src.engine, T)).toEqual(before);
    expect(run(src.core, OTHER, { type: "batch", reads: [], writes: [put(OTHER, "y", "still served")] }).type).toBe("batch");

    // Copy, then the adopting import of an empty last tail with the source's digest.
    const ops = exportOps(src.engine, T);
    expect(dst.core.moveStep(id++, { op: "import", tenantId: T, first: true, ops }).ok).toBe(true);
    expect(run(dst.core, T, { type: "batch", reads: [], writes: [put(T, "early", "x")] })).toMatchObject({ type: "error", error: { code: "tenant_moved" } });
    const adopt = dst.core.moveStep(id++, { op: "import", tenantId: T, first: false, ops: new Uint8Array(0), adopt: { digest: before.sha256, clockAtLeast: ts, digestOf: "state" } });
    expect(adopt.ok, new TextDecoder().decode(adopt.response)).toBe(true);
    dst.engine.refresh();
    expect(tenantStateDigest(dst.engine, T)).toEqual(before);
    expect(dst.engine.get(tenantMovedKey(T))).toBeUndefined();
    // The same commit sent again to the target: its first answer, nothing applied twice.
    const again = run(dst.core, T, commit);
    expect(again.type).toBe("commit");
    dst.engine.refresh();
    expect(tenantStateDigest(dst.engine, T)).toEqual(before);
    expect(run(dst.core, T, { type: "batch", reads: [], writes: [put(T, "after", "1")] }).type).toBe("batch");
    // A retried adopting import (its first answer lost) does nothing to the tenant that now takes writes.
    dst.engine.refresh();
    const live = tenantStateDigest(dst.engine, T);
    expect(new TextDecoder().decode(dst.core.moveStep(id++, { op: "import", tenantId: T, first: false, ops, adopt: { digest: before.sha256, clockAtLeast: ts, digestOf: "state" } }).response)).toBe("already adopted");
    dst.engine.refresh();
    expect(tenantStateDigest(dst.engine, T)).toEqual(live);

    // The source's copy goes; its marker stays, so it keeps refusing; the other tenant is untouched.
    src.engine.refresh();
    const other = tenantStateDigest(src.engine, OTHER);
    while (!src.core.purgeStep(T).done) {
      // bounded steps
    }
    src.engine.refresh();
    expect([...tenantState(src.engine, T)]).toEqual([]);
    expect(src.engine.get(tenantMovedKey(T))).toBeDefined();
    expect(run(src.core, T, { type: "batch", reads: [], writes: [put(T, "z", "x")] })).toMatchObject({ type: "error", error: { code: "tenant_moved" } });
    expect(tenantStateDigest(src.engine, OTHER)).toEqual(other);
  });

  it("refuses an import of another tenant's key, an adopt whose digest differs, and an import into a tenant served here, writing nothing", () => {
    const src = node();
    const dst = node();
    run(src.core, T, { type: "batch", reads: [], writes: [put(T, "a", "1")] });
    const ops = exportOps(src.engine, T);
    const foreign = encodeGroupEntry([{ put: true, key: tkey(OTHER, "x"), value: enc("x") }]);
    expect(dst.core.moveStep(id++, { op: "import", tenantId: T, first: true, ops: foreign })).toMatchObject({ ok: false });
    dst.engine.refresh();
    expect(tenantStateDigest(dst.engine, OTHER).keys).toBe(0);
    expect(dst.engine.get(tenantMovedKey(T))).toBeUndefined();

    expect(dst.core.moveStep(id++, { op: "import", tenantId: T, first: true, ops }).ok).toBe(true);
    const extra = encodeGroupEntry([{ put: true, key: exportOpsKeys(src.engine)[0]!, value: enc("tampered") }]);
    const wrong = dst.core.moveStep(id++, { op: "import", tenantId: T, first: false, ops: extra, adopt: { digest: tenantStateDigest(src.engine, T).sha256, clockAtLeast: ts, digestOf: "state" } });
    expect(wrong.ok).toBe(false);
    expect(new TextDecoder().decode(wrong.response)).toMatch(/differs from the source's/);
    dst.engine.refresh();
    expect(tenantStateDigest(dst.engine, T)).toEqual(tenantStateDigest(src.engine, T)); // the tampered chunk was not written
    expect(run(dst.core, T, { type: "batch", reads: [], writes: [put(T, "b", "1")] })).toMatchObject({ type: "error", error: { code: "tenant_moved" } });

    // A tenant this node serves (no marker, with state) takes no import, not even a first one.
    expect(src.core.moveStep(id++, { op: "import", tenantId: T, first: true, ops })).toMatchObject({ ok: false });
    expect(src.core.moveStep(id++, { op: "import", tenantId: T, first: false, ops })).toMatchObject({ ok: false });
  });

  it("adopts on the digest of the keys the last tail touches: the tail as the source wrote it passes, a changed or missing operation does not", () => {
    const src = node();
    const dst = node();
    let id = 1;
    const ts = makeTimestamp(Date.now(), 0);
    for (let i = 0; i < 20; i++) expect(run(src.core, T, { type: "batch", reads: [], writes: [put(T, `k${i}`, `v${i}`)] }).type).toBe("batch");
    expect(dst.core.moveStep(id++, { op: "import", tenantId: T, first: true, ops: exportOps(src.engine, T) }).ok).toBe(true);
    // The last tail: puts over two keys, one removal (as the log would carry them).
    const k = (name: string) => [...tenantState((src.engine.refresh(), src.engine), T)].find((e) => Buffer.from(e.key).includes(Buffer.from(name)))!.key.slice();
    const tail: Array<{ put: true; key: Uint8Array; value: Uint8Array } | { put: false; key: Uint8Array }> = [
      { put: true as const, key: k("k3"), value: enc("changed") },
      { put: true as const, key: k("k7"), value: enc("new") },
      { put: false as const, key: k("k5") },
    ];
    src.engine.writeSync((w) => tail.forEach((o) => (o.put ? w.put(o.key, o.value) : w.remove(o.key))));
    src.engine.refresh();
    const chunk = encodeGroupEntry(tail);
    const touched = touchedKeysDigest(src.engine, chunk);
    expect(touched.keys).toBe(3);
    const adopt = (ops: Uint8Array) => dst.core.moveStep(id++, { op: "import", tenantId: T, first: false, ops, adopt: { digest: touched.sha256, clockAtLeast: ts, digestOf: "touched" } });
    // A tail missing its removal, or with another value, touches other state: refused, nothing written.
    expect(adopt(encodeGroupEntry(tail.slice(0, 2)))).toMatchObject({ ok: false });
    expect(adopt(encodeGroupEntry([tail[0]!, { put: true, key: tail[1]!.key, value: enc("other") }, tail[2]!]))).toMatchObject({ ok: false });
    dst.engine.refresh();
    expect(dst.engine.get(tenantMovedKey(T))).toBeDefined();
    const ok = adopt(chunk);
    expect(ok.ok, new TextDecoder().decode(ok.response)).toBe(true);
    dst.engine.refresh();
    expect(tenantStateDigest(dst.engine, T)).toEqual(tenantStateDigest(src.engine, T));
  });
});

function exportOpsKeys(engine: LmdbEngine): Uint8Array[] {
  engine.refresh();
  return [...tenantState(engine, T)].map((e) => e.key.slice());
}
