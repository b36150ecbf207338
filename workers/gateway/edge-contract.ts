// What the edge Worker and the tenant's gateway agree on, in a module both import: the headers the
// edge sets on the requests it hands to the gateway, the gateway's answer when a backend key is
// taken, and how a WebSocket frame's bytes are read. It imports nothing of the SQL engine, so the
// edge bundle does not carry the engine (the gateway runs in its own isolate; see
// scripts/check-imports.ts, where this module is part of the gateway's contract with the edge).
import { PgError } from "../../common/errors.ts";

/** Headers of the edge → gateway /sql request: the connection's role and database, tenant parts removed. */
export const SESSION_HEADERS = { user: "warren-session-user", database: "warren-session-database" } as const;

/** Headers of the edge → gateway upgrade request. The edge builds this request itself, so a client can set none of them. */
export const PGWIRE_HEADERS = {
  /** The role (without the tenant suffix). */
  user: "warren-session-user",
  /** The database (without the tenant prefix). */
  database: "warren-session-database",
  /** JSON object of the StartupMessage's other parameters (application_name, options, …). */
  startup: "warren-pg-startup",
  /** The session's BackendKeyData pair, "processId:secretKey" (backends.ts formatBackendKey); on /v2 and /cancel. */
  backendKey: "warren-pg-backend-key",
} as const;

/** Headers of an interactive HTTP transaction, between the edge and the gateway only (the edge drops a client's copies; workers/gateway/http/interactive-txn.ts). */
export const TXN_HEADERS = {
  /** The transaction's state as JSON (SessionTxnHandle), both ways. */
  state: "warren-txn-state",
  /** When the transaction's handle expires (ms since the epoch): set by the edge, fixed at BEGIN. */
  expiresAtMs: "warren-txn-expires",
} as const;

/**
 * Largest state of an interactive HTTP transaction after compression: the gateway aborts a
 * transaction that outgrows it (54000), the edge sizes the sealed handle from it. The reason for its
 * value is in workers/gateway/http/limits.ts (txnStateBytesMax), which takes it from here.
 */
export const TXN_STATE_BYTES_MAX = 10 * 1024;

/**
 * The gateway's lifecycle requests, sent only by the edge's GatewayHost (a client's request never
 * reaches these paths: the edge forwards /sql, /v2 and /cancel only).
 *   warm     no tenant: evaluate the modules and instantiate the parser's WebAssembly ahead of use
 *            (an isolate of the warm pool), answered 204. `?step=` one of WARM_STEPS does one part
 *            only (the edge sends them one at a time, so a warm-up never holds the thread long);
 *            without it, all of them;
 *   release  the tenant (its capabilities, as with any request): report its unreported usage to its
 *            QuotaBucket and forget everything this isolate holds for it; 200 {"flushed": bool};
 *   prepare  the tenant: load its catalog ahead of its first statement (catalog-prefetch.ts), 204
 *            once loaded (or failed: the first statement then loads it itself).
 */
export const GATEWAY_LIFECYCLE_PATHS = { warm: "/_warren/warm", release: "/_warren/release", prepare: "/_warren/prepare" } as const;

/**
 * POST /sql in loader mode is an RPC call, not a fetch: `getEntrypoint(GATEWAY_SQL_ENTRYPOINT,
 * {props}).sql(call, kv)`, where `kv` is the request's KV channel, an RpcTarget the edge created in
 * the /sql request's own invocation (workers/edge/request-kv.ts). A channel cannot travel in the
 * props (workerd serializes props once, and refuses RPC references there), only as an argument; and
 * its batches then run inside the edge's /sql invocation instead of a fresh TenantKV invocation per
 * batch. The request and the answer cross as bytes (the edge has read the body already, the gateway
 * builds its whole answer before replying), so no stream is pumped between the isolates.
 *
 * RPC carries no AbortSignal (that needs an experimental flag), so a client that goes away is passed
 * on as its own call, `cancel(callId)`, which aborts the running call's request signal; the id is
 * random per call and only cancels a call of the same tenant (the props of the cancel).
 */
export const GATEWAY_SQL_ENTRYPOINT = "GatewaySql";

/** One /sql request, as the edge hands it to the gateway's GatewaySql.sql. */
export interface GatewaySqlCall {
  /** Random, unique per call: what cancel() names. */
  readonly callId: string;
  readonly url: string;
  readonly method: string;
  readonly headers: Array<[string, string]>;
  readonly body: Uint8Array | null;
}

/** The gateway's whole answer to a GatewaySqlCall. */
export interface GatewaySqlAnswer {
  readonly status: number;
  readonly headers: Array<[string, string]>;
  readonly body: Uint8Array;
}

/**
 * The parts of a warm-up, in order (workers/gateway/warm-up.ts): `start` only creates the isolate
 * (module evaluation: the request itself does it), `parser` instantiates the parser's WebAssembly,
 * `statements` runs typical statements over in-memory storage. Measured on the local stack, each
 * is about a third of the whole (isolate ~45 %, parser ~15 %, statements ~40 %).
 */
export const WARM_STEPS = ["start", "parser", "statements"] as const;
export type WarmStep = (typeof WARM_STEPS)[number];

/** The gateway's answer to an upgrade whose process id another session of the tenant holds here. */
export const BACKEND_KEY_TAKEN_STATUS = 409;

/** A binary frame's bytes; binary messages arrive as ArrayBuffer or Blob depending on the runtime. */
export async function frameBytes(data: unknown): Promise<Uint8Array> {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (typeof Blob !== "undefined" && data instanceof Blob) return new Uint8Array(await data.arrayBuffer());
  throw new PgError("protocol_violation", "expected binary WebSocket frames");
}

