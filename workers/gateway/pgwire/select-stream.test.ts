// A SELECT of the simple query protocol streams its rows (connection.ts streamSelect): small
// results look exactly as gathered ones did, a large one goes out frame by frame as it is produced
// (with back-pressure from the transport), and none is bounded by a row count, so a runaway
// SELECT ends at its statement_timeout with 57014.
import { describe, expect, it } from "vitest";
import { pgwireLimits } from "./limits.ts";
import { openTestConnection } from "./test-connection.ts";
import { fe, summary } from "./wire-test-client.ts";

describe("simple-query SELECT streaming", () => {
  it("small and empty results: RowDescription, DataRows, the tag, as before", async () => {
    const h = await openTestConnection();
    expect(summary(await h.send(fe.Query("select g from generate_series(1, 2) g")))).toEqual(["T g", "D 1", "D 2", "C SELECT 2", "Z I"]);
    expect(summary(await h.send(fe.Query("select g from generate_series(1, 0) g")))).toEqual(["T g", "C SELECT 0", "Z I"]);
    expect(summary(await h.send(fe.Query("select 1 as a; select 2 as b")))).toEqual(["T a", "D 1", "C SELECT 1", "T b", "D 2", "C SELECT 1", "Z I"]);
  });

  it("a large result goes out before the statement ends, and waits while the transport is full", async () => {
    let buffered = Number.MAX_SAFE_INTEGER;
    const h = await openTestConnection({ io: { bufferedBytes: () => buffered } });
    const running = h.send(fe.Query("select g, repeat('y', 100) from generate_series(1, 20000) g"));
    await expect.poll(() => h.frames.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 100));
    // Held back by the transport: what was held (streamHoldBytes) went out, then nothing more.
    const sent = h.frames.length;
    expect(h.frames.reduce((n, f) => n + f.length, 0)).toBeGreaterThanOrEqual(pgwireLimits.streamHoldBytes);
    await new Promise((r) => setTimeout(r, 200));
    expect(h.frames.length).toBe(sent);
    buffered = 0;
    const out = await running;
    expect(summary(out).slice(-2)).toEqual(["C SELECT 20000", "Z I"]);
    expect(h.frames.length).toBeGreaterThan(2);
  });

  it("an unbounded SELECT runs into its statement_timeout (57014), not a row-count bound", async () => {
    const h = await openTestConnection();
    await h.send(fe.Query("set statement_timeout = 3000"));
    // Wide rows, so the result passes streamHoldBytes well before the timeout.
    const out = await h.send(fe.Query("select g, repeat('x', 200) from generate_series(1, 1e10) g"));
    const s = summary(out);
    expect(s[0]).toBe("T g,repeat");
    expect(s.filter((m) => m.startsWith("D ")).length).toBeGreaterThan(0);
    const e = out.find((m) => m.type === "E");
    expect(e?.type === "E" && [e.fields["C"], e.fields["M"]]).toEqual(["57014", "canceling statement due to statement timeout"]);
    expect(s.at(-1)).toBe("Z I");
  }, 30_000);
});
