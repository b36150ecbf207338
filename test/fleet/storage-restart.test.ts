// `warren dev` survives a storage node death (issue 13, first step): the storage node is killed
// with SIGKILL while 4 clients run the bank workload over HTTP; `warren dev` starts it again on the
// same port and data dir, the edge waits for it (repeating requests that are safe to repeat) and
// answers 57P01 / 08006 otherwise, never a hang or XX000. At the end the stack still runs, the
// total is unchanged and every acknowledged transfer is present.
//
// WARREN_STORAGE_KILLS sets the number of kills (default 3, to keep CI short).
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dataPaths } from "../../cli/data-dir.ts";
import { bankDefaults, percentile, runBank, setupBank, summarizeBank, verifyBank, type BankOptions } from "../../scripts/slt/bank.ts";
import { warrenBankDb } from "../../scripts/slt/bank-db.ts";
import { NeonHttpClient } from "../../scripts/slt/neon-http.ts";
import { killStorageNode, startStack, type Stack } from "../harness/stack.ts";

const kills = Number(process.env.WARREN_STORAGE_KILLS ?? 3);
/** Time between kills: the workload runs against a healthy node most of the time. */
const killEveryMs = 4_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("warren dev restarts a storage node killed with SIGKILL", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it(`keeps serving through ${kills} kills without losing an acknowledged transfer`, async () => {
    const tenant = await stack.createTenant("bank");
    const connect = async () => warrenBankDb(new NeonHttpClient({ http: stack.http, connectionString: tenant.pg, timeoutMs: 30_000 }));
    const admin = await connect();
    const o: BankOptions = { ...bankDefaults, clients: 4, accounts: 20, durationMs: (kills + 1) * killEveryMs };
    await setupBank(admin, o);

    const recoveryMs: number[] = [];
    const killer = (async () => {
      for (let i = 0; i < kills; i++) {
        await sleep(killEveryMs * (0.5 + Math.random()));
        // Served again: a new process in dev.pids, and a query through the whole stack answers.
        recoveryMs.push(await killStorageNode(stack, () => admin.query("SELECT count(*) FROM accounts")));
      }
    })();
    const report = await runBank(connect, o);
    await killer;
    console.log(`bank through ${kills} storage kills: ${summarizeBank(report)}`);
    const sorted = [...recoveryMs].sort((a, b) => a - b);
    console.log(`served again after a kill: p50 ${percentile(sorted, 50).toFixed(0)} ms, max ${sorted.at(-1)?.toFixed(0)} ms (${recoveryMs.map((m) => m.toFixed(0)).join(", ")})`);

    expect(recoveryMs).toHaveLength(kills);
    expect(stack.output()).toMatch(/the storage node exited \(signal SIGKILL\); started again/);
    // The stack is still the one we started: warren dev did not exit.
    expect(fs.existsSync(dataPaths(stack.dataDir).ready)).toBe(true);
    expect(report.committed.size).toBeGreaterThan(0);
    // Errors a client saw are the clear ones: storage unavailable (57P01) or connection lost (08006).
    for (const code of report.otherErrors.keys()) expect(["57P01", "08006"]).toContain(code);
    expect(await verifyBank(admin, report)).toEqual([]);
  }, 240_000);
});
