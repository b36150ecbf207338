// Sessions that wait on one another's work always get their answer (issue 8: the pgbench -T hang).
//
// A tenant's sessions in one gateway isolate share its Request-Unit grant and take turns at
// admission (workers/gateway/quota/local-quota.ts). Under load, pgbench sessions queued behind
// another session's grant request lost their replies; and a session left waiting on work of a
// session that has ended waits forever, because workerd never settles an ended request's promises
// (common/shared-wait.ts). The edge holds every grant request here (FAULT_QUOTA_GRANT_DELAY_MS), so
// sessions queue behind it on every run. The second test is the regression test: before the fix
// the staying session got no answer at all (20 s bound); the first guards the plain queue, which
// passed before the fix too.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../harness/stack.ts";

/** How long the edge holds each grant request (the fault). */
const grantDelayMs = 1_500;
/** Bound for an answer: the delay twice over plus a loaded machine; a session that waits forever fails it. */
const answerMsMax = 20_000;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ env: { FAULT_QUOTA_GRANT_DELAY_MS: String(grantDelayMs) } });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

/** The query's rows, or the error it ended with, or "no answer" after answerMsMax. */
async function answer(client: pg.Client, sql: string): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const silent = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`no answer within ${answerMsMax} ms`), answerMsMax)));
  try {
    return await Promise.race([
      client.query(sql).then(
        (r) => r.rows,
        (e: { code?: string; message: string }) => `${e.code ?? "?"}: ${e.message}`,
      ),
      silent,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function connected(url: string, n: number): Promise<pg.Client[]> {
  const clients: pg.Client[] = [];
  for (let i = 0; i < n; i++) {
    const c = new pg.Client({ connectionString: url });
    c.on("error", () => {}); // a session the stack drops at the end must not crash the test process
    await c.connect();
    clients.push(c);
  }
  return clients;
}

/** Longer than a grant's period (the QuotaBucket's 10 s): the next statement must ask for a new grant. */
const grantExpiryMs = 11_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A tenant with a four-row table, and `n` sessions connected to it whose grant has expired. */
async function tenantWithExpiredGrant(name: string, n: number): Promise<pg.Client[]> {
  const tenant = await stack.createTenant(name);
  const clients = await connected(tenant.pg, n);
  await clients[0]!.query("create table t (id int primary key, v int)");
  await clients[0]!.query("insert into t values (0, 100), (1, 101), (2, 102), (3, 103)");
  await sleep(grantExpiryMs);
  return clients;
}

describe("sessions queued behind another session's grant request", () => {
  it("four sessions' statements, sent together when the grant must be renewed, all get their rows", async () => {
    // The first statement to arrive asks the QuotaBucket for a new grant (held by the edge); the
    // other three wait for their turn behind it, then read storage and answer their clients.
    const clients = await tenantWithExpiredGrant("queued", 4);
    try {
      const answers = await Promise.all(clients.map((c, i) => answer(c, `select v from t where id = ${i}`)));
      expect(answers).toEqual([[{ v: 100 }], [{ v: 101 }], [{ v: 102 }], [{ v: 103 }]]);
      // And each session goes on working.
      const again = await Promise.all(clients.map((c, i) => answer(c, `select v from t where id = ${3 - i}`)));
      expect(again).toEqual([[{ v: 103 }], [{ v: 102 }], [{ v: 101 }], [{ v: 100 }]]);
    } finally {
      await Promise.all(clients.map((c) => c.end().catch(() => {})));
    }
  }, 120_000);

  it("a client that goes away while its statement waits for the grant leaves no session waiting", async () => {
    const [leaver, stayer] = await tenantWithExpiredGrant("leaver", 2);
    try {
      // The leaver's statement takes the turn and its grant request is held; the leaver's socket
      // is then cut, so its session ends with that request in flight.
      const left = leaver!.query("select v from t where id = 0").catch(() => null);
      await sleep(200);
      const stays = answer(stayer!, "select v from t where id = 1");
      await sleep(100);
      (leaver as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
      await left;
      expect(await stays).toEqual([{ v: 101 }]);
      expect(await answer(stayer!, "select v from t where id = 2")).toEqual([{ v: 102 }]);
    } finally {
      await stayer!.end().catch(() => {});
      await leaver!.end().catch(() => {});
    }
  }, 120_000);
});
