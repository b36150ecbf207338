// The workerd processes of a local stack and the TCP ports they listen on, from Linux /proc:
// workerd picks some of its ports itself (the edge Worker's entry socket, its inspector), and
// wrangler does not publish them. Used by the bench's direct-to-workerd hop (scripts/bench/
// workerd-direct.ts) and by the gateway heap sampler (gateway-heap.ts).
import fs from "node:fs";
import { dataPaths, readJson } from "../../cli/data-dir.ts";
import type { Stack } from "./stack.ts";

/** The workerd processes of a stack (wrangler's proxy's and the edge Worker's), by pid (Linux /proc). */
export function stackPids(stack: Pick<Stack, "pid" | "dataDir">): number[] {
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
