// The /sql handler against a recording session: Neon's request/response shapes, batches as one
// transaction, errors with Postgres fields, and bad input that never reaches a session.
import { describe, expect, it } from "vitest";
import { PgError } from "../../../common/errors.ts";
import type { SqlSession, StatementResult } from "../sql/result.ts";
import { limits } from "./limits.ts";
import { handleSql } from "./sql-handler.ts";

const INT4 = { tableID: 0, columnID: 0, dataTypeID: 23, dataTypeSize: 4, dataTypeModifier: -1, format: "text" as const };
const TEXT = { tableID: 0, columnID: 0, dataTypeID: 25, dataTypeSize: -1, dataTypeModifier: -1, format: "text" as const };
const BOOL = { tableID: 0, columnID: 0, dataTypeID: 16, dataTypeSize: 1, dataTypeModifier: -1, format: "text" as const };
const JSONB = { tableID: 0, columnID: 0, dataTypeID: 3802, dataTypeSize: -1, dataTypeModifier: -1, format: "text" as const };
/**
 * The rest of the SqlSession contract for these fakes: the HTTP handler runs query strings through
 * execute() (the session parses and runs them) and ends each session with close(); anything else
 * it asked for would be a change of the handler this test should notice.
 */
function executeOnly(execute: SqlSession["execute"], cancel: SqlSession["cancel"], closed: { count: number } = { count: 0 }): SqlSession {
  const unused = (what: string) => () => {
    throw new Error(`the /sql handler called ${what}`);
  };
  return {
    execute,
    cancel,
    parse: unused("parse"),
    prepare: unused("prepare"),
    run: unused("run"),
    copyRows: unused("copyRows"),
    transactionStatus: () => "I",
    inTransaction: false,
    failTransactionBlock: () => {},
    newInSubtransaction: unused("newInSubtransaction"),
    close: () => {
      closed.count++;
    },
  };
}

const INT8 = { tableID: 0, columnID: 0, dataTypeID: 20, dataTypeSize: 8, dataTypeModifier: -1, format: "text" as const };

/** Records what it was asked to run; answers SELECT with fixed rows, fails on "boom". */
function recorder(): { session: SqlSession; log: Array<[string, Array<string | null> | undefined]>; sessions: number } {
  const state = { log: [] as Array<[string, Array<string | null> | undefined]>, sessions: 0, session: null as unknown as SqlSession };
  state.session = executeOnly(
    async (sql, params): Promise<StatementResult[]> => {
      state.log.push([sql, params]);
      if (sql.includes("boom")) {
        throw new PgError("undefined_table", 'relation "boom" does not exist', { position: 15, hint: "check the name" });
      }
      if (sql.startsWith("select")) {
        return [
          {
            command: "SELECT",
            rowCount: 2,
            fields: [
              { ...INT4, name: "n" },
              { ...TEXT, name: "t" },
              { ...BOOL, name: "b" },
              { ...JSONB, name: "j" },
              { ...INT8, name: "big" },
            ],
            rows: [
              ["1", "one", "t", '{"a":1}', "9007199254740993"],
              ["2", null, "f", "[1,2]", "-1"],
            ],
          },
        ];
      }
      const verb = sql.split(" ")[0]!.toUpperCase();
      return [{ command: verb, rowCount: verb === "INSERT" ? 1 : null, fields: [], rows: [] }];
    },
    () => false,
  );
  return state;
}

function post(body: string | object, headers: Record<string, string> = {}): Request {
  return new Request("http://gateway/sql", {
    method: "POST",
    headers: { "Neon-Raw-Text-Output": "true", "Neon-Array-Mode": "true", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function run(req: Request) {
  const rec = recorder();
  const res = await handleSql(req, () => {
    rec.sessions++;
    return rec.session;
  });
  return { res, json: (await res.json()) as Record<string, unknown>, rec };
}

describe("POST /sql single query", () => {
  it("returns Neon's result shape in array mode with raw text", async () => {
    const { res, json, rec } = await run(post({ query: "select $1, $2", params: ["7", null] }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(rec.log).toEqual([["select $1, $2", ["7", null]]]);
    expect(json).toEqual({
      command: "SELECT",
      rowCount: 2,
      rows: [
        ["1", "one", "t", '{"a":1}', "9007199254740993"],
        ["2", null, "f", "[1,2]", "-1"],
      ],
      fields: [
        { ...INT4, name: "n" },
        { ...TEXT, name: "t" },
        { ...BOOL, name: "b" },
        { ...JSONB, name: "j" },
        { ...INT8, name: "big" },
      ],
      rowAsArray: true,
    });
  });

  it("returns objects keyed by column, JSON-typed without raw text output", async () => {
    const { json } = await run(post({ query: "select 1" }, { "Neon-Raw-Text-Output": "false", "Neon-Array-Mode": "false" }));
    expect(json["rowAsArray"]).toBe(false);
    expect(json["rows"]).toEqual([
      { n: 1, t: "one", b: true, j: { a: 1 }, big: "9007199254740993" },
      { n: 2, t: null, b: false, j: [1, 2], big: "-1" },
    ]);
  });

  it("converts number and boolean parameters to Postgres text", async () => {
    const { rec } = await run(post({ query: "select $1, $2, $3", params: [42, true, 1.5] }));
    expect(rec.log[0]![1]).toEqual(["42", "t", "1.5"]);
  });

  it("returns Postgres errors as 400 with their fields", async () => {
    const { res, json } = await run(post({ query: "select * from boom", params: [] }));
    expect(res.status).toBe(400);
    expect(json).toEqual({ severity: "ERROR", code: "42P01", message: 'relation "boom" does not exist', position: 15, hint: "check the name" });
  });
});

describe("POST /sql batch", () => {
  it("runs the queries in one transaction and returns {results}", async () => {
    const { json, rec } = await run(
      post(
        { queries: [{ query: "insert into t values ($1)", params: ["1"] }, { query: "select 1", params: [] }] },
        { "Neon-Batch-Isolation-Level": "Serializable", "Neon-Batch-Read-Only": "false" },
      ),
    );
    expect(rec.log.map(([s]) => s)).toEqual(["BEGIN ISOLATION LEVEL SERIALIZABLE", "insert into t values ($1)", "select 1", "COMMIT"]);
    const results = json["results"] as Array<Record<string, unknown>>;
    expect(results).toHaveLength(2);
    expect(results[0]).toMatchObject({ command: "INSERT", rowCount: 1, rows: [], fields: [] });
    expect(results[1]).toMatchObject({ command: "SELECT", rowCount: 2 });
  });

  it("rolls back and reports the error when a query fails", async () => {
    const { res, json, rec } = await run(post({ queries: [{ query: "insert into t values (1)" }, { query: "select * from boom" }, { query: "select 2" }] }));
    expect(res.status).toBe(400);
    expect(json["code"]).toBe("42P01");
    expect(rec.log.map(([s]) => s)).toEqual(["BEGIN", "insert into t values (1)", "select * from boom", "ROLLBACK"]);
  });

  it("passes READ ONLY and DEFERRABLE through", async () => {
    const { rec } = await run(post({ queries: [] }, { "Neon-Batch-Read-Only": "true", "Neon-Batch-Deferrable": "true" }));
    expect(rec.log.map(([s]) => s)).toEqual(["BEGIN READ ONLY DEFERRABLE", "COMMIT"]);
  });
});

describe("POST /sql bad input runs nothing", () => {
  it.each([
    ["bad JSON", "{", "08P01"],
    ["not an object", "[1]", "08P01"],
    ["query not a string", { query: 5 }, "08P01"],
    ["params not an array", { query: "select 1", params: "x" }, "08P01"],
    ["an object parameter", { query: "select $1", params: [{ a: 1 }] }, "22P02"],
    ["an array parameter", { query: "select $1", params: [[1]] }, "22P02"],
    ["an unknown field", { query: "select 1", extra: 1 }, "08P01"],
    ["queries not an array", { queries: {} }, "08P01"],
    ["a bad batch entry", { queries: [{ query: "select 1" }, 7] }, "08P01"],
    ["too many queries", { queries: Array.from({ length: limits.batchQueriesMax + 1 }, () => ({ query: "select 1" })) }, "54000"],
    ["too many parameters", { query: "select 1", params: Array.from({ length: limits.paramsMax + 1 }, () => null) }, "54000"],
    ["an oversized body", { query: "x".repeat(limits.sqlRequestBytesMax) }, "54000"],
    ["invalid UTF-8", new TextDecoder("latin1").decode(new Uint8Array([0x7b, 0xff, 0x7d])), "08P01"],
  ])("%s → %s", async (_label, body, code) => {
    const req = typeof body === "string" && body.includes("\u00ff")
      ? new Request("http://gateway/sql", { method: "POST", body: new Uint8Array([0x7b, 0xff, 0x7d]) })
      : post(body);
    const { res, json, rec } = await run(req);
    expect(res.status).toBe(400);
    expect(json["code"]).toBe(code);
    expect(typeof json["message"]).toBe("string");
    expect(rec.sessions).toBe(0);
  });

  it("refuses bad Neon headers", async () => {
    const { json, rec } = await run(post({ query: "select 1" }, { "Neon-Batch-Isolation-Level": "Chaos" }));
    expect(json["code"]).toBe("08P01");
    expect(rec.sessions).toBe(0);
    const { json: j2, rec: rec2 } = await run(post({ query: "select 1" }, { "Neon-Array-Mode": "yes" }));
    expect(j2["code"]).toBe("08P01");
    expect(rec2.sessions).toBe(0);
  });

  it("accepts a body exactly at the limit", async () => {
    const overhead = JSON.stringify({ query: "" }).length;
    const { json } = await run(post({ query: "x".repeat(limits.sqlRequestBytesMax - overhead) }));
    expect(json["command"]).toBe("X".repeat(limits.sqlRequestBytesMax - overhead));
  });

  it("refuses GET", async () => {
    const rec = recorder();
    const res = await handleSql(new Request("http://gateway/sql"), () => {
      rec.sessions++;
      return rec.session;
    });
    expect(res.status).toBe(405);
    expect(((await res.json()) as { code: string }).code).toBe("08P01");
    expect(rec.sessions).toBe(0);
  });
});

describe("POST /sql quota", () => {
  it("admits before running, charges the response's egress, and ends the admission after", async () => {
    const rec = recorder();
    const events: string[] = [];
    let charged = 0;
    const res = await handleSql(post({ query: "select 1" }), () => rec.session, {
      admit: async () => {
        events.push("admit");
        return () => void events.push(`ended after ${charged} bytes charged`);
      },
      chargeEgress: (bytes) => void (charged += bytes),
      countHttpRequest: () => void events.push("request"),
    });
    expect(res.status).toBe(200);
    expect(events).toEqual(["request", "admit", `ended after ${charged} bytes charged`]);
    const bytes = (await res.arrayBuffer()).byteLength;
    expect(charged).toBe(bytes);
  });

  it("runs nothing when the quota refuses (53400)", async () => {
    const rec = recorder();
    const res = await handleSql(post({ query: "select 1" }), () => rec.session, {
      admit: async () => {
        throw new PgError("configuration_limit_exceeded", "request unit quota exhausted for this virtual cluster");
      },
      chargeEgress: () => {},
      countHttpRequest: () => {},
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe("53400");
    expect(rec.log).toEqual([]);
  });
});

describe("POST /sql when the client goes away (request.signal)", () => {
  /** A session whose one statement runs until cancel(), which fails it with 57014 as the engine does. */
  function slowSession(): { session: SqlSession; log: string[] } {
    const log: string[] = [];
    let stop: ((e: PgError) => void) | null = null;
    const session: SqlSession = executeOnly(
      (sql) => {
        log.push(sql);
        if (sql !== "select slow") return Promise.resolve([{ command: sql.split(" ")[0]!.toUpperCase(), rowCount: null, fields: [], rows: [] }]);
        return new Promise((_resolve, reject) => (stop = reject));
      },
      () => {
        log.push("cancel");
        if (stop === null) return false;
        stop(new PgError("query_canceled", "canceling statement due to user request"));
        stop = null;
        return true;
      },
    );
    return { session, log };
  }

  it("cancels the running statement; a batch's transaction is rolled back", async () => {
    const { session, log } = slowSession();
    const client = new AbortController();
    const req = new Request(post({ queries: [{ query: "select slow", params: [] }] }), { signal: client.signal });
    const done = handleSql(req, () => session);
    await new Promise((r) => setTimeout(r, 20));
    client.abort();
    const res = await done;
    expect(((await res.json()) as { code: string }).code).toBe("57014");
    expect(log).toEqual(["BEGIN", "select slow", "cancel", "ROLLBACK"]);
  });

  it("runs nothing when the client is already gone", async () => {
    const { session, log } = slowSession();
    const client = new AbortController();
    client.abort();
    const res = await handleSql(new Request(post({ query: "select 1" }), { signal: client.signal }), () => session);
    expect(((await res.json()) as { code: string }).code).toBe("57014");
    expect(log).toEqual([]);
  });
});
