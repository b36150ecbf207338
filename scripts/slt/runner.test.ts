// Runner behaviour that needs a misbehaving database: a scripted fake target (the runner is the
// thing under test here; its results against real PostgreSQL are in test/slt-postgres.test.ts).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runFile } from "./runner.ts";
import type { QueryOutput, SqlTarget } from "./target.ts";

const dir = mkdtempSync(join(tmpdir(), "warren-slt-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("sqllogictest runner on transport failures", () => {
  it("re-sends a query record after a transport failure, but never a statement record", async () => {
    const file = join(dir, "t.test");
    writeFileSync(file, "statement ok\nINSERT 1\n\nquery I nosort\nSELECT 1\n----\n1\n");
    const sent: string[] = [];
    let failuresLeft = 2;
    const target: SqlTarget = {
      name: "fake",
      engine: "postgresql",
      async openSession() {
        return {
          async execute(sql: string): Promise<QueryOutput> {
            sent.push(sql);
            if (failuresLeft > 0) {
              failuresLeft--;
              throw new Error("HTTP 500: Network connection lost.");
            }
            return { columns: 1, rows: [["1"]] };
          },
          async close() {},
        };
      },
      async close() {},
    };
    const r = await runFile(file, target);
    // The statement failed once and was not re-sent; the query failed once, was re-sent, passed.
    expect(sent).toEqual(["INSERT 1", "SELECT 1", "SELECT 1"]);
    expect(r.failures.map((f) => [f.line, f.reason])).toEqual([[1, "transport"]]);
    expect(r.transportRetries).toBe(1);
    expect(r.queries).toEqual({ run: 1, passed: 1 });
  }, 20_000);
});
