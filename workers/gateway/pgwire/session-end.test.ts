// The end of a connection ends its SQL session: after Terminate, a FATAL protocol error or the
// client going away, the session's temporary tables and their memory are gone, and Terminate
// straight after the startup closes quietly (no ErrorResponse), as in Postgres.
import { describe, expect, it } from "vitest";
import { localRangesBytes } from "../kv/local-range.ts";
import { MemoryKv, memoryCapability } from "../kv/memory-kv.ts";
import { createSession } from "../sql/session.ts";
import { PgConnection } from "./connection.ts";
import type { SqlSession } from "../sql/result.ts";
import { recordingSession } from "../sql/testing/recording-session.ts";
import { fe, message, parseBackend, summary } from "./wire-test-client.ts";

let nextTenantId = 9_300;

async function connect(): Promise<{ conn: PgConnection; send: (...c: Uint8Array[]) => Promise<string[]>; closed: () => string | null; closes: () => number }> {
  const base = createSession({ kv: memoryCapability(new MemoryKv()), tenantId: nextTenantId++, settings: { user: "app" } });
  let closes = 0;
  const session: SqlSession = recordingSession(base, {
    close: () => {
      closes++;
      base.close();
    },
  });
  let received: Uint8Array[] = [];
  let closed: string | null = null;
  const conn = new PgConnection({ session, user: "app", io: { send: (b) => received.push(b), close: (_c, reason) => (closed = reason) } });
  const send = async (...chunks: Uint8Array[]): Promise<string[]> => {
    for (const c of chunks) await conn.receive(c);
    const out = summary(received.flatMap((b) => parseBackend(b)));
    received = [];
    return out;
  };
  await conn.start();
  received = [];
  return { conn, send, closed: () => closed, closes: () => closes };
}

describe("the end of a connection ends its session", () => {
  it("Terminate: temporary tables and their memory go", async () => {
    const before = localRangesBytes();
    const c = await connect();
    await c.send(fe.Query("create temp table scratch (id int primary key, v text); insert into scratch select g, repeat('x', 50) from generate_series(1, 100) g"));
    expect(localRangesBytes()).toBeGreaterThan(before);
    expect(await c.send(fe.Terminate())).toEqual([]);
    expect(c.closed()).toBe("terminate");
    expect(c.closes()).toBe(1);
    expect(localRangesBytes()).toBe(before);
  });

  it("a FATAL protocol error and the client going away end it too", async () => {
    const before = localRangesBytes();
    const a = await connect();
    await a.send(fe.Query("create temp table scratch (id int); insert into scratch values (1)"));
    expect(await a.send(message("?", [0]))).toEqual(["E 08P01"]);
    expect(a.closes()).toBe(1);
    const b = await connect();
    await b.send(fe.Query("create temp table scratch (id int); insert into scratch values (1)"));
    await b.conn.end();
    expect(b.closes()).toBe(1);
    expect(localRangesBytes()).toBe(before);
  });

  it("Terminate straight after the startup closes quietly", async () => {
    const c = await connect();
    expect(await c.send(fe.Terminate())).toEqual([]);
    expect(c.closed()).toBe("terminate");
  });
});
