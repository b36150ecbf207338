// Bounds of the gateway's HTTP API (POST /sql), each with the reason for its value.

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
} as const;
