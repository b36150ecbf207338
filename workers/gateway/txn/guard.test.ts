// The running statement's guard around the transaction's reads: checked before each request and
// after each wait for a throttled re-send (so cancel and statement_timeout end a statement that
// waits out a rate limit), and told when the statement stops holding the thread.
import { describe, expect, it } from "vitest";
import { PgError } from "../../../common/errors.ts";
import type { KvRequest, KvResponse } from "../../../common/kv-protocol/messages.ts";
import { KvClient } from "../kv/kv-client.ts";
import { Txn, type StatementGuard } from "./txn.ts";

class FakeGuard implements StatementGuard {
  canceled = false;
  checks = 0;
  events: string[] = [];
  check(): void {
    this.checks++;
    if (this.canceled) throw new PgError("query_canceled", "canceling statement due to user request");
  }
  suspend(): void {
    this.events.push("suspend");
  }
  resume(): void {
    this.events.push("resume");
  }
}

describe("Txn with a statement guard", () => {
  it("checks before a read and brackets the wait with suspend / resume", async () => {
    const kv = new KvClient({ send: async (): Promise<KvResponse> => ({ type: "read", readTs: 7n, results: [{ op: "get", value: null }] }) });
    const txn = new Txn(kv);
    const g = new FakeGuard();
    txn.guard = g;
    expect(await txn.get(new Uint8Array([1]))).toBeNull();
    expect(g.checks).toBe(1);
    expect(g.events).toEqual(["suspend", "resume"]);
    g.canceled = true;
    await expect(txn.get(new Uint8Array([2]))).rejects.toMatchObject({ code: "57014" });
  });

  it("ends a statement waiting out a rate limit once it is canceled, without using the whole retry budget", async () => {
    let sent = 0;
    const kv = new KvClient({
      send: async (_r: KvRequest): Promise<KvResponse> => {
        sent++;
        return { type: "error", error: { code: "rate_limited", message: "over", retryAfterMs: 1000 } };
      },
    });
    const g = new FakeGuard();
    let waits = 0;
    kv.sleep = async () => {
      // The cancel arrives during the second wait.
      if (++waits === 2) g.canceled = true;
    };
    const txn = new Txn(kv);
    txn.guard = g;
    await expect(txn.get(new Uint8Array([1]))).rejects.toMatchObject({ code: "57014" });
    expect(sent).toBe(2);
    expect(g.events).toEqual(["suspend", "resume"]);
  });
});
