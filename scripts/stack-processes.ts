// The processes of a local stack started by test/harness/stack.ts (everything under `warren dev`'s
// process), each named by its role, with the CPU it has used and, summed over its threads
// (/proc/PID/task/*/schedstat), the time it ran and the time it waited runnable for a CPU. A
// diagnostic for scripts/flood-probe.ts and scripts/isolation-probe.ts; Linux only.
import fs from "node:fs";

export interface StackProcess {
  /** user-workerd, proxy-workerd (wrangler's), wrangler-node, storage, tunnel (`warren dev`), self, or comm:args. */
  readonly label: string;
  /** utime + stime, in clock ticks (USER_HZ, 100 a second). */
  readonly ticks: number;
  readonly runNs: number;
  readonly waitNs: number;
}

/** Every process under `root`, and this process itself (labelled "self"). */
export function stackProcesses(root: number): Map<number, StackProcess> {
  const all = new Map<number, { ppid: number; comm: string; args: string; ticks: number }>();
  for (const e of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, "utf8");
      // pid (comm) state ppid … utime(14) stime(15): comm may contain spaces, so split after ')'.
      const close = stat.lastIndexOf(")");
      const f = stat.slice(close + 2).split(" ");
      all.set(Number(e), { ppid: Number(f[1]), comm: stat.slice(stat.indexOf("(") + 1, close), args: fs.readFileSync(`/proc/${e}/cmdline`, "utf8").replace(/\0/g, " "), ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // exited meanwhile
    }
  }
  const out = new Map<number, StackProcess>();
  for (const [pid, p] of all) {
    let under = pid === process.pid;
    for (let q = pid; q > 1 && !under; q = all.get(q)?.ppid ?? 1) under = q === root;
    if (!under) continue;
    let runNs = 0;
    let waitNs = 0;
    try {
      for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
        try {
          const [r, w] = fs.readFileSync(`/proc/${pid}/task/${t}/schedstat`, "utf8").split(" ").map(Number);
          runNs += r!;
          waitNs += w!;
        } catch {
          // thread exited meanwhile
        }
      }
    } catch {
      // process exited meanwhile
    }
    out.set(pid, { label: labelOf(pid, p), ticks: p.ticks, runNs, waitNs });
  }
  return out;
}

function labelOf(pid: number, p: { comm: string; args: string }): string {
  if (pid === process.pid) return "self";
  if (p.args.includes("entry=127.0.0.1:0")) return "user-workerd";
  if (p.comm === "workerd") return "proxy-workerd";
  if (p.args.includes("wrangler-dist")) return "wrangler-node";
  if (p.args.includes("storage-node")) return "storage";
  if (p.args.includes("warren.mjs dev")) return "tunnel";
  return `${p.comm}:${p.args.slice(0, 40)}`;
}
