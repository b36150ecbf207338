// The clock behind now(), current_timestamp and clock_timestamp(): microseconds, as Postgres.
import { describe, expect, it } from "vitest";
import { wallClockMicros } from "./context.ts";

describe("wallClockMicros", () => {
  it("reads the wall clock to the microsecond, strictly increasing", () => {
    const readings: bigint[] = [];
    for (let i = 0; i < 2000; i++) readings.push(wallClockMicros());
    for (let i = 1; i < readings.length; i++) expect(readings[i]! > readings[i - 1]!).toBe(true);
    // Not whole milliseconds (what Date.now() * 1000 gave): Postgres prints six digits.
    expect(readings.filter((t) => t % 1000n !== 0n).length).toBeGreaterThan(1000);
    const ms = BigInt(Date.now()) * 1000n;
    expect(readings[0]! <= ms + 1000n && readings[0]! > ms - 1_000_000n).toBe(true);
  });
});
