// The bank test (issue 4): 8 clients move random amounts between 100 accounts, each transfer one
// serializable transaction retried on 40001, while an auditor keeps reading the total; at the end
// the total is unchanged, every committed transfer is recorded, and every balance equals its
// initial value plus its transfers. It runs against Warren through the real local stack (HTTP
// POST /sql batches). A short run against PostgreSQL 15 first proves the checker itself: real
// serializable PostgreSQL must pass it, and a tampered database must fail it.
//
// WARREN_BANK_SECONDS sets the Warren run's duration (default 60, as the issue asks).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bankDefaults, runBank, setupBank, summarizeBank, verifyBank, type BankOptions } from "../scripts/slt/bank.ts";
import { postgresBankDb, warrenBankDb } from "../scripts/slt/bank-db.ts";
import {
  acquireWarrenStack, createTenant, scratchTenantName, tenantClient, warrenStackUnavailableReason, type WarrenStack,
} from "../scripts/slt/warren-stack.ts";
import { postgresAvailable, startPostgres, type PostgresServer } from "./harness/postgres.ts";

const warrenSeconds = Number(process.env.WARREN_BANK_SECONDS ?? 60);
/** The PostgreSQL run only calibrates the checker: a few seconds give thousands of transfers and conflicts. */
const postgresSeconds = 4;

describe.skipIf(!postgresAvailable())("bank workload checker on PostgreSQL 15 (serializable)", () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("passes on real PostgreSQL, with conflicts retried, and catches a tampered database", async () => {
    const o: BankOptions = { ...bankDefaults, durationMs: postgresSeconds * 1000 };
    const admin = await postgresBankDb(server.url);
    try {
      await setupBank(admin, o);
      const report = await runBank(() => postgresBankDb(server.url), o);
      console.log(`PostgreSQL bank: ${summarizeBank(report)}`);
      expect(report.committed.size).toBeGreaterThan(100);
      // 8 clients on 100 accounts under SERIALIZABLE do conflict; if none were seen, the retry
      // path is untested and the workload is not concurrent.
      expect(report.serializationRetries).toBeGreaterThan(0);
      expect(report.auditorReads).toBeGreaterThan(10);
      expect([...report.otherErrors.keys()]).toEqual([]);
      expect(await verifyBank(admin, report)).toEqual([]);

      // Tamper: money from nowhere, and a committed transfer that vanished.
      const someId = report.committed.keys().next().value!;
      await admin.query("UPDATE accounts SET balance = balance + 1 WHERE id = 1");
      await admin.query("DELETE FROM transfers WHERE id = $1", [someId]);
      const problems = await verifyBank(admin, report);
      expect(problems.join("\n")).toMatch(/total balance is \d+, expected 100000/);
      expect(problems.join("\n")).toMatch(new RegExp(`1 committed transfers are missing, e\\.g\\. ${someId}`));
      expect(problems.join("\n")).toMatch(/balances disagree with the transfers/);
    } finally {
      await admin.close();
    }
  });
});

const stackReason = warrenStackUnavailableReason();
describe.skipIf(stackReason !== undefined)(`bank test on Warren (${warrenSeconds} s)`, () => {
  let stack: WarrenStack;
  beforeAll(async () => {
    stack = await acquireWarrenStack();
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it("keeps every committed transfer and the total under 8 concurrent clients", async () => {
    const o: BankOptions = { ...bankDefaults, durationMs: warrenSeconds * 1000 };
    const tenant = await createTenant(stack, scratchTenantName("bank"));
    const connect = async () => warrenBankDb(tenantClient(stack, tenant, 30_000));
    const admin = await connect();
    await setupBank(admin, o);
    const report = await runBank(connect, o);
    console.log(`Warren bank: ${summarizeBank(report)}`);
    expect(report.committed.size).toBeGreaterThan(0);
    expect(await verifyBank(admin, report)).toEqual([]);
  }, warrenSeconds * 1000 + 180_000);
});
