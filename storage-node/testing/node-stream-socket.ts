// A Node TCP connection in the shape the KV stream client takes (common/kv-protocol/stream-client.ts
// StreamSocket: Web Streams), so tests and benchmarks run the edge's own client code against a node.
import { connect } from "node:net";
import { Duplex } from "node:stream";
import { openKvStream, type KvStreamClientLimits, type KvStreamConnection, type StreamSocket } from "../../common/kv-protocol/stream-client.ts";
import { mintTenantToken } from "../../common/tenant-token.ts";

export function nodeStreamSocket(host: string, port: number): Promise<StreamSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    socket.setNoDelay(true);
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      const web = Duplex.toWeb(socket) as unknown as { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> };
      resolve({ readable: web.readable, writable: web.writable, close: () => socket.destroy() });
    });
  });
}

/** Opens a stream for `tenantId` on the node at `url`; throws if the node refuses it. */
export async function openNodeKvStream(url: string, secret: string, tenantId: number, limits: KvStreamClientLimits): Promise<KvStreamConnection> {
  const u = new URL(url);
  const token = await mintTenantToken(secret, { tenantId, expiresAtMs: Date.now() + 10 * 60_000 });
  const opened = await openKvStream(await nodeStreamSocket(u.hostname, Number(u.port)), u.host, token, limits);
  if ("refused" in opened) throw new Error(`KV stream refused with HTTP ${opened.refused.status}`);
  return opened.stream;
}
