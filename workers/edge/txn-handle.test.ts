import { describe, expect, it } from "vitest";
import { PgError } from "../../common/errors.ts";
import { TxnHandleSealer, txnHandleCharsMax } from "./txn-handle.ts";

const SECRET = "a-test-secret-of-at-least-32-characters-0123";
const state = new TextEncoder().encode('{"txn":{"writes":[]}}');

async function refused(p: Promise<unknown>): Promise<PgError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PgError);
  return err as PgError;
}

describe("sealed transaction handles", () => {
  it("round-trips the state for its tenant, and never shows it in the clear", async () => {
    const s = await TxnHandleSealer.fromSecret(SECRET);
    const h = await s.seal(7, 2_000, state);
    expect(h).toMatch(/^wtx1\.7\.[A-Za-z0-9_-]+$/);
    expect(h).not.toContain("txn");
    const opened = await s.open(h, 7, 1_999);
    expect(opened.expiresAtMs).toBe(2_000);
    expect(opened.state).toEqual(state);
    // Two seals of the same state differ (random nonce).
    expect(await s.seal(7, 2_000, state)).not.toBe(h);
  });

  it("refuses every altered byte, another key, another tenant, expiry and garbage", async () => {
    const s = await TxnHandleSealer.fromSecret(SECRET);
    const h = await s.seal(7, 2_000, state);
    const body = h.slice("wtx1.7.".length);
    for (let i = 0; i < body.length; i++) {
      const c = body[i] === "A" ? "B" : "A";
      const bad = `wtx1.7.${body.slice(0, i)}${c}${body.slice(i + 1)}`;
      // The last character may carry only padding bits of base64url: equal bytes, not a change.
      if (Buffer.from(bad.slice(7), "base64url").equals(Buffer.from(body, "base64url"))) continue;
      const e = await refused(s.open(bad, 7, 0));
      expect(e.code).toBe("25000");
    }
    const other = await TxnHandleSealer.fromSecret(SECRET + "x");
    expect((await refused(other.open(h, 7, 0))).message).toMatch(/altered, forged, or sealed with another key/);
    expect((await refused(s.open(h, 8, 0))).message).toMatch(/another virtual cluster/);
    expect((await refused(s.open(`wtx1.8.${body}`, 8, 0))).message).toMatch(/altered, forged/);
    const expired = await refused(s.open(h, 7, 2_000));
    expect(expired.code).toBe("25P03");
    expect((await refused(s.open("wtx1.7.AAAA", 7, 0))).message).toMatch(/malformed/);
    expect((await refused(s.open("BEGIN", 7, 0))).code).toBe("25000");
    expect((await refused(s.open(`wtx1.7.${"A".repeat(txnHandleCharsMax)}`, 7, 0))).code).toBe("54000");
  });
});
