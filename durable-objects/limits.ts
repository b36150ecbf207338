// Bounds of the control plane's Durable Objects, each with the reason for its value.

export const limits = {
  /**
   * How long an edge isolate may trust a routing decision (and the credential it verified) before
   * asking the TenantRouter again. This is how long a suspend, drop or password change can take to
   * reach every edge isolate; 30 s keeps the router far below its ~1,000 requests/s while that
   * window stays short for an operator.
   */
  routeTtlMs: 30_000,
  /**
   * Wrong passwords in a row an address may send before its backoff starts: a person's typos (and
   * a client retrying with a second stored password) never wait.
   */
  loginFailuresFree: 3,
  /**
   * The failed-login backoff of one client address (login-throttle.ts): 1 s after the first wrong
   * password past the free ones, doubling with each one after it. Ten wrong guesses in a row cost a
   * guesser two minutes of waiting, twenty the 15-minute cap on every further guess.
   */
  loginBackoffFirstMs: 1_000,
  /** Longest backoff: 15 minutes, after which an address may try again even after many failures. */
  loginBackoffMaxMs: 15 * 60_000,
  /** How long a successful login exempts its address from the throttle: a day of a client's work. */
  loginSuccessMemoryMs: 24 * 3_600_000,
  /** Client addresses one router tracks per kind (failures, successes): ~100 bytes each. */
  loginAddressesTrackedMax: 10_000,
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
  /**
   * A gateway not heard from for this long (3 grant periods) stops taking a share of its tenant's
   * refill rate: it has gone idle or away, and a live one asks at least once a period.
   */
  quotaInstanceTtlSeconds: 30,
  /**
   * Gateways one QuotaBucket tracks for fair sharing. One tenant rarely runs on more than a few
   * dozen edge locations at once; 256 bounds the stored state (~100 bytes each).
   */
  quotaInstancesMax: 256,
  /** A gateway whose demand is known is offered this multiple of it, so its share can grow. */
  quotaDemandHeadroom: 1.5,
  /** While a bucket pays back debt it still hands out at least this fraction of its rate (CockroachDB: 5 %). */
  quotaDebtRateFloor: 0.05,
  /**
   * How long a refusal (spend limit with "refuse", a spent hard limit) is cached by a gateway before
   * it asks again: 2 s lets a raised limit take effect quickly while a refused tenant's clients
   * cost its QuotaBucket at most one call per gateway per 2 s.
   */
  quotaRefusalValidMs: 2_000,
  /**
   * Hours of usage history a QuotaBucket keeps: 93 days (2,232 hours), the current month and the
   * two before it, enough to bill a closed month and answer questions about it. One hour is one
   * stored record of ~400 bytes, so at most ~0.9 MB per tenant.
   */
  usageHistoryHoursMax: 24 * 93,
  /**
   * How often an active tenant's stored bytes are sampled from the storage node for its usage
   * history: every 10 minutes, six small stats calls an hour per active tenant.
   */
  storageSampleIntervalMs: 10 * 60_000,
  /** Old hours deleted in one pass when a new hour starts: bounds the work of one request. */
  usageHistoryPruneBatch: 128,
  /** Highest RU refill rate a tenant may be given: 1,000,000 RU/s, fifty storage nodes' worth (20,000 RU/s each). */
  tenantRuPerSecondMax: 1_000_000,
  /** Largest burst: 10^12 RU, a day of the highest rate with room to spare; beyond it is a typo. */
  tenantBurstRuMax: 1e12,
  /** Largest monthly spend limit: 10^15 RU, far past any real bill, still exact as a double. */
  tenantSpendLimitRuMax: 1e15,
  /** Highest per-tenant connection cap: 10,000, above any pooler's per-database default by far. */
  tenantConnectionsMax: 10_000,
  /** CIDR blocks in a tenant's allowed networks: a firewall-sized list, checked on each connection. */
  tenantAllowedCidrsMax: 64,
  /** Web origins in a tenant's allowedOrigins: the sites of one application, checked on each browser request. */
  tenantAllowedOriginsMax: 32,
  /**
   * A drop that could not reach the storage node is repeated by the directory's alarm after this
   * long, doubling each time up to dropRetryMaxMs: quick after a blip, cheap while the node is down.
   */
  dropRetryFirstMs: 2_000,
  dropRetryMaxMs: 5 * 60_000,
  /** Deny-list entries (addresses and tenants): checked on each new connection, so a firewall-sized list. */
  denyListEntriesMax: 1_000,
  /** Storage admin calls (drop-tenant, stats) give up after this long; the operator retries the drop. */
  storageAdminTimeoutMs: 10_000,
} as const;
