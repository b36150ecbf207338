// HTTP transactions through storage-node crashes: 4 clients run BEGIN → two INSERTs → COMMIT over
// POST /sql with the sealed handle while the storage node is killed with SIGKILL (`warren dev`
// starts it again on the same LMDB file). Afterwards, checked against what each client was told:
// - every acknowledged COMMIT is present, in both tables (the transaction's two writes);
// - a transaction whose COMMIT was never sent (an earlier statement failed) left nothing;
// - a COMMIT whose answer was lost (08006/57P01) is all-or-nothing: both rows or neither;
// - the end record of every acknowledged transaction survived the crash: replaying any of its
//   handles (COMMIT, or another INSERT) is refused with 25P01 and writes nothing.
//
// WARREN_HTTP_TXN_KILLS sets the number of kills (default 2, to keep CI short).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postSql, type HttpTxnAnswer } from "./harness/http-txn.ts";
import { httpSql, killStorageNode, startStack, type Stack, type TenantConnection } from "./harness/stack.ts";

const kills = Number(process.env.WARREN_HTTP_TXN_KILLS ?? 2);
const clients = 4;
/** Time between kills: most transactions run against a healthy node. */
const killEveryMs = 3_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Outcome {
  k: number;
  /** committed: COMMIT answered 200; unknown: COMMIT's answer was an error; never: no COMMIT sent. */
  result: "committed" | "unknown" | "never";
  /** Every handle this transaction was given (for the replay check). */
  handles: string[];
  error?: string;
}

describe("HTTP transactions through storage-node kills", () => {
  let stack: Stack;
  let t: TenantConnection;
  beforeAll(async () => {
    stack = await startStack();
    t = stack.demo;
    await httpSql(t, "create table ta (k int primary key)");
    await httpSql(t, "create table tb (k int primary key)");
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
  });

  /** One transaction writing k into both tables; reports what the client was told. */
  async function transfer(k: number): Promise<Outcome> {
    const handles: string[] = [];
    let handle: string | null = null;
    for (const sql of ["BEGIN", "insert into ta values ($1)", "insert into tb values ($1)"]) {
      const r: HttpTxnAnswer = await postSql(t, sql, handle, sql === "BEGIN" ? [] : [k]).catch((e: Error) => ({ status: 0, body: { code: e.message }, handle: null }));
      if (r.status !== 200 || r.handle === null) {
        // The transaction is abandoned here: no COMMIT is ever sent for it.
        return { k, result: "never", handles, error: `${r.body.code} at ${sql}` };
      }
      handle = r.handle;
      handles.push(r.handle);
    }
    const c: HttpTxnAnswer = await postSql(t, "COMMIT", handle).catch((e: Error) => ({ status: 0, body: { code: e.message }, handle: null }));
    if (c.status === 200 && c.body.command === "COMMIT") return { k, result: "committed", handles };
    return { k, result: "unknown", handles, error: `${c.body.code} at COMMIT` };
  }

  it(`every acknowledged HTTP transaction survives ${kills} SIGKILLs of the storage node, and none replays`, async () => {
    const outcomes: Outcome[] = [];
    let stop = false;
    let next = 1;
    const workers = Array.from({ length: clients }, async () => {
      while (!stop) outcomes.push(await transfer(next++));
    });
    const recoveryMs: number[] = [];
    for (let i = 0; i < kills; i++) {
      await sleep(killEveryMs * (0.5 + Math.random()));
      recoveryMs.push(
        await killStorageNode(stack, async () => {
          if ((await postSql(t, "select 1 as one")).status !== 200) throw new Error("not served yet");
        }),
      );
    }
    await sleep(killEveryMs / 2); // some transactions after the last restart
    stop = true;
    await Promise.all(workers);

    const by = (r: Outcome["result"]) => outcomes.filter((o) => o.result === r);
    const errors = [...new Set(outcomes.filter((o) => o.error).map((o) => o.error!.replace(/\$1.*/, "")))];
    console.log(
      `HTTP transactions through ${kills} kills: ${by("committed").length} committed, ${by("unknown").length} with a lost COMMIT answer, ` +
        `${by("never").length} abandoned before COMMIT; served again after ${recoveryMs.map((m) => m.toFixed(0)).join(", ")} ms; errors seen: ${errors.join("; ")}`,
    );
    expect(by("committed").length).toBeGreaterThan(0);
    // What a client saw are the clear codes: storage unavailable or the outcome unknown.
    for (const o of outcomes.filter((x) => x.error)) expect(o.error).toMatch(/^(57P01|08006) /);

    const keys = async (table: string) => new Set((await httpSql(t, `select k from ${table}`)).rows.map((r) => Number((r as { k: number }).k)));
    const [a, b] = [await keys("ta"), await keys("tb")];
    for (const o of outcomes) {
      const present = [a.has(o.k), b.has(o.k)];
      if (o.result === "committed") expect(present, `acknowledged ${o.k}`).toEqual([true, true]);
      if (o.result === "never") expect(present, `abandoned ${o.k} (${o.error})`).toEqual([false, false]);
      if (o.result === "unknown") expect(present[0], `all or nothing ${o.k}`).toBe(present[1]);
    }
    // Nothing else was written: every key present belongs to some transaction of this run.
    const ran = new Set(outcomes.map((o) => o.k));
    for (const k of a) expect(ran.has(k)).toBe(true);

    // The end records outlived the kills: a committed transaction's handles are all refused.
    // Twenty spread over the run, so transactions committed just before and after each kill are among them.
    const committed = by("committed");
    const sample = committed.filter((_, i) => i % Math.max(1, Math.floor(committed.length / 20)) === 0);
    for (const o of sample) {
      for (const h of o.handles) {
        const replay = await postSql(t, "insert into ta values ($1)", h, [-o.k]);
        expect(replay.body.code, `replayed insert for ${o.k}`).toBe("25P01");
        expect((await postSql(t, "COMMIT", h)).body.code).toBe("25P01");
      }
    }
    expect((await httpSql(t, "select count(*)::int as n from ta where k < 0")).rows).toEqual([{ n: 0 }]);
  }, 240_000);
});
