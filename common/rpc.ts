// Settling a Workers RPC call into a plain value.
//
// A Workers RPC result (from a Durable Object stub or a WorkerEntrypoint) carries a disposer. If
// it is never disposed, workerd finalizes it during garbage collection and logs "An RPC result was
// not disposed properly" from inside the collector; in the workerd we pin, logging there captures
// a stack trace, which allocates during GC and crashes the whole runtime (SIGTRAP in
// GCTracer::StartCycle, seen under `wrangler dev` once several gateway isolates were live). So
// every RPC result is copied into a plain value and disposed at once, here, in one place.

/** Awaits an RPC call, returns a structured clone of its result and disposes the original. */
export async function settleRpc<P extends PromiseLike<unknown>>(call: P): Promise<Awaited<P>> {
  const result = await call;
  if (result === null || typeof result !== "object") return result;
  try {
    return structuredClone(result);
  } finally {
    // Symbol.dispose is in the runtimes we target (workerd, Node 22) but not in lib ES2023.
    const disposeKey = (Symbol as unknown as { dispose?: symbol }).dispose;
    const dispose = disposeKey === undefined ? undefined : (result as Record<symbol, unknown>)[disposeKey];
    if (typeof dispose === "function") dispose.call(result);
  }
}
