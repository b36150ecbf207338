import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { groupAlive, signalGroup, spawnChild, stopGroup } from "./processes.ts";
import { childLogTailLines } from "./limits.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "warren-proc-"));
const started: number[] = [];
afterAll(() => {
  for (const pid of started) signalGroup(pid, "SIGKILL");
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A node child that starts a grandchild; with `stubborn`, both ignore SIGTERM. */
function family(name: string, stubborn: boolean) {
  const ignore = stubborn ? "process.on('SIGTERM', () => {});" : "";
  const grandchild = `${ignore} setInterval(() => {}, 1000);`;
  const script =
    `${ignore} const { spawn } = require('node:child_process');` +
    `const g = spawn(process.execPath, ['-e', ${JSON.stringify(grandchild)}], { stdio: 'ignore' });` +
    `console.log('grandchild ' + g.pid); setInterval(() => {}, 1000);`;
  const child = spawnChild({
    name,
    command: process.execPath,
    args: ["-e", script],
    env: process.env,
    cwd: tmp,
    logFile: path.join(tmp, `${name}.log`),
  });
  started.push(child.pid);
  return child;
}

async function grandchildPid(child: ReturnType<typeof family>): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const line = child.tail().find((l) => l.startsWith("grandchild "));
    if (line) return Number(line.split(" ")[1]);
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("grandchild never reported");
}

function alive(pid: number): boolean {
  try {
    const state = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0];
    return state !== "Z";
  } catch {
    return false;
  }
}

describe("child process groups", () => {
  it("stops a child and its grandchild with SIGTERM to the group", async () => {
    const child = family("polite", false);
    const grandchild = await grandchildPid(child);
    expect(groupAlive(child.pid)).toBe(true);
    const t0 = Date.now();
    expect(await child.stop()).toBe(true);
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(alive(grandchild)).toBe(false);
    expect(groupAlive(child.pid)).toBe(false);
    expect((await child.exited).signal).toBe("SIGTERM");
  });

  it("escalates to SIGKILL after the grace period when the group ignores SIGTERM", async () => {
    const child = family("stubborn", true);
    const grandchild = await grandchildPid(child);
    const graceMs = 300;
    const t0 = Date.now();
    expect(await stopGroup(child.pid, graceMs, 2_000)).toBe(true);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(graceMs);
    expect(took).toBeLessThan(graceMs + 2_000);
    expect(alive(grandchild)).toBe(false);
    expect((await child.exited).signal).toBe("SIGKILL");
  });

  it("keeps the tail of a child's output and writes it all to the log file", async () => {
    const lines = Array.from({ length: 100 }, (_, i) => `line ${i}`);
    const child = spawnChild({
      name: "chatty",
      command: process.execPath,
      args: ["-e", `console.log(${JSON.stringify(lines.join("\n"))}); console.error("bye")`],
      env: process.env,
      cwd: tmp,
      logFile: path.join(tmp, "chatty.log"),
    });
    started.push(child.pid);
    expect((await child.exited).code).toBe(0);
    const tail = child.tail();
    // Exactly the last childLogTailLines lines of the 101 written: the last lines of stdout and "bye".
    expect(tail).toHaveLength(childLogTailLines);
    expect(tail).toContain("bye");
    expect(tail.filter((l) => l !== "bye")).toEqual(lines.slice(-(childLogTailLines - 1)));
    expect(tail).toContain("line 99");
    expect(tail).not.toContain("line 0");
    await new Promise((r) => setTimeout(r, 50));
    expect(fs.readFileSync(path.join(tmp, "chatty.log"), "utf8")).toContain("line 0\n");
    expect(await child.stop()).toBe(true); // stopping an exited group is a no-op
  });
});
