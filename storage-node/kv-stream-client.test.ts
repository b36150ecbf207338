// The KV stream client (common/kv-protocol/stream-client.ts), which the edge's TenantKV channels use: against a real
// storage node (its own process, LMDB) for interleaved concurrent requests and a node killed with
// requests in flight, and against a scripted fake node for the protocol faults and the limits of
// workers/edge/limits.ts at their edges.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { limits as edgeLimits } from "../workers/edge/limits.ts";
import { DEFAULT_LIMITS } from "./limits.ts";
import { spawnStorageNode } from "./testing/spawn-node.ts";
import { nodeStreamSocket, openNodeKvStream } from "./testing/node-stream-socket.ts";
import { bytes, text, tkey } from "./testing/kv-client.ts";
import { decodeResponse, encodeRequest } from "../common/kv-protocol/codec.ts";
import type { KvRequest, KvResponse } from "../common/kv-protocol/messages.ts";
import { encodeStreamFrame, StreamFrameReader } from "../common/kv-protocol/stream.ts";
import { KvStreamBroken, KvStreamFull, openKvStream, type KvStreamClientLimits, type KvStreamConnection } from "../common/kv-protocol/stream-client.ts";

const SECRET = "stream-client-secret-0123456789";
const T = 40;
const EDGE: KvStreamClientLimits = {
  frameBytesMax: edgeLimits.kvStreamFrameBytesMax,
  inFlightMax: edgeLimits.kvStreamInFlightMax,
  upgradeBytesMax: edgeLimits.kvStreamUpgradeBytesMax,
  openMsMax: edgeLimits.kvStreamOpenMsMax,
  requestMsMax: edgeLimits.kvStreamRequestMsMax,
};

const dirs: string[] = [];
const children: Array<{ kill(signal: NodeJS.Signals): boolean; exitCode: number | null; signalCode: string | null }> = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function node(dir?: string) {
  const d = dir ?? mkdtempSync(join(tmpdir(), "warren-stream-client-"));
  if (dir === undefined) dirs.push(d);
  const n = await spawnStorageNode(d, SECRET);
  children.push(n.child);
  return { ...n, dir: d };
}

async function send(s: KvStreamConnection, req: KvRequest): Promise<KvResponse> {
  return decodeResponse(await s.request(encodeRequest(req)));
}

const get = (key: string): KvRequest => ({ type: "read", readTs: null, ops: [{ op: "get", key: tkey(T, key) }] });
const put = (key: string, value: string): KvRequest => ({ type: "batch", reads: [], writes: [{ op: "put", key: tkey(T, key), value: bytes(value) }] });
const valueOf = (r: KvResponse): string | null => (r.type === "read" && r.results[0]!.op === "get" ? text(r.results[0]!.value) : `not a read: ${r.type}`);

describe("KV stream client against a real storage node", () => {
  let live: Awaited<ReturnType<typeof node>>;
  beforeAll(async () => {
    live = await node();
  });

  it("answers interleaved concurrent requests each with its own reply", async () => {
    const s = await openNodeKvStream(live.url, SECRET, T, EDGE);
    try {
      const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
      for (const r of await Promise.all(keys.map((k) => send(s, put(k, `v-${k}`))))) expect(r.type).toBe("batch");
      // Reads of every key interleaved with writes of other keys (the writer thread answers later
      // than reads, so answers come back out of order), all in flight at once.
      const mixed = Array.from({ length: 240 }, (_, i) =>
        i % 3 === 0 ? { kind: "put" as const, key: `w${i}`, r: send(s, put(`w${i}`, `x${i}`)) } : { kind: "get" as const, key: keys[i % keys.length]!, r: send(s, get(keys[i % keys.length]!)) },
      );
      let reads = 0;
      for (const m of mixed) {
        const r = await m.r;
        if (m.kind === "get") {
          reads++;
          expect(valueOf(r)).toBe(`v-${m.key}`);
        } else expect(r.type).toBe("batch");
      }
      expect(reads).toBe(160);
      // The writes landed under their own keys.
      for (const i of [0, 3, 237]) expect(valueOf(await send(s, get(`w${i}`)))).toBe(`x${i}`);
      expect(s.inFlight).toBe(0);
    } finally {
      s.close();
    }
  });

  it("refuses a bad token at the upgrade with the node's status", async () => {
    const u = new URL(live.url);
    const opened = await openKvStream(await nodeStreamSocket(u.hostname, Number(u.port)), u.host, "wt1.40.1.AAAA", EDGE);
    expect("refused" in opened && opened.refused.status).toBe(401);
    expect("refused" in opened && decodeResponse(opened.refused.body).type).toBe("error");
  });

  it("fails every request in flight when the node is killed, and a new stream to the restarted node works", async () => {
    const victim = await node();
    const s = await openNodeKvStream(victim.url, SECRET, T, EDGE);
    expect((await send(s, put("durable", "yes"))).type).toBe("batch");
    // Stopped first, so the requests are surely in flight (sent, unanswered) when the node dies.
    victim.child.kill("SIGSTOP");
    const inFlight = Array.from({ length: 10 }, (_, i) => s.request(encodeRequest(get(`k${i}`))).then(() => "answered", (e: unknown) => e));
    await new Promise((r) => setTimeout(r, 100));
    expect(s.inFlight).toBe(10);
    const exited = new Promise((r) => victim.child.once("exit", r));
    victim.child.kill("SIGKILL");
    await exited;
    for (const outcome of await Promise.all(inFlight)) {
      expect(outcome).toBeInstanceOf(KvStreamBroken);
      expect((outcome as Error).message).toMatch(/^KV stream to storage broke \((the storage node closed the KV stream|reading from the storage node failed: .+)\) with 10 requests in flight$/);
    }
    expect(s.broken).toBeInstanceOf(KvStreamBroken);
    await expect(s.request(encodeRequest(get("durable")))).rejects.toBeInstanceOf(KvStreamBroken);
    const again = await node(victim.dir);
    const s2 = await openNodeKvStream(again.url, SECRET, T, EDGE);
    try {
      expect(valueOf(await send(s2, get("durable")))).toBe("yes");
    } finally {
      s2.close();
    }
  });
});

/** A scripted node: answers the upgrade with 101, then hands each request frame to `onFrame`. */
async function fakeNode(onFrame: (socket: Socket, requestId: number) => void): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    let head = Buffer.alloc(0);
    let upgraded = false;
    const frames = new StreamFrameReader(1 << 20);
    socket.on("error", () => {});
    socket.on("data", (c: Buffer) => {
      if (!upgraded) {
        head = Buffer.concat([head, c]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        upgraded = true;
        socket.write("HTTP/1.1 101 Switching Protocols\r\nupgrade: warren-kv-stream/1\r\nconnection: Upgrade\r\n\r\n");
        c = head.subarray(end + 4);
      }
      frames.push(new Uint8Array(c));
      for (let f = frames.next(); f !== null; f = frames.next()) onFrame(socket, f.requestId);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: (server.address() as { port: number }).port };
}

async function fakeStream(port: number, lim: KvStreamClientLimits = EDGE): Promise<KvStreamConnection> {
  const opened = await openKvStream(await nodeStreamSocket("127.0.0.1", port), `127.0.0.1:${port}`, "token", lim);
  if ("refused" in opened) throw new Error("refused");
  return opened.stream;
}

describe("KV stream client faults and limits", () => {
  it("breaks the stream when an answer names a request id not in flight, failing the others", async () => {
    const { server, port } = await fakeNode((socket, id) => socket.write(encodeStreamFrame(id + 1000, new Uint8Array([1]))));
    try {
      const s = await fakeStream(port);
      const a = s.request(new Uint8Array([1])).catch((e: unknown) => e);
      const b = s.request(new Uint8Array([2])).catch((e: unknown) => e);
      for (const e of [await a, await b]) {
        expect(e).toBeInstanceOf(KvStreamBroken);
        expect((e as Error).message).toMatch(/answered request id 100\d, which is not in flight/);
      }
    } finally {
      server.close();
    }
  });

  it("accepts an answer frame of exactly kvStreamFrameBytesMax and breaks on one byte more", async () => {
    let size = edgeLimits.kvStreamFrameBytesMax;
    const { server, port } = await fakeNode((socket, id) => socket.write(encodeStreamFrame(id, new Uint8Array(size))));
    try {
      const s = await fakeStream(port);
      expect((await s.request(new Uint8Array([1]))).byteLength).toBe(edgeLimits.kvStreamFrameBytesMax);
      size = edgeLimits.kvStreamFrameBytesMax + 1;
      const e = await s.request(new Uint8Array([1])).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(KvStreamBroken);
      expect((e as Error).message).toMatch(/exceeds 16842752 \(frameBytesMax\)/);
    } finally {
      server.close();
    }
  });

  it("sends kvStreamInFlightMax requests at once and refuses one more without sending it", async () => {
    const held: Array<[Socket, number]> = [];
    const { server, port } = await fakeNode((socket, id) => held.push([socket, id]));
    try {
      const s = await fakeStream(port);
      const answers = Array.from({ length: edgeLimits.kvStreamInFlightMax }, (_, i) => s.request(new Uint8Array([i & 0xff])));
      const settled = Promise.allSettled(answers);
      await expect(s.request(new Uint8Array([0]))).rejects.toBeInstanceOf(KvStreamFull);
      while (held.length < edgeLimits.kvStreamInFlightMax) await new Promise((r) => setTimeout(r, 10));
      expect(held.length).toBe(edgeLimits.kvStreamInFlightMax);
      // One answered (out of order: the last sent), then there is room for one more.
      const [socket, lastId] = held[held.length - 1]!;
      socket.write(encodeStreamFrame(lastId, new Uint8Array([9])));
      expect(await answers[answers.length - 1]).toEqual(new Uint8Array([9]));
      const next = s.request(new Uint8Array([7]));
      while (held.length < edgeLimits.kvStreamInFlightMax + 1) await new Promise((r) => setTimeout(r, 10));
      s.close();
      await expect(next).rejects.toBeInstanceOf(KvStreamBroken);
      const outcomes = await settled;
      expect(outcomes.filter((o) => o.status === "rejected").length).toBe(edgeLimits.kvStreamInFlightMax - 1);
      await expect(answers[0]).rejects.toThrow(/closed by its holder\) with 256 requests in flight/);
    } finally {
      server.close();
    }
  });

  it("refuses an upgrade answer longer than kvStreamUpgradeBytesMax", async () => {
    const server = createServer((socket) => {
      socket.on("error", () => {});
      socket.once("data", () => socket.write(`HTTP/1.1 101 Switching Protocols\r\nx-pad: ${"a".repeat(edgeLimits.kvStreamUpgradeBytesMax)}\r\n\r\n`));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      await expect(openKvStream(await nodeStreamSocket("127.0.0.1", port), "x", "t", EDGE)).rejects.toThrow(/exceeds 16384 bytes/);
    } finally {
      server.close();
    }
  });

  it("gives up on a node that accepts and never answers the upgrade after kvStreamOpenMsMax", async () => {
    const sockets: Socket[] = [];
    let closed = 0;
    const server = createServer((socket) => {
      socket.on("error", () => {});
      socket.on("close", () => closed++);
      socket.resume(); // reads the upgrade request, answers nothing
      sockets.push(socket);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      const started = performance.now();
      await expect(openKvStream(await nodeStreamSocket("127.0.0.1", port), "silent", "t", EDGE)).rejects.toThrow(/no answer to the KV stream upgrade from silent within 1000 ms \(openMsMax\)/);
      // Not before the bound (an upper bound would flake on a loaded machine).
      expect(performance.now() - started).toBeGreaterThanOrEqual(edgeLimits.kvStreamOpenMsMax - 5);
      // The connection it gave up on is closed.
      while (closed < sockets.length) await new Promise((r) => setTimeout(r, 10));
      expect(closed).toBe(1);
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });

  it("breaks the stream when a request has no answer within requestMsMax, failing every request in flight", async () => {
    // A node that accepts the stream and then answers nothing (stopped, wedged).
    const { server, port } = await fakeNode(() => {});
    try {
      const s = await fakeStream(port, { ...EDGE, requestMsMax: 300 });
      const started = performance.now();
      const a = s.request(new Uint8Array([1])).catch((e: unknown) => e);
      const b = s.request(new Uint8Array([2])).catch((e: unknown) => e);
      for (const e of [await a, await b]) {
        expect(e).toBeInstanceOf(KvStreamBroken);
        expect((e as Error).message).toMatch(/no answer to request id 1 within 300 ms \(requestMsMax\)/);
      }
      // Not before the bound (an upper bound would flake on a loaded machine).
      expect(performance.now() - started).toBeGreaterThanOrEqual(295);
      expect(s.broken).not.toBeNull();
    } finally {
      server.close();
    }
  });

  it("lets a request answered just inside requestMsMax through, and times each request from its own start", async () => {
    // Answers every request after 150 ms: under a 300 ms bound nothing breaks, even with requests
    // sent one after another for longer than the bound in all.
    const { server, port } = await fakeNode((socket, id) => setTimeout(() => socket.write(encodeStreamFrame(id, new Uint8Array([7]))), 150));
    try {
      const s = await fakeStream(port, { ...EDGE, requestMsMax: 300 });
      for (let i = 0; i < 4; i++) expect(Array.from(await s.request(new Uint8Array([i])))).toEqual([7]);
      expect(s.broken).toBeNull();
    } finally {
      server.close();
    }
  });

  it("keeps the edge's bounds in step with the node's", () => {
    // A batch gets as long on a stream as over HTTP.
    expect(edgeLimits.kvStreamRequestMsMax).toBe(edgeLimits.storageAttemptMsMax);
    // The node stops reading a stream past streamInFlightMax; the edge sends no more than that.
    expect(edgeLimits.kvStreamInFlightMax).toBe(DEFAULT_LIMITS.streamInFlightMax);
    // Any answer the node may send (responseBytesMax plus its usage trailer) fits in a frame.
    expect(edgeLimits.kvStreamFrameBytesMax).toBeGreaterThan(DEFAULT_LIMITS.responseBytesMax + 1024);
  });
});
