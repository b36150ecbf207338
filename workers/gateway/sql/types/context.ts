// What evaluating a value may depend on beyond its inputs: the session's time zone, the
// transaction and statement start times (now(), current_timestamp), the wall clock
// (clock_timestamp()) and randomness (random(), gen_random_uuid()). The engine builds one per
// statement; tests build deterministic ones with `evalContext({...})`.

import type { RegCatalog } from "./reg-text.ts";
import { UTC, type TimeZone } from "./timezone.ts";

export interface EvalContext {
  /** The session's TimeZone setting: timestamptz input/output and date ↔ timestamptz casts. */
  readonly timeZone: TimeZone;
  /** Microseconds since the epoch at transaction start: now(), current_timestamp, 'now'. */
  readonly transactionTimestamp: bigint;
  /** Microseconds since the epoch at statement start: statement_timestamp(). */
  readonly statementTimestamp: bigint;
  /** The current instant, read each call: clock_timestamp(). */
  clockTimestamp(): bigint;
  /** Uniform in [0, 1): random(). */
  random(): number;
  /** Fills `bytes` with cryptographically strong random bytes: gen_random_uuid(). */
  randomBytes(bytes: Uint8Array): void;
  /** Names of catalog objects for regclass, regnamespace, … text I/O (absent: numbers only). */
  readonly regCatalog?: RegCatalog;
}

let lastMicros = 0n;

/**
 * The current instant in microseconds since the epoch, at Postgres's precision: Date.now()'s
 * milliseconds plus the sub-millisecond part of the monotonic clock (performance.now()), made
 * strictly increasing within the isolate so two readings never tie (transaction starts and
 * clock_timestamp() calls are ordered as they happened). Accurate to the millisecond; inside
 * workerd, whose clocks have millisecond resolution, the microsecond digits come from that
 * increase alone.
 */
export function wallClockMicros(): bigint {
  const frac = typeof performance !== "undefined" ? performance.now() % 1 : 0;
  let t = BigInt(Date.now()) * 1000n + BigInt(Math.floor(frac * 1000));
  if (t <= lastMicros) t = lastMicros + 1n;
  lastMicros = t;
  return t;
}

/** A context with defaults: UTC, the current time, crypto-quality randomness. */
export function evalContext(overrides: Partial<EvalContext> = {}): EvalContext {
  const now = overrides.transactionTimestamp ?? wallClockMicros();
  return {
    timeZone: overrides.timeZone ?? UTC,
    transactionTimestamp: now,
    statementTimestamp: overrides.statementTimestamp ?? now,
    clockTimestamp: overrides.clockTimestamp ?? wallClockMicros,
    random: overrides.random ?? Math.random,
    randomBytes: overrides.randomBytes ?? ((bytes: Uint8Array) => void crypto.getRandomValues(bytes as Uint8Array<ArrayBuffer>)),
    ...(overrides.regCatalog !== undefined ? { regCatalog: overrides.regCatalog } : {}),
  };
}
