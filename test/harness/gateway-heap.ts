// The gateway isolate's V8 heap, measured inside the real local stack while it works.
//
// Inside a Worker there is nothing to read it with: workerd answers process.memoryUsage() and
// node:v8's getHeapStatistics() with zeros, and performance.memory does not exist. But workerd's
// own inspector (the Chrome DevTools protocol) lists every isolate, the Worker Loader's too (target
// id "LOADER:<isolate id>"; the gateway's ids start with "gateway-", workers/edge/gateway-host.ts),
// and answers Runtime.getHeapUsage for each: usedSize is the isolate's V8 heap in use (live
// objects plus garbage not yet collected), embedderHeapUsedSize and backingStorageSize the
// runtime's C++ objects and ArrayBuffer contents; their sum is what this calls the heap held
// (WebAssembly memory, the parser's, is in none of them). Wrangler's inspector proxy (the stack's
// --inspector-port) shows only the edge Worker, so this finds the inspector of the workerd that
// `wrangler dev` started (it listens on a port workerd picks) through /proc: Linux only, like the
// rest of the local stack's process handling.
//
// Two figures, because a sample falls anywhere in V8's collection cycle and local workerd (no
// 128 MB limit) lets garbage pile up further than a platform isolate would:
// - peakUsedBytes: the most held at any sample (every 250 ms): garbage included, an upper bound of
//   what the isolate needed;
// - peakLiveBytes: the most held right after a full collection forced through the inspector
//   (HeapProfiler.collectGarbage, once a second): what the gateway really held, the figure a
//   128 MB isolate has to fit. workerd runs the collection at the isolate's next task, so it is
//   answered only by an isolate that is working (an idle pooled one never answers: skipped).
//
//   const heap = await sampleGatewayHeap(stack);   // attaches to every gateway isolate, samples
//   … run the statements …
//   const { peakUsedBytes } = await heap.stop();
import WebSocket from "ws";
import type { Stack } from "./stack.ts";
import { listeningPorts, stackPids } from "./workerd-procs.ts";

/** How often the heap is sampled: cheap (one inspector round trip per isolate). */
const sampleIntervalMsDefault = 250;
/** How often a full collection is forced to read the live heap (a collection of ~20 MB takes tens of ms). */
const liveSampleIntervalMs = 1_000;
/** How long one inspector request may take before that sample is skipped (a busy isolate answers between its tasks). */
const inspectorAnswerMsMax = 5_000;

interface HeapUsage {
  usedSize: number;
  totalSize: number;
  /** cppgc (the runtime's C++ objects held by JavaScript) and ArrayBuffer backing stores: outside V8's heap, inside the isolate's memory. WebAssembly memory is in neither. */
  embedderHeapUsedSize?: number;
  backingStorageSize?: number;
}

/** What the isolate holds: V8's heap in use plus the runtime's objects and ArrayBuffer contents. */
const heldBytes = (u: HeapUsage): number => u.usedSize + (u.embedderHeapUsedSize ?? 0) + (u.backingStorageSize ?? 0);

export interface GatewayHeapReport {
  /** The phase these peaks are of ("" before the first phase() call). */
  readonly phase: string;
  /** Most heap held right after a forced full collection, any gateway isolate, bytes: the live heap. */
  readonly peakLiveBytes: number;
  /** Forced collections that were answered (0: no live figure). */
  readonly liveSamples: number;
  /** Most heap held at any sample, any gateway isolate, bytes (garbage included). */
  readonly peakUsedBytes: number;
  /** Largest totalSize (heap reserved by V8) seen, bytes. */
  readonly peakTotalBytes: number;
  /** Samples taken (all isolates together). */
  readonly samples: number;
}

export interface GatewayHeapSampler {
  /** Heap held by the first gateway isolate sampled at the first sample (an idle gateway's), bytes. */
  readonly firstUsedBytes: number;
  /** Ends the current phase (its peaks are kept) and starts `name`. */
  phase(name: string): void;
  /** Stops sampling; returns every phase's peaks, in order. */
  stop(): Promise<GatewayHeapReport[]>;
}

/** The port of workerd's own inspector: the one of the stack's workerd ports that answers /json with a list. */
export async function workerdInspectorPort(stack: Pick<Stack, "pid" | "dataDir">): Promise<number> {
  for (const pid of stackPids(stack)) {
    let ports: number[];
    try {
      ports = listeningPorts(pid);
    } catch {
      continue; // gone meanwhile
    }
    for (const port of ports) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/json`, { signal: AbortSignal.timeout(2_000) });
        // workerd's own inspector names its targets "workerd: worker …"; wrangler's proxy (also a
        // workerd of the stack) answers /json too, with the edge Worker alone.
        const list = (await res.json()) as unknown;
        if (Array.isArray(list) && list.some((t: { title?: unknown }) => typeof t.title === "string" && t.title.startsWith("workerd: worker"))) return port;
      } catch {
        // not the inspector (an entry socket, the debug port)
      }
    }
  }
  throw new Error("workerd's inspector was not found among the stack's workerd processes");
}

interface Attached {
  readonly ws: WebSocket;
  call(method: string): Promise<unknown>;
}

async function attach(url: string): Promise<Attached> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  let next = 1;
  const pending = new Map<number, (v: unknown) => void>();
  ws.on("message", (data: Buffer) => {
    const m = JSON.parse(data.toString()) as { id?: number; result?: unknown };
    if (m.id !== undefined) {
      pending.get(m.id)?.(m.result);
      pending.delete(m.id);
    }
  });
  ws.on("error", () => {}); // a closing stack; the sampler stops on its own
  const call = (method: string) =>
    new Promise<unknown>((resolve) => {
      const id = next++;
      const timer = setTimeout(() => (pending.delete(id), resolve(undefined)), inspectorAnswerMsMax);
      pending.set(id, (v) => (clearTimeout(timer), resolve(v)));
      ws.send(JSON.stringify({ id, method, params: {} }));
    });
  return { ws, call };
}

/**
 * Samples the heap of every gateway isolate of the stack (those alive now and those loaded later)
 * until stop(), keeping peaks per phase.
 */
export async function sampleGatewayHeap(stack: Pick<Stack, "pid" | "dataDir">, intervalMs = sampleIntervalMsDefault): Promise<GatewayHeapSampler> {
  const port = await workerdInspectorPort(stack);
  const attached = new Map<string, Attached>();
  const done: GatewayHeapReport[] = [];
  let cur = { phase: "", peakLiveBytes: 0, liveSamples: 0, peakUsedBytes: 0, peakTotalBytes: 0, samples: 0 };
  let firstUsed = -1;
  let stopped = false;

  const refreshTargets = async () => {
    const list = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as Array<{ id: string; webSocketDebuggerUrl?: string }>;
    for (const t of list) {
      if (!t.id.startsWith("LOADER:gateway-") || attached.has(t.id) || !t.webSocketDebuggerUrl) continue;
      attached.set(t.id, await attach(t.webSocketDebuggerUrl));
    }
  };
  const sampleOnce = async () => {
    await refreshTargets().catch(() => {});
    await Promise.all(
      [...attached.values()].map(async (a) => {
        const u = (await a.call("Runtime.getHeapUsage")) as HeapUsage | undefined;
        if (!u || typeof u.usedSize !== "number") return;
        if (firstUsed < 0) firstUsed = heldBytes(u);
        cur.samples++;
        cur.peakUsedBytes = Math.max(cur.peakUsedBytes, heldBytes(u));
        cur.peakTotalBytes = Math.max(cur.peakTotalBytes, u.totalSize);
      }),
    );
  };
  // One forced collection at a time per isolate, each on its own: an idle isolate's unanswered
  // request must not hold up the working one's samples.
  const collecting = new Set<Attached>();
  const liveOnce = () => {
    for (const a of attached.values()) {
      if (collecting.has(a)) continue;
      collecting.add(a);
      void (async () => {
        if ((await a.call("HeapProfiler.collectGarbage")) === undefined) return; // idle: not answered
        const u = (await a.call("Runtime.getHeapUsage")) as HeapUsage | undefined;
        if (!u || typeof u.usedSize !== "number") return;
        cur.liveSamples++;
        cur.peakLiveBytes = Math.max(cur.peakLiveBytes, heldBytes(u));
      })().finally(() => collecting.delete(a));
    }
  };
  await sampleOnce();
  const loop = (async () => {
    while (!stopped) {
      await new Promise((r) => setTimeout(r, intervalMs));
      if (!stopped) await sampleOnce();
    }
  })();
  const liveLoop = (async () => {
    while (!stopped) {
      await new Promise((r) => setTimeout(r, liveSampleIntervalMs));
      if (!stopped) liveOnce();
    }
  })();
  return {
    get firstUsedBytes() {
      return Math.max(firstUsed, 0);
    },
    phase: (name: string) => {
      done.push({ ...cur });
      cur = { phase: name, peakLiveBytes: 0, liveSamples: 0, peakUsedBytes: 0, peakTotalBytes: 0, samples: 0 };
    },
    stop: async () => {
      stopped = true;
      await Promise.all([loop, liveLoop]);
      await sampleOnce();
      for (const a of attached.values()) a.ws.close();
      return [...done, { ...cur }].filter((r) => r.samples > 0);
    },
  };
}

/** "31.2 MB live (42.1 MB with garbage)": one phase's peaks, for a log line. */
export function formatHeap(r: GatewayHeapReport): string {
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
  return r.liveSamples > 0 ? `${mb(r.peakLiveBytes)} live (${mb(r.peakUsedBytes)} with garbage)` : `${mb(r.peakUsedBytes)} with garbage (no live sample)`;
}
