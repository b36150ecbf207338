// The gateway's client for the tenant's KV capability. It turns requests into the wire framing
// (common/kv-protocol/codec.ts), sends them through a transport, counts what it sent (EXPLAIN
// ANALYZE reads these counters), accumulates the Request-Unit usage the storage node reports in
// each response (`usage`, handed to `onUsage` as it arrives: the gateway charges its quota with
// it), and maps storage errors to Postgres errors.
//
// A session's temporary tables live in a LocalRange (local-range.ts): operations on keys inside its
// span are answered from session memory and never sent, so temporary data cannot reach storage.
//
// Layering: txn/ calls this; this calls only the transport. Nothing here knows about SQL.
import { PgError } from "../../../common/errors.ts";
import { decodeResponse, encodeRequest } from "../../../common/kv-protocol/codec.ts";
import { addKvUsage, emptyKvUsage, kvUsageFromExchange, type KvUsage } from "../../../common/request-units.ts";
import type { TenantKvCapability } from "./capability.ts";
import { kvLimits } from "./limits.ts";
import type { LocalRange } from "./local-range.ts";
import type {
  KvError,
  KvRequest,
  KvResponse,
  ReadOp,
  ReadResult,
  Span,
  Timestamp,
  WriteOp,
} from "../../../common/kv-protocol/messages.ts";

/** Sends one request and returns its response; the capability transport adds the codec. */
export interface KvTransport {
  send(request: KvRequest): Promise<KvResponse>;
}

/**
 * Sends requests through the tenant capability, in the wire framing. An encoded request larger
 * than kvLimits.requestBytesMax is refused here (54000) rather than broken in the RPC or the edge.
 */
export function capabilityTransport(cap: TenantKvCapability): KvTransport {
  return {
    async send(req: KvRequest): Promise<KvResponse> {
      const bytes = encodeRequest(req);
      if (bytes.length > kvLimits.requestBytesMax) {
        throw new PgError("program_limit_exceeded", `storage request of ${bytes.length} bytes exceeds the limit of ${kvLimits.requestBytesMax} bytes`, {
          hint: "split the work into several transactions",
        });
      }
      return decodeResponse(await cap.batch(bytes));
    },
  };
}

/** Counters of the work sent to storage; plain numbers so they can be diffed per operator. */
export interface KvStats {
  requests: number;
  /** Gets that only validate cached metadata (the catalog version riding on a statement's first read). */
  metaGets: number;
  gets: number;
  scans: number;
  rowsRead: number;
  bytesRead: number;
  writes: number;
}

export function emptyKvStats(): KvStats {
  return { requests: 0, metaGets: 0, gets: 0, scans: 0, rowsRead: 0, bytesRead: 0, writes: 0 };
}

/** A KV error that the caller may want to inspect (condition_failed for cput) before mapping. */
export class KvRequestError extends Error {
  readonly kvError: KvError;
  constructor(kvError: KvError) {
    super(kvError.message);
    this.name = "KvRequestError";
    this.kvError = kvError;
  }
}

/** Maps a storage error to the Postgres error a client sees (design brief: 40001 with a hint). */
export function kvErrorToPgError(e: KvError): PgError {
  switch (e.code) {
    case "deadlock":
      return new PgError("deadlock_detected", `deadlock detected (${e.message})`, { hint: "retry the transaction" });
    case "conflict":
    case "snapshot_too_old":
    case "transaction_expired":
    case "transaction_aborted":
    case "write_too_old":
      return new PgError("serialization_failure", `could not serialize access due to concurrent update (${e.message})`, {
        hint: "retry the transaction",
      });
    case "rate_limited":
    case "overloaded":
      return new PgError("configuration_limit_exceeded", `request rate limit exceeded for this database: ${e.message}`, {
        hint: e.retryAfterMs !== undefined ? `retry after ${e.retryAfterMs} ms` : "retry later",
      });
    case "limit_exceeded":
      return new PgError("program_limit_exceeded", `storage limit exceeded: ${e.message}`);
    case "lock_not_available":
      return new PgError("lock_not_available", e.message);
    case "too_many_open_transactions":
      return new PgError("too_many_connections", `too many open transactions: ${e.message}`, {
        hint: "commit or roll back open transactions, then retry",
      });
    case "unauthenticated":
    case "token_expired":
      return new PgError("invalid_authorization_specification", `storage refused the request: ${e.message}`);
    case "tenant_dropped":
      return new PgError("invalid_catalog_name", `this database no longer exists: ${e.message}`);
    case "tenant_moved":
    // The edge resends a request the node refused as moved to the tenant's new shard; this reaches a
    // gateway only when it gave up waiting for the move to finish: nothing was applied, as for 57P01.
    case "unavailable":
      // What PostgreSQL says when its server is shut down under a session: pools reconnect and retry.
      return new PgError("admin_shutdown", `storage is unavailable: ${e.message}`, {
        hint: "the storage node is restarting or failing over; retry the transaction",
      });
    case "outcome_unknown":
      // A connection lost mid-commit: like PostgreSQL's 08006, the client cannot know whether it applied.
      return new PgError("connection_failure", `lost the connection to storage: ${e.message}`, {
        hint: "the statement may or may not have been applied; check before retrying a non-idempotent change",
      });
    case "condition_failed":
    case "malformed_request":
    case "outside_tenant_span":
    case "internal":
      return new PgError("internal_error", `internal error in storage request (${e.code}): ${e.message}`);
  }
}

export class KvClient {
  readonly stats: KvStats = emptyKvStats();
  /**
   * Request-Unit usage of every response so far, as the storage node metered it (the usage
   * trailer). A node too old to report it is charged what the gateway computes from the same
   * exchange with the same model (kvUsageFromExchange); `unmeteredResponses` counts those.
   */
  readonly usage: KvUsage = emptyKvUsage();
  unmeteredResponses = 0;
  /** Called with each response's usage as it arrives (the gateway's LocalQuota.chargeKv). */
  onUsage: ((u: KvUsage) => void) | null = null;
  private readonly transport: KvTransport;
  /** The span served from session memory (temporary tables), or null. */
  readonly local: LocalRange | null;

  constructor(transport: KvTransport, local: LocalRange | null = null) {
    this.transport = transport;
    this.local = local;
  }

  private meter(request: KvRequest, response: KvResponse): void {
    let u = response.usage;
    if (u === undefined) {
      u = kvUsageFromExchange(request, response);
      this.unmeteredResponses++;
    }
    addKvUsage(this.usage, u);
    this.onUsage?.(u);
  }

  /** Injectable for tests: waits `ms` before re-sending a throttled request. */
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  /** Injectable for tests: the clock the throttled-retry budget is measured on. */
  nowMs: () => number = () => Date.now();

  /**
   * `interrupt` (the running statement's cancel / deadline check) runs after each wait for a
   * throttled re-send, so a statement waiting out a tenant's rate limit still ends on cancel.
   */
  private async send(request: KvRequest, interrupt?: () => void): Promise<KvResponse> {
    const started = this.nowMs();
    for (;;) {
      this.stats.requests++;
      let response: KvResponse;
      try {
        response = await this.transport.send(request);
      } catch (err) {
        if (err instanceof PgError) throw err;
        throw new PgError("connection_failure", `storage request failed: ${err instanceof Error ? err.message : String(err)}`, {
          hint: "retry the transaction",
        });
      }
      this.meter(request, response);
      if (response.type !== "error") return response;
      const e = response.error;
      // Throttling refuses a request before it runs: wait as told and send it again, within a budget.
      if (e.code === "rate_limited" || e.code === "overloaded") {
        const left = kvLimits.throttledRetryMsMax - (this.nowMs() - started);
        if (left > 0) {
          await this.sleep(Math.min(left, Math.max(50, e.retryAfterMs ?? 100)));
          interrupt?.();
          continue;
        }
      }
      throw new KvRequestError(e);
    }
  }

  private countReads(ops: ReadOp[], results: ReadResult[]): void {
    for (const op of ops) {
      if (op.op === "get") this.stats.gets++;
      else this.stats.scans++;
    }
    for (const r of results) {
      if (r.op === "get") {
        if (r.value !== null) {
          this.stats.rowsRead++;
          this.stats.bytesRead += r.value.length;
        }
      } else {
        this.stats.rowsRead += r.rows.length;
        for (const row of r.rows) this.stats.bytesRead += row.key.length + row.value.length;
      }
    }
  }

  async begin(): Promise<Timestamp> {
    const r = await this.send({ type: "begin" });
    if (r.type !== "begin") throw unexpected("begin", r);
    return r.readTs;
  }

  /**
   * Reads at `readTs` (null: the latest snapshot, whose timestamp is returned). The last `metaOps`
   * operations are metadata checks, counted apart from the statement's own reads. Operations on
   * the local range are answered from it; when nothing else is asked, no request is sent and the
   * returned readTs is the one given (null stays null: no snapshot was taken).
   */
  async read(readTs: Timestamp | null, ops: ReadOp[], metaOps = 0, interrupt?: () => void): Promise<{ readTs: Timestamp | null; results: ReadResult[] }> {
    const local = this.local;
    const isLocal = local === null ? null : ops.map((op) => this.isLocalRead(op));
    if (isLocal === null || !isLocal.some((x) => x)) return this.readRemote(readTs, ops, metaOps, interrupt);
    const remoteOps = ops.filter((_, i) => !isLocal[i]);
    const results: ReadResult[] = new Array(ops.length);
    let ts = readTs;
    if (remoteOps.length > 0) {
      // Metadata checks are always remote, and always last.
      const r = await this.readRemote(readTs, remoteOps, metaOps, interrupt);
      ts = r.readTs;
      let j = 0;
      for (let i = 0; i < ops.length; i++) if (!isLocal[i]) results[i] = r.results[j++]!;
    }
    for (let i = 0; i < ops.length; i++) if (isLocal[i]) results[i] = local!.read(ops[i]!);
    return { readTs: ts, results };
  }

  private isLocalRead(op: ReadOp): boolean {
    const local = this.local!;
    if (op.op === "get") return local.owns(op.key);
    const place = local.place(op.start, op.end);
    if (place === "straddles") throw new PgError("internal_error", "a scan crosses the boundary of the session's temporary data");
    return place === "local";
  }

  /**
   * A read of a pessimistic transaction (txnRead): sees the transaction's intents, and locks what
   * `locks[i]` says before reading (LockMode; waiting in the node's queue). Local-range ops are
   * answered from session memory, unlocked.
   */
  async txnRead(
    txnId: Uint8Array,
    readTs: Timestamp | null,
    ops: ReadOp[],
    locks: number[],
    metaOps = 0,
    interrupt?: () => void,
  ): Promise<{ readTs: Timestamp | null; results: ReadResult[] }> {
    const local = this.local;
    const isLocal = local === null ? null : ops.map((op) => this.isLocalRead(op));
    const remoteIdx: number[] = [];
    for (let i = 0; i < ops.length; i++) if (isLocal === null || !isLocal[i]) remoteIdx.push(i);
    const results: ReadResult[] = new Array(ops.length);
    let ts = readTs;
    if (remoteIdx.length > 0) {
      const remoteOps = remoteIdx.map((i) => ops[i]!);
      const r = await this.send({ type: "txnRead", txnId, readTs, ops: remoteOps, locks: new Uint8Array(remoteIdx.map((i) => locks[i] ?? 0)) }, interrupt);
      if (r.type !== "read") throw unexpected("txnRead", r);
      if (r.results.length !== remoteOps.length) throw new PgError("internal_error", `storage returned ${r.results.length} results for ${remoteOps.length} reads`);
      const own = remoteOps.length - metaOps;
      this.countReads(remoteOps.slice(0, own), r.results.slice(0, own));
      this.stats.metaGets += metaOps;
      ts = r.readTs;
      remoteIdx.forEach((i, j) => (results[i] = r.results[j]!));
    }
    if (isLocal !== null) for (let i = 0; i < ops.length; i++) if (isLocal[i]) results[i] = local!.read(ops[i]!);
    return { readTs: ts, results };
  }

  /** Writes provisional intents (point writes of storage keys only; the caller keeps local ones). */
  async txnWrite(txnId: Uint8Array, readTs: Timestamp, writes: WriteOp[]): Promise<void> {
    this.stats.writes += writes.length;
    const r = await this.send({ type: "txnWrite", txnId, readTs, writes });
    if (r.type !== "ack") throw unexpected("txnWrite", r);
  }

  /** Moves the snapshot forward when nothing in `spans` changed since readTs (else conflict). */
  async refresh(txnId: Uint8Array, readTs: Timestamp, spans: Span[]): Promise<Timestamp> {
    const lr = this.local;
    const remote = lr === null ? spans : spans.flatMap((sp) => lr.clip(sp));
    const r = await this.send({ type: "refresh", txnId, readTs, spans: remote });
    if (r.type !== "refresh") throw unexpected("refresh", r);
    return r.readTs;
  }

  /** `locksOnly`: the transaction holds in-memory locks and never an intent (messages.ts). */
  async heartbeat(txnId: Uint8Array, locksOnly = false): Promise<void> {
    const r = await this.send(locksOnly ? { type: "heartbeat", txnId, locksOnly } : { type: "heartbeat", txnId });
    if (r.type !== "ack") throw unexpected("heartbeat", r);
  }

  /** Releases the transaction's locks on `keys` and ends its wait for one of them (advisory locks). */
  async unlock(txnId: Uint8Array, keys: Uint8Array[]): Promise<void> {
    const r = await this.send({ type: "unlock", txnId, keys });
    if (r.type !== "ack") throw unexpected("unlock", r);
  }

  private async readRemote(readTs: Timestamp | null, ops: ReadOp[], metaOps: number, interrupt?: () => void): Promise<{ readTs: Timestamp; results: ReadResult[] }> {
    const r = await this.send({ type: "read", readTs, ops }, interrupt);
    if (r.type !== "read") throw unexpected("read", r);
    if (r.results.length !== ops.length) {
      throw new PgError("internal_error", `storage returned ${r.results.length} results for ${ops.length} reads`);
    }
    const own = ops.length - metaOps;
    this.countReads(ops.slice(0, own), r.results.slice(0, own));
    this.stats.metaGets += metaOps;
    return { readTs: r.readTs, results: r.results };
  }

  /**
   * Commits a transaction. Writes to the local range are checked first (cput conditions, its
   * memory bounds), then the rest commits in storage, then the local writes are applied: either
   * both happen or neither. Without storage writes no request is sent (the transaction's storage
   * reads need no validation then, as for a read-only transaction). Read spans inside the local
   * range are not sent.
   */
  async commit(txnId: Uint8Array, readTs: Timestamp, readSpans: Span[], writes: WriteOp[]): Promise<Timestamp> {
    const lr = this.local;
    if (lr === null) return this.commitRemote(txnId, readTs, readSpans, writes);
    const { local, remote } = this.splitWrites(writes);
    const spans = readSpans.flatMap((sp) => lr.clip(sp));
    if (local.length === 0) return this.commitRemote(txnId, readTs, spans, remote);
    this.checkLocal(local);
    const ts = remote.length === 0 ? readTs : await this.commitRemote(txnId, readTs, spans, remote);
    lr.apply(local);
    return ts;
  }

  private async commitRemote(txnId: Uint8Array, readTs: Timestamp, readSpans: Span[], writes: WriteOp[]): Promise<Timestamp> {
    this.stats.writes += writes.length;
    const r = await this.send({ type: "commit", txnId, readTs, readSpans, writes });
    if (r.type !== "commit") throw unexpected("commit", r);
    return r.commitTs;
  }

  /** Splits writes into those of the local range and those for storage; a range deletion may not cross its boundary. */
  private splitWrites(writes: WriteOp[]): { local: WriteOp[]; remote: WriteOp[] } {
    const lr = this.local;
    if (lr === null) return { local: [], remote: writes };
    const local: WriteOp[] = [];
    const remote: WriteOp[] = [];
    for (const w of writes) {
      let isLocal: boolean;
      if (w.op === "deleteRange" || w.op === "clearRange") {
        const place = lr.place(w.start, w.end);
        if (place === "straddles") throw new PgError("internal_error", "a range deletion crosses the boundary of the session's temporary data");
        isLocal = place === "local";
      } else isLocal = lr.owns(w.key);
      (isLocal ? local : remote).push(w);
    }
    return { local, remote };
  }

  /** cput conditions and memory bounds of local writes, before anything is applied anywhere. */
  private checkLocal(writes: WriteOp[]): void {
    const c = this.local!.check(writes).condition;
    if (c !== null) throw new KvRequestError({ code: "condition_failed", message: "cput condition failed", key: c.key, actual: c.actual });
  }

  async abort(txnId: Uint8Array, readTs: Timestamp): Promise<void> {
    const r = await this.send({ type: "abort", txnId, readTs });
    if (r.type !== "abort") throw unexpected("abort", r);
  }

  /** A single-shot transaction: reads at the latest timestamp and writes in one step (local writes as in commit). */
  async batch(reads: ReadOp[], writes: WriteOp[]): Promise<{ commitTs: Timestamp; results: ReadResult[] }> {
    const { local, remote } = this.splitWrites(writes);
    if (local.length === 0 && (this.local === null || !reads.some((op) => this.isLocalRead(op)))) return this.batchRemote(reads, remote);
    this.checkLocal(local);
    let commitTs = 0n;
    let results: ReadResult[] = [];
    if (remote.length > 0 || reads.length > 0) {
      const isLocal = reads.map((op) => this.isLocalRead(op));
      const remoteReads = reads.filter((_, i) => !isLocal[i]);
      const r = remote.length > 0 || remoteReads.length > 0 ? await this.batchRemote(remoteReads, remote) : { commitTs: 0n, results: [] };
      commitTs = r.commitTs;
      results = new Array(reads.length);
      let j = 0;
      for (let i = 0; i < reads.length; i++) results[i] = isLocal[i] ? this.local!.read(reads[i]!) : r.results[j++]!;
    }
    this.local!.apply(local);
    return { commitTs, results };
  }

  private async batchRemote(reads: ReadOp[], writes: WriteOp[]): Promise<{ commitTs: Timestamp; results: ReadResult[] }> {
    this.stats.writes += writes.length;
    const r = await this.send({ type: "batch", reads, writes });
    if (r.type !== "batch") throw unexpected("batch", r);
    this.countReads(reads, r.results);
    return { commitTs: r.commitTs, results: r.results };
  }
}

function unexpected(asked: string, got: KvResponse): PgError {
  return new PgError("internal_error", `storage answered a ${asked} request with ${got.type}`);
}
