import { describe, expect, it } from "vitest";
import { limits } from "./limits.ts";
import { compressState, stateFromHeader, stateHeaderOf } from "./txn-state-codec.ts";

describe("transaction state codec", () => {
  it("round-trips and compresses repetitive state", async () => {
    const json = JSON.stringify({ writes: Array.from({ length: 200 }, (_, i) => [`dAAAAAAAAAcBiQ${i}`, "AQID"]) });
    const c = await compressState(json);
    expect(c.byteLength).toBeLessThan(json.length / 3);
    expect(await stateFromHeader(stateHeaderOf(c))).toBe(json);
  });

  it("refuses state over the inflated bound in both directions (54000), whatever the compressed size", async () => {
    const big = "x".repeat(limits.txnStateJsonBytesMax + 1);
    await expect(compressState(big)).rejects.toMatchObject({ code: "54000" });
    // A small compressed header that inflates past the bound (a "zip bomb").
    const stream = new Blob([new TextEncoder().encode(big)]).stream().pipeThrough(new CompressionStream("deflate-raw"));
    const bomb = new Uint8Array(await new Response(stream).arrayBuffer());
    expect(bomb.byteLength).toBeLessThan(limits.txnStateBytesMax);
    await expect(stateFromHeader(stateHeaderOf(bomb))).rejects.toMatchObject({ code: "54000" });
    await expect(stateFromHeader("%%%")).rejects.toMatchObject({ code: "XX000" });
  });
});
