// The node's request pipeline without its HTTP server: LMDB engine, writer thread and KvService,
// wired as server.ts wires them, plus a fake socket that records what a KV stream writes. For
// tests and benchmarks of the stream's per-request path that need to see each socket write
// (kv-stream-batching.test.ts, scripts/bench-kv-stream-path.ts).
import { EventEmitter } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { KV_STREAM_PATH, KV_STREAM_PROTOCOL } from "../../common/kv-protocol/stream.ts";
import type { TenantClaims } from "../../common/tenant-token.ts";
import { mintTenantToken } from "../../common/tenant-token.ts";
import { LmdbEngine } from "../engine/lmdb-engine.ts";
import { HybridClock } from "../hlc.ts";
import { KvStreams } from "../kv-stream.ts";
import { resolveLimits, type StorageLimits } from "../limits.ts";
import { Metrics } from "../metrics.ts";
import { KvService } from "../service.ts";
import { WriterClient } from "../writer/writer-client.ts";

/** What a KV stream sees of its TCP connection: data events in, every write recorded. */
export class FakeSocket extends EventEmitter {
  destroyed = false;
  writableEnded = false;
  /** Every write (a writev's pieces are joined: cork()..uncork() counts as one write), while keepWrites. */
  readonly writes: Uint8Array[] = [];
  /** False: count writes and bytes only (a benchmark's millions of answers). */
  keepWrites = true;
  writeCount = 0;
  bytesOut = 0;
  onWrite: (() => void) | null = null;
  private corked: Uint8Array[] | null = null;

  write(chunk: Uint8Array | string): boolean {
    const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
    if (this.corked !== null) {
      this.corked.push(bytes);
      return true;
    }
    this.record(bytes);
    return true;
  }

  cork(): void {
    this.corked = [];
  }

  uncork(): void {
    const pieces = this.corked ?? [];
    this.corked = null;
    if (pieces.length > 0) this.record(Buffer.concat(pieces));
  }

  private record(bytes: Uint8Array): void {
    if (this.keepWrites) this.writes.push(bytes);
    this.writeCount++;
    this.bytesOut += bytes.byteLength;
    this.onWrite?.();
  }

  pause(): this {
    return this;
  }

  resume(): this {
    return this;
  }

  setNoDelay(): void {}

  end(): void {
    this.writableEnded = true;
  }

  destroy(): void {
    this.destroyed = true;
  }
}

export interface InProcessService {
  service: KvService;
  engine: LmdbEngine;
  writer: WriterClient;
  limits: StorageLimits;
  streams: KvStreams;
  /** The claims of a valid token for `tenantId`. */
  claimsFor(tenantId: number): Promise<TenantClaims>;
  /** A KV stream of `tenantId` on a fake socket (the 101 answer is its first write). */
  openStream(tenantId: number): Promise<FakeSocket>;
  close(): Promise<void>;
}

export async function startInProcessService(limitOverrides: Partial<StorageLimits> = {}, secret = "in-process-fleet-secret-0123456789"): Promise<InProcessService> {
  const dir = mkdtempSync(join(tmpdir(), "warren-in-process-"));
  const limits = resolveLimits(limitOverrides);
  const engine = new LmdbEngine({ path: dir, noSync: false });
  const clock = new HybridClock();
  const { client: writer, ready } = await WriterClient.start({ dataDir: dir, limits, noSync: false }, clock, engine);
  clock.observe(ready.maxCommitTs);
  const service = new KvService({ engine, writer, clock, limits, metrics: new Metrics(), fleetSecret: secret, gcThresholdTs: ready.gcThresholdTs, droppedTenants: [] });
  const streams = new KvStreams({ service, limits, draining: () => false, log: () => {} });
  const token = (tenantId: number) => mintTenantToken(secret, { tenantId, expiresAtMs: Date.now() + 10 * 60_000 });
  return {
    service,
    engine,
    writer,
    limits,
    streams,
    async claimsFor(tenantId) {
      const claims = await service.authenticate(`Bearer ${await token(tenantId)}`);
      if ("code" in claims) throw new Error(claims.message);
      return claims;
    },
    async openStream(tenantId) {
      const socket = new FakeSocket();
      const req = { url: KV_STREAM_PATH, headers: { upgrade: KV_STREAM_PROTOCOL, authorization: `Bearer ${await token(tenantId)}` } } as unknown as IncomingMessage;
      await streams.upgrade(req, socket as unknown as Duplex, Buffer.alloc(0));
      return socket;
    },
    async close() {
      streams.closeAll();
      service.stop();
      await writer.close();
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
