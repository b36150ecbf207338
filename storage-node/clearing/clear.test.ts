// Clearing a span on the writer core over a real LMDB directory: a clearRange commit stores its
// record, the deletion runs in steps of about clearChunkKeysMax versions (finishing the key it is
// in), lowers the tenant's byte counters exactly, never touches keys outside the span or other
// tenants, survives a crash in the middle of a step (a fault injected inside the step's write
// transaction, then a restart on the same directory), refuses writes into the span, and forgets
// the record once it is done and the GC threshold has passed it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { decodeResponse, encodeRequest } from "../../common/kv-protocol/codec.ts";
import type { KvRequest, KvResponse, WriteOp } from "../../common/kv-protocol/messages.ts";
import { LmdbEngine } from "../engine/lmdb-engine.ts";
import { makeTimestamp } from "../hlc.ts";
import { resolveLimits } from "../limits.ts";
import { userKeyOf } from "../mvcc/version-key.ts";
import { allWithTag, CLEAR_RECORD_TAG, VERSIONS_HIGH, VERSIONS_LOW } from "../node-keys.ts";
import { tkey } from "../testing/kv-client.ts";
import { WriterCore, type WriterFaults } from "../writer/writer-core.ts";
import type { ClearKey } from "../writer/protocol.ts";

const T = 5;
const U = 6;
const dirs: string[] = [];
const engines: LmdbEngine[] = [];

afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function open(dir?: string, faults: WriterFaults = {}, chunk = 1000): { dir: string; engine: LmdbEngine; core: WriterCore } {
  const d = dir ?? mkdtempSync(join(tmpdir(), "warren-clear-"));
  if (!dir) dirs.push(d);
  const engine = new LmdbEngine({ path: d, noSync: true });
  engines.push(engine);
  const core = new WriterCore(engine, resolveLimits({ clearChunkKeysMax: chunk }), Date.now, faults);
  return { dir: d, engine, core };
}

// Realistic timestamps: a commit checks its snapshot's age against txnDurationMsMax.
let ts = makeTimestamp(Date.now());
let jobId = 1;
/** Applies one request as a one-job group; returns the decoded response and the group message. */
function run(core: WriterCore, tenantId: number, req: KvRequest): { res: KvResponse; commitTs: bigint; msg: ReturnType<WriterCore["runGroup"]> } {
  const commitTs = ++ts;
  const msg = core.runGroup([{ kind: req.type as "batch" | "commit", id: jobId++, tenantId, commitTs, body: encodeRequest(req) }]);
  if (msg.kind !== "done") throw new Error(`group failed: ${JSON.stringify(msg, (_k, v) => (typeof v === "bigint" ? String(v) : v))}`);
  return { res: decodeResponse(msg.replies[0]!.response), commitTs, msg };
}

function write(core: WriterCore, tenantId: number, writes: WriteOp[]): bigint {
  const { res, commitTs } = run(core, tenantId, { type: "batch", reads: [], writes });
  if (res.type !== "batch") throw new Error(`write refused: ${JSON.stringify(res)}`);
  return commitTs;
}

const key = (t: number, s: string): Uint8Array => tkey(t, s);
const put = (t: number, s: string, v = "value-" + s): WriteOp => ({ op: "put", key: key(t, s), value: new TextEncoder().encode(v) });
const aSpan = (t: number) => ({ start: key(t, "a/"), end: key(t, "a0") });

function bytesOf(core: WriterCore, t: number): [number, number] {
  const e = core.readyMessage().bytes.find(([id]) => id === t);
  return e === undefined ? [0, 0] : [e[1], e[2]];
}

/** Version entries stored under a tenant's keys starting with `prefix`. */
function stored(engine: LmdbEngine, t: number, prefix: string): number {
  let n = 0;
  const want = key(t, prefix);
  for (const e of engine.range({ low: VERSIONS_LOW, high: VERSIONS_HIGH })) {
    const k = userKeyOf(e.key);
    if (k.length >= want.length && want.every((b, i) => k[i] === b)) n++;
  }
  return n;
}

function recordsOnDisk(engine: LmdbEngine): number {
  const r = allWithTag(CLEAR_RECORD_TAG);
  return [...engine.range({ low: r.low, high: r.high })].length;
}

/** T: 100 keys outside the span ("b/"), then 3,000 in it ("a/"), 100 of them overwritten, 50 deleted; U: 100 keys "a/". */
function seed(core: WriterCore): { bOnly: [number, number]; uBytes: [number, number]; inSpan: number } {
  write(core, T, Array.from({ length: 100 }, (_, i) => put(T, `b/${i}`)));
  const bOnly = bytesOf(core, T);
  write(core, U, Array.from({ length: 100 }, (_, i) => put(U, `a/${i}`)));
  const uBytes = bytesOf(core, U);
  for (let at = 0; at < 3000; at += 500) write(core, T, Array.from({ length: 500 }, (_, i) => put(T, `a/${String(at + i).padStart(4, "0")}`)));
  write(core, T, Array.from({ length: 100 }, (_, i) => put(T, `a/${String(i * 7).padStart(4, "0")}`, "v2")));
  write(core, T, Array.from({ length: 50 }, (_, i): WriteOp => ({ op: "delete", key: key(T, `a/${String(i * 11 + 1).padStart(4, "0")}`) })));
  return { bOnly, uBytes, inSpan: 3000 + 100 + 50 };
}

function clear(core: WriterCore, t: number, span: { start: Uint8Array; end: Uint8Array }): ClearKey {
  const { res, commitTs, msg } = run(core, t, { type: "batch", reads: [], writes: [{ op: "clearRange", ...span }] });
  expect(res.type).toBe("batch");
  const added = msg.kind === "done" ? (msg.clears?.added ?? []) : [];
  expect(added).toHaveLength(1);
  expect(added[0]).toMatchObject({ tenantId: t, clearTs: commitTs, done: false });
  return { tenantId: t, clearTs: commitTs, start: span.start };
}

describe("clearing a span on the writer", () => {
  it("deletes in steps of about clearChunkKeysMax, ends on key boundaries, and lowers only the tenant's counters, exactly", () => {
    const { engine, core } = open();
    const { bOnly, uBytes, inSpan } = seed(core);
    expect(stored(engine, T, "a/")).toBe(inSpan);
    const k = clear(core, T, aSpan(T));
    // The clear itself wrote no version and removed nothing yet.
    expect(stored(engine, T, "a/")).toBe(inSpan);
    const steps: number[] = [];
    for (let done = false; !done; ) {
      const s = core.clearStep(k);
      steps.push(s.removed);
      done = s.done;
    }
    // 3,150 versions in steps of 1,000 (a step may finish the versions of the key it stopped in).
    expect(steps.reduce((a, b) => a + b, 0)).toBe(inSpan);
    expect(steps.length).toBe(4);
    for (const n of steps.slice(0, -1)) expect(n === 1000 || n === 1001).toBe(true);
    expect(stored(engine, T, "a/")).toBe(0);
    expect(stored(engine, T, "b/")).toBe(100);
    expect(stored(engine, U, "a/")).toBe(100);
    expect(bytesOf(core, T)).toEqual(bOnly);
    expect(bytesOf(core, U)).toEqual(uBytes);
    // Done, and reported once; the record waits for the GC threshold.
    expect(core.takeClearNews()?.done).toEqual([k]);
    expect(core.readyMessage().clears).toMatchObject([{ tenantId: T, done: true }]);
    expect(core.clearStep(k)).toEqual({ removed: 0, done: true });
  });

  it("resumes after a crash inside a step: nothing of that step is stored, the restart finishes the span with exact counters", async () => {
    let calls = 0;
    const crashAt = 3;
    const faults: WriterFaults = {
      beforeClearCommit: () => {
        if (++calls === crashAt) throw new Error("injected crash");
      },
    };
    const first = open(undefined, faults);
    const { bOnly, uBytes, inSpan } = seed(first.core);
    const k = clear(first.core, T, aSpan(T));
    let removed = 0;
    expect(() => {
      for (;;) removed += first.core.clearStep(k).removed;
    }).toThrow("injected crash");
    expect(removed).toBeGreaterThanOrEqual(2000);
    expect(stored(first.engine, T, "a/")).toBe(inSpan - removed);

    // "Restart": the engine closed without finishing, a new writer core on the same directory.
    await first.engine.close();
    engines.splice(engines.indexOf(first.engine), 1);
    const again = open(first.dir);
    const rec = again.core.readyMessage().clears;
    expect(rec).toHaveLength(1);
    expect(rec[0]!).toMatchObject({ tenantId: T, clearTs: k.clearTs, done: false });
    // The counters on disk match what is left: finishing brings them exactly to the "b/"-only state.
    expect(stored(again.engine, T, "a/")).toBe(inSpan - removed);
    let steps = 0;
    while (!again.core.clearStep(k).done) steps++;
    expect(steps).toBeLessThanOrEqual(2);
    expect(stored(again.engine, T, "a/")).toBe(0);
    expect(stored(again.engine, T, "b/")).toBe(100);
    expect(bytesOf(again.core, T)).toEqual(bOnly);
    expect(bytesOf(again.core, U)).toEqual(uBytes);
  });

  it("refuses writes into a cleared span, and a commit that read it before the clear; hides it from later reads at once", () => {
    const { engine, core } = open(undefined, {}, 10);
    write(core, T, Array.from({ length: 50 }, (_, i) => put(T, `a/${i}`)));
    const readTs = ts;
    const k = clear(core, T, aSpan(T));
    // Nothing deleted yet, and yet a read at the latest state sees nothing of the span.
    expect(stored(engine, T, "a/")).toBe(50);
    const scan = run(core, T, { type: "batch", reads: [{ op: "scan", ...aSpan(T), reverse: false, maxRows: 0, maxBytes: 0 }, { op: "get", key: key(T, "a/7") }], writes: [put(T, "z")] });
    expect(scan.res).toMatchObject({ type: "batch", results: [{ op: "scan", rows: [], resumeKey: null }, { op: "get", value: null }] });
    for (const w of [put(T, "a/new"), { op: "delete" as const, key: key(T, "a/3") }, { op: "deleteRange" as const, start: key(T, "a/1"), end: key(T, "a/2") }]) {
      const r = run(core, T, { type: "batch", reads: [], writes: [put(T, "c/ok"), w] });
      expect(r.res).toMatchObject({ type: "error", error: { code: "conflict" } });
    }
    const c = run(core, T, { type: "commit", txnId: new Uint8Array([1]), readTs, readSpans: [{ start: key(T, "a/"), end: key(T, "b") }], writes: [put(T, "c/x")] });
    expect(c.res).toMatchObject({ type: "error", error: { code: "conflict" } });
    // Refused requests wrote nothing (not even their keys outside the span).
    expect(stored(engine, T, "c/")).toBe(0);
    // The same span of another tenant is not affected.
    write(core, U, [put(U, "a/1")]);
    expect(stored(engine, U, "a/")).toBe(1);
    // Clearing a span that contains a cleared one is allowed (DROP TABLE after DROP INDEX).
    clear(core, T, { start: key(T, "a"), end: key(T, "b") });
    expect(core.clearStep(k).removed).toBe(10);
  });

  it("forgets a done record once the GC threshold passes its clearTs, never a pending one; a tenant drop forgets its records", () => {
    const { engine, core } = open(undefined, {}, 10);
    write(core, T, Array.from({ length: 30 }, (_, i) => put(T, `a/${i}`)));
    const k1 = clear(core, T, aSpan(T));
    write(core, T, Array.from({ length: 30 }, (_, i) => put(T, `d/${i}`)));
    const k2 = clear(core, T, { start: key(T, "d/"), end: key(T, "d0") });
    while (!core.clearStep(k1).done);
    core.takeClearNews();
    expect(recordsOnDisk(engine)).toBe(2);
    // A GC pass above both: the done one goes, the pending one stays.
    expect(core.gcStep(ts, null).cursor).toBeNull();
    expect(core.takeClearNews()?.expired).toEqual([k1]);
    expect(recordsOnDisk(engine)).toBe(1);
    expect(core.readyMessage().clears.map((r) => r.clearTs)).toEqual([k2.clearTs]);
    // Writes into the forgotten span are accepted again (its snapshots are all gone).
    write(core, T, [put(T, "a/again")]);
    // Finishing a record below the threshold forgets it at once.
    while (!core.clearStep(k2).done);
    expect(core.takeClearNews()?.expired).toEqual([k2]);
    expect(recordsOnDisk(engine)).toBe(0);
    // Tenant drop: records of the dropped tenant go with its data; another tenant's stay.
    write(core, U, [put(U, "a/1")]);
    const ku = clear(core, U, aSpan(U));
    const kt = clear(core, T, aSpan(T));
    while (!core.dropStep(T).done);
    expect(core.takeClearNews()?.expired).toEqual([kt]);
    expect(core.readyMessage().clears.map((r) => r.tenantId)).toEqual([U]);
    expect(core.clearStep(ku).done).toBe(true);
  });

  it("counts a key's versions and tombstones as apply.ts does (a key with 2,500 versions spans several steps' worth)", () => {
    const { engine, core } = open(undefined, {}, 1000);
    write(core, T, [put(T, "b/keep")]);
    const before = bytesOf(core, T);
    for (let i = 0; i < 2500; i++) write(core, T, [i % 5 === 4 ? { op: "delete", key: key(T, "a/hot") } : put(T, "a/hot", `v${i}`)]);
    write(core, T, [put(T, "a/zz")]);
    const k = clear(core, T, aSpan(T));
    // One step takes the hot key's versions whole (never splits a key), the next the rest.
    const s1 = core.clearStep(k);
    expect(s1.removed).toBe(stored(engine, T, "a/hot") + s1.removed);
    expect(s1.removed).toBeGreaterThanOrEqual(2000);
    expect(core.clearStep(k)).toEqual({ removed: 1, done: true });
    expect(bytesOf(core, T)).toEqual(before);
  });
});
