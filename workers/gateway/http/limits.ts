// Bounds of the gateway's HTTP API (POST /sql), each with the reason for its value.

import { TXN_STATE_BYTES_MAX } from "../edge-contract.ts";

export const limits = {
  /**
   * Largest request body. Statements come from application code; a megabyte is a very large
   * generated INSERT, and parsing a body this size costs a few milliseconds of a Worker's CPU.
   * Bigger loads belong in several requests (or COPY over the wire protocol).
   */
  sqlRequestBytesMax: 1024 * 1024,
  /** Queries in one batch (`{queries:[…]}`): one transaction; beyond this it should be several. */
  batchQueriesMax: 1000,
  /** Parameters of one query: Postgres's own bound (Bind carries the count as an Int16). */
  paramsMax: 65_535,
  /**
   * Largest response body. A Worker has 128 MB; results are held to be serialised as one JSON
   * document, so they are capped well below that (Neon's HTTP API caps responses at 10 MB too).
   */
  responseBytesMax: 10 * 1024 * 1024,
  /**
   * Largest state of an interactive HTTP transaction (interactive-txn.ts) after compression
   * (txn-state-codec.ts). It travels to the client sealed in the Warren-Transaction response header
   * (about 4/3 of this plus 60 bytes: 13.7 KiB) and comes back on every request of the
   * transaction. The tightest reader is Node's fetch (undici), which refuses a response whose
   * headers exceed 16 KiB in all; browsers and Cloudflare allow more. Until writes live on the
   * storage node as intents the state carries the buffered writes, so this bounds an HTTP
   * transaction to a few hundred small rows; beyond it the transaction is aborted with 54000 (use
   * the WebSocket for big ones).
   */
  txnStateBytesMax: TXN_STATE_BYTES_MAX,
  /**
   * The same state before compression: bounds the JSON the gateway builds and, above all, what it
   * inflates from a handle (a small compressed state could otherwise inflate without end).
   */
  txnStateJsonBytesMax: 1024 * 1024,
  /**
   * Cancels of /sql calls remembered because they arrived before their call started
   * (sql-entrypoint.ts: the edge's sql() and cancel() are separate RPC calls, not ordered). Such a
   * cancel trails its call by at most a few milliseconds, while an isolate runs at most a few
   * hundred calls at once (the edge's per-tenant queue, EDGE_SQL_REQUESTS_PER_TENANT); 1,024 ids
   * (~100 KB) keep every cancel that can still matter, and the oldest go first.
   */
  earlyCancelsMax: 1024,
} as const;
