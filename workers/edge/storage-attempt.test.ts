import { describe, expect, it } from "vitest";
import type { StorageRoute } from "./shard-routes.ts";
import { attemptOnce } from "./storage-attempt.ts";

const newLeader: StorageRoute = { url: "http://n2/v1/kv", shardId: 0, epoch: 2, node: "n2" };
/** A send that never answers until its signal aborts (a stopped leaseholder); records the abort. */
function hangingSend() {
  const s = { aborted: false, send: (signal: AbortSignal) => new Promise<never>((_, reject) => signal.addEventListener("abort", () => ((s.aborted = true), reject(signal.reason)))) };
  return s;
}

describe("attemptOnce (one bounded attempt at a storage node)", () => {
  it("returns the node's answer", async () => {
    const out = await attemptOnce({ send: async () => ({ status: 200, body: new Uint8Array([0x57]) }), movedFrom: async () => undefined, checkEveryMs: 10_000, attemptMsMax: 10_000 });
    expect(out).toEqual({ kind: "answered", status: 200, body: new Uint8Array([0x57]) });
  });

  it("reports a failed connection as unreachable", async () => {
    const out = await attemptOnce({ send: async () => Promise.reject(new Error("ECONNREFUSED")), movedFrom: async () => undefined, checkEveryMs: 10_000, attemptMsMax: 10_000 });
    expect(out.kind).toBe("unreachable");
  });

  it("leaves a silent leaseholder once the directory names another, and aborts the request", async () => {
    const s = hangingSend();
    let checks = 0;
    const out = await attemptOnce({ send: s.send, movedFrom: async () => (++checks >= 3 ? newLeader : undefined), checkEveryMs: 5, attemptMsMax: 60_000 });
    expect(out).toMatchObject({ kind: "moved", to: newLeader });
    expect(checks).toBe(3);
    expect(s.aborted).toBe(true);
  });

  it("keeps waiting when the directory cannot be read, and gives up at attemptMsMax", async () => {
    const s = hangingSend();
    let checks = 0;
    const out = await attemptOnce({
      send: s.send,
      movedFrom: async () => {
        checks++;
        throw new Error("directory unreachable");
      },
      checkEveryMs: 5,
      attemptMsMax: 100,
    });
    expect(out.kind).toBe("timedOut");
    expect(checks).toBeGreaterThan(0);
    expect(s.aborted).toBe(true);
  });

  it("does not ask the directory for a request that answers before checkEveryMs", async () => {
    let checks = 0;
    await attemptOnce({ send: async () => ({ status: 200, body: new Uint8Array() }), movedFrom: async () => (checks++, undefined), checkEveryMs: 1_000, attemptMsMax: 10_000 });
    await new Promise((r) => setTimeout(r, 20));
    expect(checks).toBe(0);
  });
});
