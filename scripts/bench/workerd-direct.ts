// The edge Worker's own address inside `wrangler dev`, past wrangler's proxy — for measuring that
// hop, not for serving clients.
//
// `wrangler dev` runs two workerd processes: one holds wrangler's proxy Worker on the public port
// (the stack's HTTP port), which forwards every request to the other, where the edge Worker runs
// on an entry socket bound to a random loopback port that wrangler does not publish. That port is
// found here from Linux /proc: the listening TCP sockets of the stack's workerd processes, minus
// the public port's process, each asked `GET /` until one answers as the edge. Requests sent there
// run exactly the same Worker code; the difference to the public port is wrangler's proxy.
import fs from "node:fs";
import { dataPaths, readJson } from "../../cli/data-dir.ts";
import type { Stack } from "../../test/harness/stack.ts";

/** The workerd processes of a stack (wrangler's proxy's and the edge Worker's), by pid (Linux /proc). */
export function stackPids(stack: Stack): number[] {
  const pids = readJson<{ children: { pid: number }[] }>(dataPaths(stack.dataDir).pids);
  const groups = new Set([stack.pid, ...(pids?.children.map((c) => c.pid) ?? [])]);
  const out: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (groups.has(Number(fields[2])) && fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").includes("workerd")) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Loopback TCP ports a process listens on (Linux /proc). */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const table of ["tcp", "tcp6"]) {
    let text = "";
    try {
      text = fs.readFileSync(`/proc/${pid}/net/${table}`, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      // f[1] local address HEX:PORT, f[3] state (0A = LISTEN), f[9] inode
      if (f.length > 9 && f[3] === "0A" && inodes.has(f[9]!)) ports.push(parseInt(f[1]!.split(":")[1]!, 16));
    }
  }
  return ports;
}

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
