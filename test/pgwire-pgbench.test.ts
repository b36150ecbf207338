// pgbench (PostgreSQL 15's) against Warren through the tunnel: `pgbench -i -s 1` (every default
// step, the 100,000-row COPY in one transaction), then `pgbench -c 2 -t 50` with the builtin
// script, both required to succeed; plus the init steps one by one, COPY FROM STDIN of pgbench's
// own rows inside a transaction, and the TPC-B-like script in all three query modes (simple,
// extended, prepared) with money conserved. Two clients conflict on the one branch row at scale 1
// (serializable, optimistic), so runs pass --max-tries for pgbench to retry 40001s.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { txnLimits } from "../workers/gateway/txn/limits.ts";
import { formatHeap } from "./harness/gateway-heap.ts";
import { pgbenchInit } from "./harness/pgbench-init.ts";
import { startStack, type Stack } from "./harness/stack.ts";

/** `pgbench -i`'s scale: 1 here (100,000 rows, under a minute); WARREN_PGBENCH_SCALE=10 is issue 10's acceptance size (a few minutes). */
const SCALE = Number(process.env.WARREN_PGBENCH_SCALE ?? 1);
/** pgbench -i is killed past this: at scale 1 it takes 40-170 s on the shared 2-core box. */
const initTimeoutMs = SCALE * 240_000;

interface Run {
  code: number | null;
  out: string;
}

function run(cmd: string, args: string[], stdin = ""): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, PGCONNECT_TIMEOUT: "20" } });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 100_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
    child.stdin.end(stdin);
  });
}


let stack: Stack;
let dir: string;

beforeAll(async () => {
  stack = await startStack();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "warren-pgbench-"));
});

afterAll(async () => {
  await stack?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function expectSuccess(r: Run, step: string): void {
  expect(r.code, `${step} failed:\n${r.out}`).toBe(0);
}

describe("pgbench through the tunnel", () => {
  it(`pgbench -i -s ${SCALE} (all default steps) loads ${SCALE * 100_000} accounts, the gateway's live heap under txnLimits.bulkLiveHeapBytesMax`, async () => {
    const r = await pgbenchInit(stack, stack.demo.pg, SCALE, initTimeoutMs);
    expectSuccess(r, `pgbench -i -s ${SCALE}`);
    // The gateway isolate's heap, read through workerd's inspector (test/harness/gateway-heap.ts),
    // during the COPY transaction and during ADD PRIMARY KEY over the loaded rows.
    const bound = txnLimits.bulkLiveHeapBytesMax;
    for (const phase of r.heap) console.warn(`pgbench -i -s ${SCALE} ${phase.phase}: gateway heap ${formatHeap(phase)}, bound ${bound / 1024 / 1024} MiB live`);
    expect(r.heap.map((p) => p.phase)).toEqual(["load", "primary keys"]);
    for (const phase of r.heap) {
      expect(phase.liveSamples, `${phase.phase}: no forced collection was answered`).toBeGreaterThan(0);
      expect(phase.peakLiveBytes, `${phase.phase}: ${formatHeap(phase)}`).toBeLessThan(bound);
    }
    // (Past scale 1 the tenant's default RU quota may be spent by the load: 53400 here.)
    const count = await run("psql", [stack.demo.pg, "-X", "-At", "-c", "select count(*) from pgbench_accounts"]);
    expect(count.out.trim()).toBe(String(SCALE * 100_000));
  }, initTimeoutMs + 30_000);

  it("pgbench -i steps d, t, v, p (drop, create, vacuum, primary keys) and pgbench's COPY in a transaction", async () => {
    const init = await run("pgbench", ["-i", "-I", "dtvp", "-s", "1", stack.demo.pg]);
    expect(init.out).toContain("creating primary keys...");
    expect(init.code).toBe(0);
    // What pgbench -i's generate step sends (conformance/clients.md §1), with 2,000 accounts so it
    // fits the engine's transaction size.
    const rows = Array.from({ length: 2000 }, (_, i) => `${i + 1}\t1\t0\t\n`).join("");
    const tellers = Array.from({ length: 10 }, (_, i) => `insert into pgbench_tellers(tid,bid,tbalance) values (${i + 1},1,0);`).join("\n");
    const script = `begin;\ntruncate table pgbench_accounts, pgbench_branches, pgbench_history, pgbench_tellers;\ninsert into pgbench_branches(bid,bbalance) values(1,0);\n${tellers}\ncopy pgbench_accounts from stdin with (freeze on);\n${rows}\\.\ncommit;\n`;
    const load = await run("psql", [stack.demo.pg, "-X", "-q", "-v", "ON_ERROR_STOP=1"], script);
    expect(load.out).toBe("");
    expect(load.code).toBe(0);
    const check = await run("psql", [stack.demo.pg, "-X", "-At", "-c", "select count(*), sum(abalance), min(length(filler)), (select count(*) from pgbench_tellers) from pgbench_accounts"]);
    expect(check.out.trim()).toBe("2000|0|0|10");
  });

  it("runs the TPC-B-like transaction with 2 clients × 50 in simple, extended and prepared modes", async () => {
    // The builtin script minus `mtime CURRENT_TIMESTAMP` (the builtin itself runs below), on 2,000 accounts.
    const script = path.join(dir, "tpcb.sql");
    fs.writeFileSync(
      script,
      [
        "\\set aid random(1, 2000)",
        "\\set bid random(1, 1 * :scale)",
        "\\set tid random(1, 10 * :scale)",
        "\\set delta random(-5000, 5000)",
        "BEGIN;",
        "UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;",
        "SELECT abalance FROM pgbench_accounts WHERE aid = :aid;",
        "UPDATE pgbench_tellers SET tbalance = tbalance + :delta WHERE tid = :tid;",
        "UPDATE pgbench_branches SET bbalance = bbalance + :delta WHERE bid = :bid;",
        "INSERT INTO pgbench_history (tid, bid, aid, delta) VALUES (:tid, :bid, :aid, :delta);",
        "END;",
        "",
      ].join("\n"),
    );
    for (const mode of ["simple", "extended", "prepared"]) {
      // Serializable isolation: two clients updating the one branch row conflict (40001), and
      // pgbench retries those transactions (--max-tries), as it would against Postgres at SERIALIZABLE.
      const r = await run("pgbench", ["-n", "-c", "2", "-t", "50", "-M", mode, "--max-tries=100", "-f", script, stack.demo.pg]);
      expect(r.out, r.out).toContain("number of transactions actually processed: 100/100");
      expect(r.code).toBe(0);
      console.warn(`pgbench -M ${mode}: ${r.out.match(/tps = [\d.]+ \(without initial connection time\)/)?.[0]}`);
    }
    // Money is conserved: every delta applied to an account is in the history, and the branch.
    const check = await run("psql", [stack.demo.pg, "-X", "-At", "-c", "select (select sum(abalance) from pgbench_accounts) = (select sum(delta) from pgbench_history), (select sum(bbalance) from pgbench_branches) = (select sum(delta) from pgbench_history), (select count(*) from pgbench_history)"]);
    expect(check.out.trim()).toBe("t|t|300");
  });

  it("pgbench -c 2 -t 50 with the builtin script (40001 retried by pgbench)", async () => {
    const r = await run("pgbench", ["-n", "-c", "2", "-t", "50", "--max-tries=100", stack.demo.pg]);
    expectSuccess(r, "pgbench -c 2 -t 50 (builtin)");
    expect(r.out).toContain("number of transactions actually processed: 100/100");
  });
});
