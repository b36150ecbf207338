// Bounds of one transaction in the gateway. Writes are buffered in the isolate until commit, so the
// buffer must stay well inside 128 MB next to query execution's own budget.

export const txnLimits = {
  /** Keys written by one transaction (each row is one key per index). */
  writesMax: 200_000,
  /** Bytes of keys and values buffered by one transaction: 32 MiB of a 128 MiB isolate. */
  writeBytesMax: 32 * 1024 * 1024,
} as const;
