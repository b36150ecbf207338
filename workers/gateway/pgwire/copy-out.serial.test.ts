// Serial test group (vitest.config.ts): it streams a million rows and measures heap growth, which
// other test files running beside it on two cores would skew.
// Acceptance: a 1,000,000-row COPY … TO STDOUT through the gateway's connection, over the real
// session and the real storage node, holds bounded memory. What is *held* is measured as in
// sql/big-table.serial.test.ts: the heap right after a forced collection, sampled every 16 frames
// while rows stream. The client is a transport that writes at most FRAME_DRAIN_BYTES per
// millisecond and reports what it has not written yet (bufferedBytes), so the COPY must wait for it
// (back-pressure); a transport that kept everything would hold the whole result instead.
// A second case scans a stored table (COPY_TABLE_ROWS rows, loaded with COPY FROM, default
// 100,000; WARREN_BIG_ROWS=1000000 runs the table at the full size too).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRealStorage, type RealStorage } from "../sql/testing/storage-node.ts";
import { pgwireLimits } from "./limits.ts";
import { openTestConnection, type TestConnection } from "./test-connection.ts";
import { fe, parseBackend } from "./wire-test-client.ts";

const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
const SERIES_ROWS = 1_000_000;
const TABLE_ROWS = Number(env["WARREN_BIG_ROWS"] ?? 100_000);
/** The bound asserted on what a COPY holds while it streams (the result itself is ~40 MB of text). */
const RETAINED_BYTES_MAX = 24 * 1024 * 1024;
/** The slow client: bytes it writes out per millisecond. */
const FRAME_DRAIN_BYTES = 64 * 1024;

function heapUsed(): number {
  return (globalThis as unknown as { process: { memoryUsage(): { heapUsed: number } } }).process.memoryUsage().heapUsed;
}

/** A full garbage collection (Node: --expose-gc switched on at run time), or null where the runtime has none. */
function forcedGc(): (() => void) | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const v8 = proc?.getBuiltinModule?.("node:v8") as { setFlagsFromString(flags: string): void } | undefined;
  const vm = proc?.getBuiltinModule?.("node:vm") as { runInNewContext(code: string): unknown } | undefined;
  if (!v8 || !vm) return null;
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc");
  return typeof gc === "function" ? (gc as () => void) : null;
}

interface SlowClient {
  connection: TestConnection;
  /** Everything received, as a count: bytes, CopyData messages, and the command tag. */
  bytes: number;
  copyData: number;
  tag: string;
  /** Peak of what was sent but not yet "written" by the client. */
  peakBuffered: number;
  peakRetained: number;
  frames: number;
}

async function slowClient(storage: RealStorage, tenantId: number): Promise<SlowClient> {
  const gc = forcedGc();
  const c: Partial<SlowClient> = { bytes: 0, copyData: 0, tag: "", peakBuffered: 0, peakRetained: 0, frames: 0 };
  let queued = 0;
  let base = 0;
  const drain = setInterval(() => {
    queued = Math.max(0, queued - FRAME_DRAIN_BYTES);
  }, 1);
  const connection = await openTestConnection({
    kv: await storage.capability(tenantId),
    tenantId,
    keepReceived: false,
    io: {
      send: (b) => {
        queued += b.length;
        c.peakBuffered = Math.max(c.peakBuffered!, queued);
        c.bytes! += b.length;
        c.frames!++;
        // Count messages without keeping them.
        const seen = scanFrame(b);
        c.copyData! += seen.copyData;
        if (seen.tag !== null) c.tag = seen.tag;
        if (gc !== null && c.frames! % 16 === 0) {
          gc();
          c.peakRetained = Math.max(c.peakRetained!, heapUsed() - base);
        }
      },
      bufferedBytes: () => queued,
    },
  });
  gc?.();
  base = heapUsed();
  (connection as unknown as { stopDrain: () => void }).stopDrain = () => clearInterval(drain);
  c.connection = connection;
  return c as SlowClient;
}

/** CopyData messages (type 'd') and the CommandComplete tag in a frame of whole messages. */
function scanFrame(b: Uint8Array): { copyData: number; tag: string | null } {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let copyData = 0;
  let tag: string | null = null;
  for (let at = 0; at + 5 <= b.length; at += 1 + v.getInt32(at + 1)) {
    if (b[at] === 0x64) copyData++;
    else if (b[at] === 0x43) tag = (parseBackend(b.subarray(at, at + 1 + v.getInt32(at + 1)))[0] as { tag: string }).tag;
  }
  return { copyData, tag };
}

let storage: RealStorage;

beforeAll(async () => {
  storage = await startRealStorage();
}, 120_000);

afterAll(async () => {
  await storage?.close();
});

describe("COPY TO STDOUT holds bounded memory", () => {
  it(`streams ${SERIES_ROWS} rows to a slow client within ${RETAINED_BYTES_MAX >> 20} MiB of retained heap`, async () => {
    const client = await slowClient(storage, 91);
    const started = Date.now();
    await client.connection.send(fe.Query(`COPY (SELECT g, 'row-' || g || '-padding-padding' FROM generate_series(1, ${SERIES_ROWS}) g) TO STDOUT`));
    (client.connection as unknown as { stopDrain: () => void }).stopDrain();
    console.log(
      `COPY TO of ${SERIES_ROWS} rows: ${(client.bytes / 1048576).toFixed(1)} MiB in ${client.frames} frames, ${Date.now() - started} ms; ` +
        `retained heap high-water ${(client.peakRetained / 1048576).toFixed(1)} MiB (bound ${RETAINED_BYTES_MAX >> 20} MiB); ` +
        `client backlog high-water ${(client.peakBuffered / 1048576).toFixed(2)} MiB (copyOutBufferedBytesMax ${pgwireLimits.copyOutBufferedBytesMax >> 20} MiB + a frame)`,
    );
    expect(client.tag).toBe(`COPY ${SERIES_ROWS}`);
    expect(client.copyData).toBe(SERIES_ROWS);
    expect(client.peakRetained).toBeLessThan(RETAINED_BYTES_MAX);
    // The client never had more than the back-pressure bound plus the frame that crossed it.
    expect(client.peakBuffered).toBeLessThanOrEqual(pgwireLimits.copyOutBufferedBytesMax + 2 * pgwireLimits.copyOutFrameBytes);
  }, 600_000);

  it(`loads ${TABLE_ROWS} rows with COPY FROM, then streams the stored table out within the same bound`, async () => {
    const loader = await openTestConnection({ kv: await storage.capability(92), tenantId: 92 });
    await loader.send(fe.Query("CREATE TABLE big (id int PRIMARY KEY, grp int NOT NULL, pad text NOT NULL)"));
    await loader.send(fe.Query("COPY big FROM STDIN"));
    const loadStarted = Date.now();
    const chunkRows = 10_000;
    for (let a = 1; a <= TABLE_ROWS; a += chunkRows) {
      let text = "";
      for (let i = a; i < Math.min(TABLE_ROWS + 1, a + chunkRows); i++) text += `${i}\t${i % 100}\trow-${i}-padding-padding\n`;
      await loader.conn.receive(fe.CopyData(text));
    }
    const done = await loader.send(fe.CopyDone());
    expect(done.find((m) => m.type === "C")).toEqual({ type: "C", tag: `COPY ${TABLE_ROWS}` });
    const loadMs = Date.now() - loadStarted;

    const client = await slowClient(storage, 92);
    const started = Date.now();
    await client.connection.send(fe.Query("COPY big TO STDOUT (FORMAT csv)"));
    (client.connection as unknown as { stopDrain: () => void }).stopDrain();
    console.log(
      `COPY FROM of ${TABLE_ROWS} rows: ${loadMs} ms; COPY TO of the table: ${(client.bytes / 1048576).toFixed(1)} MiB, ${Date.now() - started} ms; ` +
        `retained heap high-water ${(client.peakRetained / 1048576).toFixed(1)} MiB; client backlog high-water ${(client.peakBuffered / 1048576).toFixed(2)} MiB`,
    );
    expect(client.tag).toBe(`COPY ${TABLE_ROWS}`);
    expect(client.copyData).toBe(TABLE_ROWS);
    expect(client.peakRetained).toBeLessThan(RETAINED_BYTES_MAX);
  }, 1_800_000);
});
