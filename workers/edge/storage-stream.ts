// Opens a KV stream (common/kv-protocol/stream-client.ts) from the edge to a storage node: a TCP
// connection through `cloudflare:sockets`, then the node's HTTP upgrade. A TenantKV channel
// (tenant-kv.ts) holds one for its lifetime, so a Postgres session's KV batches pay neither a
// fetch() per batch nor Node's HTTP exchange on the node: a batch is one frame each way.
//
// A socket belongs to the invocation that opened it (workerd refuses I/O on behalf of another
// request), which is why the stream lives in a channel, whose batch() runs in the invocation that
// opened it, and not in a module-level pool shared by every request of this isolate.
import { connect } from "cloudflare:sockets";
import { openKvStream, type KvStreamOpenResult } from "../../common/kv-protocol/stream-client.ts";
import { limits } from "./limits.ts";

/** `url` is the node's base URL or any URL on it (http: only: the stream is plain TCP, like STORAGE_URL locally). */
export async function openStorageStream(url: string, token: string): Promise<KvStreamOpenResult> {
  const u = new URL(url);
  if (u.protocol !== "http:") throw new Error(`a KV stream needs an http: storage URL, not ${u.protocol}`);
  const port = u.port === "" ? 80 : Number(u.port);
  const socket = connect({ hostname: u.hostname, port }, { allowHalfOpen: false });
  // A failed connect also rejects `closed`; the failure is handled through `opened` (openKvStream).
  socket.closed.catch(() => {});
  return openKvStream(socket, u.host, token, {
    frameBytesMax: limits.kvStreamFrameBytesMax,
    inFlightMax: limits.kvStreamInFlightMax,
    upgradeBytesMax: limits.kvStreamUpgradeBytesMax,
    openMsMax: limits.kvStreamOpenMsMax,
    requestMsMax: limits.kvStreamRequestMsMax,
  });
}
