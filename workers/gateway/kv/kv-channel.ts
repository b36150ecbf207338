// A KV capability whose batches go through one TenantKV channel (env.KV.open(),
// workers/edge/tenant-kv.ts) instead of one fresh TenantKV invocation per batch. The first storage
// fetch of an edge invocation is the expensive one (~1 ms of workerd CPU), so a holder that sends
// many batches pays it once per channel. Meant for a Postgres connection (one channel per
// connection: pg point select p50 2.0-3.5 ms vs 2.5-4.4 ms without, measured with a prototype).
// Not for a single POST /sql: opening the channel is a round trip of its own, and a channel per
// request measured slower (point select p50 12.7-13.3 ms vs 10.5-10.9 ms, insert about equal).
// On the edge side a channel carries its batches on one persistent KV stream to the storage node
// (workers/edge/tenant-kv.ts), so a batch is this RPC call plus one frame each way; a new channel
// (after kvChannelBatchesMax) opens a new stream.
//
// The channel is an RPC stub, and it must be disposed: one left to the garbage collector makes
// workerd log a warning from inside the collector, and with an inspector attached (wrangler dev
// attaches one) that log captures a JavaScript stack trace in the middle of a collection, which
// can crash the whole runtime (SIGTRAP in OptimizedJSFrame::Summarize, called from
// JsRpcStub::~JsRpcStub via IoContext::logWarningOnce; common/rpc.ts has the sibling case).
// - After kvChannelBatchesMax batches, the edge's bound per channel (each batch is a subrequest of
//   the invocation that opened it), the next batch opens a new channel, and the old one is
//   disposed once its batches in flight are answered: they belong to live statements.
// - close() disposes the current channel at once, batches in flight or not. The holder calls it
//   when its connection has ended, after the connection's statements have returned, so a batch
//   still in flight then belongs to a statement that was abandoned (a cancelled wait for an
//   advisory lock is the usual one: its batch waits in the storage node's lock queue). Waiting for
//   that answer kept the stub only as long as the pending call, and once the call's request
//   ended it was garbage, never disposed: the case that crashed the runtime in
//   test/clients/cancel-clients.test.ts. The edge's side of the channel still answers requests in
//   flight when it is disposed (workers/edge/tenant-kv.ts).
// A capability without open() (tests' in-memory KV) is used as it is.
import type { TenantKvCapability } from "./capability.ts";
import { kvLimits } from "./limits.ts";

type ChannelStub = TenantKvCapability;

/** Symbol.dispose is in the runtimes we target (workerd, Node 22) but not in lib ES2023. */
function dispose(stub: ChannelStub): void {
  const key = (Symbol as unknown as { dispose?: symbol }).dispose;
  const fn = key === undefined ? undefined : (stub as unknown as Record<symbol, unknown>)[key];
  if (typeof fn === "function") fn.call(stub);
}

interface Opener extends TenantKvCapability {
  open?: () => Promise<ChannelStub> | ChannelStub;
}

interface Channel {
  stub: Promise<ChannelStub>;
  batches: number;
  inFlight: number;
  retired: boolean;
  /** Its dispose has been asked for (at most once). */
  disposed: boolean;
}

export interface RequestKv {
  kv: TenantKvCapability;
  /** Disposes the channel now, batches in flight or not (see the header). Idempotent. */
  close(): void;
}

export function requestKv(cap: TenantKvCapability, batchesMax: number = kvLimits.kvChannelBatchesMax): RequestKv {
  const opener = cap as Opener;
  if (typeof opener.open !== "function") return { kv: cap, close: () => {} };
  // Called as a method on the capability: on an RPC stub every property is a remote method, so
  // `open.bind(...)` would itself be sent as a call to a method named "bind".
  const open = (): Promise<ChannelStub> | ChannelStub => (opener as Required<Opener>).open();
  let current: Channel | null = null;
  let closed = false;

  const release = (ch: Channel, evenInFlight = false): void => {
    if (!ch.retired || ch.disposed || (ch.inFlight > 0 && !evenInFlight)) return;
    ch.disposed = true;
    // A channel that failed to open has nothing to dispose.
    ch.stub.then(dispose, () => {});
  };

  const kv: TenantKvCapability = {
    async batch(request: Uint8Array): Promise<Uint8Array> {
      if (closed) return cap.batch(request); // used after close(): the plain capability still works
      if (current === null || current.batches >= batchesMax) {
        if (current !== null) {
          current.retired = true;
          release(current);
        }
        current = { stub: Promise.resolve(open()), batches: 0, inFlight: 0, retired: false, disposed: false };
      }
      const ch = current;
      ch.batches++;
      ch.inFlight++;
      try {
        return await (await ch.stub).batch(request);
      } finally {
        ch.inFlight--;
        release(ch);
      }
    },
  };

  return {
    kv,
    close() {
      if (closed) return;
      closed = true;
      if (current !== null) {
        current.retired = true;
        release(current, true);
        current = null;
      }
    },
  };
}
