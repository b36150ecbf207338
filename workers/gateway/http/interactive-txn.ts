// Interactive transactions over POST /sql, gateway side. The gateway keeps nothing between
// requests: a transaction travels as its state (SessionTxnHandle: snapshot timestamp, read spans,
// buffered writes; compressed, txn-state-codec.ts) in an edge-only header, which the edge seals (AES-GCM, a key the gateway never
// sees) into the client's Warren-Transaction handle and opens again on the next request
// (workers/edge/sql-transaction.ts). Protocol and reasons: ./README.md.
//
//   request without state, leaves a transaction open (BEGIN)  → response carries the new state
//   request with state                                        → resumed first; afterwards either
//       still open  → the new state goes back                 (any gateway instance can go on)
//       ended       → the end record is written (txn-end-record.ts) → no state goes back
import { PgError } from "../../../common/errors.ts";
import type { KvClient } from "../kv/kv-client.ts";
import type { SqlSession } from "../sql/result.ts";
import type { SessionTxnHandle } from "../sql/session.ts";
import { TXN_HEADERS } from "../edge-contract.ts";
import { limits } from "./limits.ts";
import { singleKeySpan, TxnEndRecords, txnEndKey } from "./txn-end-record.ts";
import { compressState, stateFromHeader, stateHeaderOf } from "./txn-state-codec.ts";


/**
 * What travels between requests: the session's transaction, and the transaction's identity (the
 * txn id it began with, which names its end record). The commit id inside `session.txn.txnId` is
 * replaced by a fresh one each time the transaction is resumed: the storage node answers a commit
 * whose (readTs, txn id) it already saw with the stored outcome (idempotent retries), so two copies
 * of one handle committing with the same id would both be told "committed" while only the first
 * one's writes exist. With distinct ids the second is validated like any commit, and the end
 * record (written by the first, inside its read span) makes it fail with 40001.
 */
interface CarriedState {
  v: 1;
  id: string;
  session: SessionTxnHandle;
}

/** A session that can hand its open transaction over (workers/gateway/sql/session.ts Session). */
export interface CarryingSession extends SqlSession {
  readonly inTransaction: boolean;
  sealTransaction(): Promise<SessionTxnHandle | null>;
  resumeTransaction(handle: SessionTxnHandle): Promise<void>;
}

function isCarrying(s: SqlSession): s is CarryingSession {
  const c = s as Partial<CarryingSession>;
  return typeof c.sealTransaction === "function" && typeof c.resumeTransaction === "function";
}

const encoder = new TextEncoder();

function b64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function unb64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Probability that ending a transaction also removes expired end records (bounded, amortised clean-up). */
const COLLECT_ONE_IN = 16;

/** One request's part in an interactive transaction. */
export class InteractiveTxn {
  private readonly records: TxnEndRecords;
  /** The end record's key of the transaction this request continues or begins (null until known). */
  private endKey: Uint8Array | null = null;
  /** Whether this request arrived with a transaction to continue. */
  readonly continues: boolean;
  /** Whether it was resumed (only then can this request end it). */
  private resumed = false;

  private readonly tenantId: number;
  private readonly incoming: CarriedState | null;
  private readonly expiresAtMs: number | null;
  private readonly nowMs: () => number;

  private constructor(kv: KvClient, tenantId: number, incoming: CarriedState | null, expiresAtMs: number | null, nowMs: () => number) {
    this.tenantId = tenantId;
    this.incoming = incoming;
    this.expiresAtMs = expiresAtMs;
    this.nowMs = nowMs;
    this.records = new TxnEndRecords(kv, tenantId);
    this.continues = incoming !== null;
  }

  /** Reads the edge's headers; a request without them begins nothing and continues nothing. */
  static async fromRequest(request: Request, kv: KvClient, tenantId: number, nowMs: () => number = Date.now): Promise<InteractiveTxn> {
    const expires = request.headers.get(TXN_HEADERS.expiresAtMs);
    const expiresAtMs = expires !== null && /^[0-9]{1,15}$/.test(expires) ? Number(expires) : null;
    const state = request.headers.get(TXN_HEADERS.state);
    let incoming: CarriedState | null = null;
    if (state !== null) {
      try {
        incoming = JSON.parse(await stateFromHeader(state)) as CarriedState;
      } catch (err) {
        // Only the edge sets this header, from a handle it authenticated: a gateway-side bug.
        if (err instanceof PgError) throw err;
        throw new PgError("internal_error", "the transaction state from the edge is not valid JSON");
      }
      if (expiresAtMs === null) throw new PgError("internal_error", "a transaction state came without its expiry");
      if (incoming?.v !== 1 || typeof incoming.id !== "string") throw new PgError("internal_error", "the transaction state from the edge has an unknown version");
    }
    return new InteractiveTxn(kv, tenantId, incoming, expiresAtMs, nowMs);
  }

  /**
   * Before any statement: continues the incoming transaction, unless it already ended (25P01,
   * nothing runs). The transaction is given a put of its end record and a read span over it, so
   * its COMMIT writes the record atomically and a second copy of the handle cannot commit too.
   */
  async resume(session: SqlSession): Promise<void> {
    const carried = this.incoming;
    if (carried === null) return;
    const h = carried.session;
    if (!isCarrying(session)) throw new PgError("internal_error", "this session cannot continue a transaction");
    const key = txnEndKey(this.tenantId, this.expiresAtMs!, unb64(carried.id));
    this.endKey = key;
    const { ended } = await this.records.read(key);
    if (ended) {
      throw new PgError("no_active_sql_transaction", "the transaction of this Warren-Transaction handle already ended (COMMIT or ROLLBACK); nothing was run", {
        hint: "Start a new transaction with BEGIN; a handle is good for one transaction only.",
      });
    }
    const commitId = b64(crypto.getRandomValues(new Uint8Array(16)));
    const data: SessionTxnHandle = { ...h, txn: { ...h.txn, txnId: commitId, writes: [...h.txn.writes, [b64(key), b64(Uint8Array.of(1))]] } };
    await session.resumeTransaction(data);
    this.resumed = true;
  }

  /**
   * After the statements ran (or failed): the state to send back while a transaction is open, or
   * null. A transaction that outgrew the handle is sent back aborted and without its writes
   * (everything after fails with 25P02, COMMIT rolls back), and `overflow` reports 54000.
   */
  async finish(session: SqlSession, committed: boolean): Promise<{ state: string | null; overflow: PgError | null }> {
    if (!isCarrying(session)) return { state: null, overflow: null };
    // Sealing releases the transaction's row locks on the storage node (README.md, "Row locks and
    // handles"): nothing keeps them alive between requests, and the next request has another id.
    const sealedWithFlag = session.inTransaction ? await session.sealTransaction() : null;
    let writesLost = false;
    let sealed: SessionTxnHandle | null = sealedWithFlag;
    if (sealedWithFlag?.writesLost === true) {
      writesLost = true;
      const { writesLost: _dropped, ...rest } = sealedWithFlag;
      sealed = rest;
    }
    if (sealed === null) {
      // A successful COMMIT wrote the end record with the data; the client must hear of that commit
      // even if a later storage call failed, so nothing more is asked of storage then.
      if (this.resumed && !committed) await this.ended();
      return { state: null, overflow: null };
    }
    if (this.expiresAtMs === null) {
      // The edge sends the expiry with every request it can seal a handle for.
      throw new PgError("feature_not_supported", "interactive transactions over HTTP are not available on this edge: a transaction was opened, and rolled back", {
        hint: "Send the statements as one batch ({\"queries\": [...]}), or use the WebSocket (Pool/Client).",
      });
    }
    const id = this.incoming?.id ?? sealed.txn.txnId;
    const key = this.endKey ?? txnEndKey(this.tenantId, this.expiresAtMs, unb64(id));
    const keyB64 = b64(key);
    let readTs = sealed.txn.readTs;
    if (readTs === null) {
      // The transaction has read nothing yet (a bare BEGIN): its snapshot is taken now, by the read
      // of its end record, so that the span over the record means something at commit.
      readTs = (await this.records.read(key)).readTs.toString();
    }
    const [spanStart, spanEnd] = singleKeySpan(key);
    const hasSpan = sealed.txn.readSpans.some(([a]) => a === keyB64);
    const state: SessionTxnHandle = {
      ...sealed,
      txn: {
        ...sealed.txn,
        readTs,
        // The end record's put is added again when the transaction is resumed.
        writes: sealed.txn.writes.filter(([k]) => k !== keyB64),
        readSpans: hasSpan ? sealed.txn.readSpans : [...sealed.txn.readSpans, [b64(spanStart), b64(spanEnd)]],
      },
    };
    const text = JSON.stringify({ v: 1, id, session: state } satisfies CarriedState);
    let bytes: number;
    if (writesLost) {
      // Writes this transaction flushed to the node as intents were aborted with its locks: the
      // handle carries only buffered writes, so the transaction cannot commit any more.
      bytes = encoder.encode(text).byteLength;
    } else try {
      const compressed = await compressState(text);
      bytes = compressed.byteLength;
      if (bytes <= limits.txnStateBytesMax) return { state: stateHeaderOf(compressed), overflow: null };
    } catch (err) {
      if (!(err instanceof PgError) || err.condition !== "program_limit_exceeded") throw err;
      bytes = encoder.encode(text).byteLength;
    }
    // An aborted transaction never commits, so it needs neither its writes nor its read spans: its
    // state is then a few hundred bytes whatever the transaction had done.
    const aborted: SessionTxnHandle = { ...state, aborted: true, txn: { ...state.txn, writes: [], readSpans: [], rangeDeletes: [], rangeClears: [] } };
    return {
      state: stateHeaderOf(await compressState(JSON.stringify({ v: 1, id, session: aborted } satisfies CarriedState))),
      overflow: new PgError("program_limit_exceeded", writesLost
        ? `the transaction outgrew its handle: it wrote more than one request's writes can hold in the gateway (they went to the storage node as intents, which a handle cannot carry). The transaction is aborted: send ROLLBACK`
        : `the transaction outgrew its handle: its state is ${bytes} bytes compressed; the limit is ${limits.txnStateBytesMax}. The transaction is aborted: send ROLLBACK`, {
        hint: "Until writes live on the storage node as intents, an HTTP transaction's writes travel in its handle: write less per transaction, or use the WebSocket (Pool/Client) for large ones.",
      }),
    };
  }

  /**
   * The continued transaction ended in this request without a successful COMMIT reported (ROLLBACK,
   * a failed COMMIT, or COMMIT among other statements): record it unless a commit already did. A
   * failure here fails the request, because a rolled-back transaction without its record could
   * still be committed from an older handle.
   */
  private async ended(): Promise<void> {
    const key = this.endKey!;
    const { ended } = await this.records.read(key);
    if (!ended) await this.records.record(key);
    if (crypto.getRandomValues(new Uint8Array(1))[0]! % COLLECT_ONE_IN === 0) {
      // Records of handles that expired more than a minute ago (room for clocks that differ).
      await this.records.collectExpired(this.nowMs() - 60_000).catch((err: unknown) => console.error("collecting expired HTTP transaction records failed", err));
    }
  }
}
