// Bounds of the control plane's Durable Objects, each with the reason for its value.

export const limits = {
  /**
   * How long an edge isolate may trust a routing decision (and the credential it verified) before
   * asking the TenantRouter again. This is how long a suspend, drop or password change can take to
   * reach every edge isolate; 30 s keeps the router far below its ~1,000 requests/s while that
   * window stays short for an operator.
   */
  routeTtlMs: 30_000,
  /** Failed password checks tolerated per tenant within the window before logins are refused. */
  loginFailuresMax: 10,
  /** The failed-login window. Refusals last until the oldest failure leaves it. */
  loginFailureWindowMs: 60_000,
  /**
   * Longest password accepted. Postgres has no fixed bound; 1 KiB is far beyond any generated or
   * typed password and keeps PBKDF2 input and request bodies small.
   */
  passwordBytesMax: 1024,
  /** Shortest password an operator may set: 8 characters, the usual floor for a typed secret. */
  passwordCharsMin: 8,
  /** Bytes of entropy in a generated password (32 bytes → 43 base64url characters). */
  generatedPasswordBytes: 32,
  /** Tenants one TenantDirectory lists in one response; the directory is one object, its listing must stay bounded. */
  tenantsListedMax: 10_000,
  /**
   * Quota grants: the QuotaBucket hands out about this many seconds of expected use per request,
   * so a busy gateway asks a few times a minute, not once per query (the CockroachDB pattern).
   */
  quotaGrantTargetSeconds: 10,
  /** Largest single grant, so one gateway cannot drain a tenant's whole burst in one call. */
  quotaGrantRuMax: 100_000,
  /** Storage admin calls (drop-tenant) give up after this long; the operator retries the drop. */
  storageAdminTimeoutMs: 10_000,
} as const;
