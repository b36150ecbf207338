// The edge Worker's own address inside `wrangler dev`, past wrangler's proxy — for measuring that
// hop, not for serving clients.
//
// `wrangler dev` runs two workerd processes: one holds wrangler's proxy Worker on the public port
// (the stack's HTTP port), which forwards every request to the other, where the edge Worker runs
// on an entry socket bound to a random loopback port that wrangler does not publish. That port is
// found here from Linux /proc: the listening TCP sockets of the stack's workerd processes, minus
// the public port's process, each asked `GET /` until one answers as the edge. Requests sent there
// run exactly the same Worker code; the difference to the public port is wrangler's proxy.
import { listeningPorts, stackPids } from "../../test/harness/workerd-procs.ts";
import type { Stack } from "../../test/harness/stack.ts";

export { listeningPorts, stackPids };

/** `http://127.0.0.1:PORT` of the edge Worker's entry socket, or null when it cannot be found (not Linux, another layout). */
export async function workerdDirectUrl(stack: Stack): Promise<string | null> {
  const processes = stackPids(stack).map((pid) => ({ pid, ports: (() => { try { return listeningPorts(pid); } catch { return []; } })() }));
  const candidates = processes.filter((p) => !p.ports.includes(stack.ports.http)).flatMap((p) => p.ports);
  for (const port of candidates) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2_000) });
      const body = await res.text();
      if (res.ok && body.includes('"service":"warren-edge"')) return `http://127.0.0.1:${port}`;
    } catch {
      // not an HTTP socket (workerd's debug port, the inspector)
    }
  }
  return null;
}
