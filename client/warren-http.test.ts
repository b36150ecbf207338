// The client helper's bookkeeping against a scripted server: which handle each request carries,
// what ends a transaction, and the retry on 40001 (the real protocol runs in
// test/http-transactions.test.ts and, in Chromium, test/clients/browser.test.ts).
import { describe, expect, it } from "vitest";
import { TXN_HANDLE_HEADER, warrenHttp, WarrenHttpError } from "./warren-http.ts";

interface Sent {
  query: string;
  handle: string | null;
}

/** A server that numbers handles h1, h2, … and answers from `reply` (default: 200, next handle while open). */
function server(reply: (q: Sent, n: number) => { status?: number; body?: unknown; handle?: string | null } = () => ({})) {
  const sent: Sent[] = [];
  let n = 0;
  const fetch = (async (_url: RequestInfo | URL, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    const q: Sent = { query: (JSON.parse(String(init?.body)) as { query: string }).query, handle: headers.get(TXN_HANDLE_HEADER) };
    sent.push(q);
    n++;
    const r = reply(q, n);
    const ends = /^(COMMIT|ROLLBACK)$/.test(q.query);
    const handle = r.handle !== undefined ? r.handle : ends || (q.handle === null && q.query !== "BEGIN") ? null : `h${n}`;
    const h = new Headers({ "content-type": "application/json" });
    if (handle !== null) h.set(TXN_HANDLE_HEADER, handle);
    return new Response(JSON.stringify(r.body ?? { command: q.query.split(" ")[0], rowCount: 0, rows: [], fields: [] }), { status: r.status ?? 200, headers: h });
  }) as typeof globalThis.fetch;
  return { sent, fetch };
}

describe("warrenHttp", () => {
  it("sends the latest handle with every statement and none after COMMIT", async () => {
    const s = server();
    const db = warrenHttp({ url: "http://x/sql", connectionString: "postgresql://u.t:p@h/db", fetch: s.fetch });
    await db.transaction(async (tx) => {
      await tx.query("select 1");
      await tx.query("select 2");
    });
    expect(s.sent).toEqual([
      { query: "BEGIN", handle: null },
      { query: "select 1", handle: "h1" },
      { query: "select 2", handle: "h2" },
      { query: "COMMIT", handle: "h3" },
    ]);
  });

  it("rolls back with the aborted transaction's handle after an error, and reports the SQLSTATE", async () => {
    const s = server((q) => (q.query === "bad" ? { status: 400, body: { code: "23505", message: "duplicate key" } } : {}));
    const db = warrenHttp({ url: "http://x/sql", connectionString: "c", fetch: s.fetch });
    const err = await db.transaction(async (tx) => void (await tx.query("bad"))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WarrenHttpError);
    expect((err as WarrenHttpError).code).toBe("23505");
    expect(s.sent.at(-1)).toEqual({ query: "ROLLBACK", handle: "h2" });
  });

  it("runs the function again after 40001 at COMMIT, from a new BEGIN", async () => {
    let commits = 0;
    const s = server((q) => (q.query === "COMMIT" && ++commits === 1 ? { status: 400, body: { code: "40001", message: "conflict" }, handle: null } : {}));
    const db = warrenHttp({ url: "http://x/sql", connectionString: "c", fetch: s.fetch });
    let runs = 0;
    await db.transaction(async (tx) => {
      runs++;
      await tx.query("update");
    });
    expect(runs).toBe(2);
    // The failed COMMIT ended the first transaction: no ROLLBACK is sent for it.
    expect(s.sent.map((q) => q.query)).toEqual(["BEGIN", "update", "COMMIT", "BEGIN", "update", "COMMIT"]);
  });

  it("gives up after attemptsMax and refuses statements on an ended transaction", async () => {
    const s = server((q) => (q.query === "COMMIT" ? { status: 400, body: { code: "40001", message: "conflict" }, handle: null } : {}));
    const db = warrenHttp({ url: "http://x/sql", connectionString: "c", fetch: s.fetch });
    await expect(db.transaction(async () => {}, { attemptsMax: 3 })).rejects.toMatchObject({ code: "40001" });
    expect(s.sent.filter((q) => q.query === "BEGIN")).toHaveLength(3);
    const tx = await warrenHttp({ url: "http://x/sql", connectionString: "c", fetch: server().fetch }).begin();
    await tx.commit();
    expect(tx.handle).toBeNull();
    await expect(tx.query("select 1")).rejects.toMatchObject({ code: "25P01" });
  });
});
