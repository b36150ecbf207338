// Memory accounting for one statement. Operators that hold rows (sort, hash join, aggregation,
// DISTINCT, materialised CTEs and subquery results) reserve an estimate of the bytes they keep;
// past the budget the statement fails with 53200 (out_of_memory) instead of the isolate dying.
import { PgError } from "../../../../common/errors.ts";
import type { Datum } from "../types/datum.ts";

export class MemoryAccount {
  readonly budgetBytes: number;
  usedBytes = 0;
  peakBytes = 0;

  constructor(budgetBytes: number) {
    this.budgetBytes = budgetBytes;
  }

  reserve(bytes: number, what: string): void {
    this.usedBytes += bytes;
    if (this.usedBytes > this.peakBytes) this.peakBytes = this.usedBytes;
    if (this.usedBytes > this.budgetBytes) {
      throw new PgError("out_of_memory", `${what} needs more than the ${Math.round(this.budgetBytes / (1024 * 1024))} MiB of working memory a statement may use`, {
        hint: "add a WHERE clause or LIMIT, or aggregate instead of returning every row",
      });
    }
  }

  release(bytes: number): void {
    this.usedBytes = Math.max(0, this.usedBytes - bytes);
  }
}

/** A rough size of one value as JavaScript holds it, for accounting (not exact, but proportional). */
export function datumBytes(d: Datum): number {
  if (typeof d === "string") return 2 * d.length + 16;
  if (d instanceof Uint8Array) return d.length + 32;
  if (typeof d === "bigint") return 16;
  if (Array.isArray(d)) {
    let n = 16 + d.length * 8;
    for (const e of d as readonly Datum[]) n += datumBytes(e);
    return n;
  }
  if (d !== null && typeof d === "object") return 64;
  return 0;
}

/** A rough size of a row as JavaScript holds it, for accounting (not exact, but proportional). */
export function rowBytes(row: readonly Datum[]): number {
  let n = 16 + row.length * 8;
  for (const d of row) {
    if (typeof d === "string") n += 2 * d.length + 16;
    else if (d instanceof Uint8Array) n += d.length + 32;
    else if (typeof d === "bigint") n += 16;
    else if (d !== null && typeof d === "object") n += Array.isArray(d) ? datumBytes(d) : 64;
  }
  return n;
}
