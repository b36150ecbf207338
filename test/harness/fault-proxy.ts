// A TCP proxy in front of one node, for fault injection (issue 13's harness): it forwards bytes
// both ways and can, at any moment,
//   delay     hold every chunk for `delayMs` (order kept, per direction);
//   drop      lose a connection: each chunk has probability `dropRate` of resetting its connection
//             (a TCP stream cannot lose bytes in the middle and stay a stream: a lost packet that
//             is never retransmitted is, to both ends, a connection that breaks);
//   cut       "blackhole": accept and read, forward nothing, answer nothing (a partition: both
//             ends hang until their own timeouts); "reset": every connection is reset at once and
//             new ones are reset on accept (a node that is down);
//   heal      back to forwarding (connections broken by the fault stay broken).
// Process faults (kill -9, SIGSTOP/SIGCONT) are plain signals: see processes.ts in cli/.
//
//   const proxy = await startFaultProxy({ port: nodePort });   // clients use proxy.port
//   proxy.cut("blackhole"); …; proxy.heal(); await proxy.close();
import net from "node:net";

export interface FaultProxyOptions {
  /** Where the node listens. */
  readonly port: number;
  readonly host?: string;
  /** Where the proxy listens (0: a free port). */
  readonly listenPort?: number;
}

export type CutMode = "blackhole" | "reset";

export interface FaultProxy {
  readonly port: number;
  setDelay(ms: number): void;
  setDropRate(probability: number): void;
  cut(mode: CutMode): void;
  heal(): void;
  /** Connections open now (both sockets of a pair count once). */
  readonly connections: number;
  close(): Promise<void>;
}

export async function startFaultProxy(o: FaultProxyOptions): Promise<FaultProxy> {
  const host = o.host ?? "127.0.0.1";
  let delayMs = 0;
  let dropRate = 0;
  let cutMode: CutMode | null = null;
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket | null }>();

  /** Forwards from one socket to the other under the current faults, keeping order. */
  const pipe = (from: net.Socket, to: () => net.Socket | null, pair: { client: net.Socket; upstream: net.Socket | null }) => {
    let chain = Promise.resolve();
    from.on("data", (chunk: Buffer) => {
      if (cutMode === "blackhole") return; // read and forget
      if (dropRate > 0 && Math.random() < dropRate) {
        pair.client.resetAndDestroy();
        pair.upstream?.resetAndDestroy();
        return;
      }
      const wait = delayMs;
      chain = chain.then(async () => {
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (cutMode === "blackhole") return;
        const target = to();
        if (target && !target.destroyed) target.write(chunk);
      });
    });
    // A clean end travels after the bytes queued before it; an error breaks the other side at once.
    from.on("end", () => {
      void chain.then(() => to()?.end());
    });
    from.on("error", () => to()?.destroy());
  };

  const server = net.createServer((client) => {
    if (cutMode === "reset") {
      client.resetAndDestroy();
      return;
    }
    const pair: { client: net.Socket; upstream: net.Socket | null } = { client, upstream: null };
    pairs.add(pair);
    client.on("close", () => pairs.delete(pair));
    const upstream = net.connect({ port: o.port, host });
    pair.upstream = upstream;
    pipe(client, () => upstream, pair);
    pipe(upstream, () => client, pair);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.listenPort ?? 0, host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    setDelay(ms) {
      if (!(ms >= 0)) throw new RangeError("delay must be ≥ 0 ms");
      delayMs = ms;
    },
    setDropRate(p) {
      if (!(p >= 0 && p <= 1)) throw new RangeError("drop rate must be within 0..1");
      dropRate = p;
    },
    cut(mode) {
      cutMode = mode;
      if (mode === "reset") {
        for (const p of pairs) {
          p.client.resetAndDestroy();
          p.upstream?.resetAndDestroy();
        }
      }
    },
    heal() {
      cutMode = null;
    },
    get connections() {
      return pairs.size;
    },
    async close() {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream?.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
