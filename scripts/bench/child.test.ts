// runBenchScript's promise to `npm run bench`: a child that outlives its time is stopped with every
// process it started (its process group), and its output is kept.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runBenchScript, tail } from "./child.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function script(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "warren-bench-child-"));
  dirs.push(dir);
  const file = path.join(dir, "child.mjs");
  fs.writeFileSync(file, text);
  return file;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("runBenchScript", () => {
  it("keeps the output and the exit code of a child that finishes", async () => {
    const file = script(`console.log("first"); console.error("second"); process.exit(3);`);
    const lines: string[] = [];
    const r = await runBenchScript(file, [], { timeoutMs: 30_000, log: (l) => lines.push(l), prefix: "t" });
    expect(r.code).toBe(3);
    expect(r.timedOut).toBe(false);
    expect(r.output).toContain("first");
    expect(tail(r.output, 1)).toBe("second");
    expect(lines).toEqual(["  t| first", "  t| second"]);
  });

  it("stops a child past its time together with the process it started", async () => {
    // The child starts a grandchild (same process group) and hangs; it prints the grandchild's pid.
    const file = script(`
      import { spawn } from "node:child_process";
      const g = spawn("sleep", ["60"], { stdio: "ignore" });
      console.log("grandchild " + g.pid);
      setInterval(() => {}, 1000);
    `);
    const r = await runBenchScript(file, [], { timeoutMs: 1_500, log: () => {}, prefix: "t" });
    expect(r.timedOut).toBe(true);
    const pid = Number(/grandchild (\d+)/.exec(r.output)?.[1]);
    expect(pid).toBeGreaterThan(0);
    const deadline = Date.now() + 5_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    expect(alive(pid)).toBe(false);
  });
});
