import { describe, expect, it } from "vitest";
import { encodeRequest } from "../../common/kv-protocol/codec.ts";
import { limits } from "./limits.ts";
import { afterFailedAttempt, givingUpCode, retryDelayMs, retrySafe } from "./storage-retry.ts";

const key = new Uint8Array([0x81, 1, 2]);

describe("retrySafe", () => {
  it("repeats begin, read, commit (idempotent on its txnId) and abort", () => {
    expect(retrySafe(encodeRequest({ type: "begin" }))).toBe(true);
    expect(retrySafe(encodeRequest({ type: "read", readTs: null, ops: [{ op: "get", key }] }))).toBe(true);
    expect(retrySafe(encodeRequest({ type: "commit", txnId: new Uint8Array(16), readTs: 5n, readSpans: [], writes: [{ op: "put", key, value: key }] }))).toBe(true);
    expect(retrySafe(encodeRequest({ type: "abort", txnId: new Uint8Array(16), readTs: 5n }))).toBe(true);
  });

  it("repeats a batch only when it writes nothing", () => {
    expect(retrySafe(encodeRequest({ type: "batch", reads: [{ op: "get", key }], writes: [] }))).toBe(true);
    expect(retrySafe(encodeRequest({ type: "batch", reads: [], writes: [{ op: "put", key, value: key }] }))).toBe(false);
  });

  it("never repeats what it cannot read", () => {
    expect(retrySafe(new Uint8Array([]))).toBe(false);
    expect(retrySafe(new Uint8Array([0x57, 1, 99]))).toBe(false);
    expect(retrySafe(new Uint8Array([0x57, 1, 5, 0xff]))).toBe(false);
  });
});

describe("afterFailedAttempt (refused, broken, left on a replaced leaseholder, or timed out)", () => {
  const txnId = new Uint8Array(16);
  it("re-sends what retrySafe repeats", () => {
    expect(afterFailedAttempt(encodeRequest({ type: "begin" }))).toBe("resend");
    // A lock holder's heartbeat only keeps it alive: resent, and given up on as 57P01, never 40001
    // (which would end its session: its advisory locks would count as lost).
    expect(afterFailedAttempt(encodeRequest({ type: "heartbeat", txnId, locksOnly: true }))).toBe("resend");
    expect(givingUpCode(encodeRequest({ type: "heartbeat", txnId, locksOnly: true }))).toBe("unavailable");
    expect(afterFailedAttempt(encodeRequest({ type: "commit", txnId, readTs: 5n, readSpans: [], writes: [{ op: "put", key, value: key }] }))).toBe("resend");
  });

  it("answers an open transaction's requests with transaction_aborted (40001): the gateway aborts that transaction, so it cannot commit", () => {
    expect(afterFailedAttempt(encodeRequest({ type: "txnRead", txnId, readTs: 5n, ops: [{ op: "get", key }], locks: new Uint8Array([0]) }))).toBe("transaction_aborted");
    expect(afterFailedAttempt(encodeRequest({ type: "txnWrite", txnId, readTs: 5n, writes: [{ op: "put", key, value: key }] }))).toBe("transaction_aborted");
    expect(afterFailedAttempt(encodeRequest({ type: "refresh", txnId, readTs: 5n, spans: [] }))).toBe("transaction_aborted");
    expect(afterFailedAttempt(encodeRequest({ type: "heartbeat", txnId }))).toBe("transaction_aborted");
  });

  it("leaves a single-shot write batch and unreadable frames unknown (08006)", () => {
    expect(afterFailedAttempt(encodeRequest({ type: "batch", reads: [], writes: [{ op: "put", key, value: key }] }))).toBe("outcome_unknown");
    expect(afterFailedAttempt(new Uint8Array([0x00, 1, 6, 0]))).toBe("outcome_unknown");
  });
});

describe("givingUpCode (the edge stops trying)", () => {
  const txnId = new Uint8Array(16);
  it("57P01 for requests that applied nothing durable, 08006 for a commit and for what is never repeated", () => {
    expect(givingUpCode(encodeRequest({ type: "begin" }))).toBe("unavailable");
    expect(givingUpCode(encodeRequest({ type: "read", readTs: null, ops: [{ op: "get", key }] }))).toBe("unavailable");
    expect(givingUpCode(encodeRequest({ type: "abort", txnId, readTs: 5n }))).toBe("unavailable");
    expect(givingUpCode(encodeRequest({ type: "commit", txnId, readTs: 5n, readSpans: [], writes: [] }))).toBe("outcome_unknown");
    expect(givingUpCode(encodeRequest({ type: "txnWrite", txnId, readTs: 5n, writes: [{ op: "put", key, value: key }] }))).toBe("outcome_unknown");
  });
});

describe("retryDelayMs", () => {
  it("doubles from the minimum and stops at the maximum, and the attempts fit the wait", () => {
    expect(retryDelayMs(0)).toBe(limits.storageRetryDelayMsMin);
    expect(retryDelayMs(1)).toBe(2 * limits.storageRetryDelayMsMin);
    expect(retryDelayMs(100)).toBe(limits.storageRetryDelayMsMax);
    // At least a handful of attempts happen inside the wait, so a node back after ~1 s is found.
    let total = 0;
    let n = 0;
    while (total + retryDelayMs(n) <= limits.storageUnavailableWaitMs) total += retryDelayMs(n++);
    expect(n).toBeGreaterThanOrEqual(10);
  });
});
