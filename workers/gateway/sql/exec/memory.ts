// Memory accounting for one statement. Operators that hold rows (sort, hash join, aggregation,
// DISTINCT, materialised CTEs and subquery results) reserve an estimate of the bytes they keep;
// past the budget the statement fails with 53200 (out_of_memory) instead of the isolate dying.
import { PgError } from "../../../../common/errors.ts";

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

// Value and row sizes live with the types (functions/ measure aggregate state with them too).
export { datumBytes, rowBytes } from "../types/datum-size.ts";
