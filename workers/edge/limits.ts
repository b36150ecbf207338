// Bounds of the edge Worker, each with the reason for its value.

export const limits = {
  /** Routing decisions cached per edge isolate; beyond it the oldest is forgotten. Each entry is ~200 bytes. */
  routeCacheEntriesMax: 10_000,
  /**
   * How long an edge isolate remembers that a tenant does not exist. Short, because a tenant created
   * through another isolate must become reachable quickly; non-zero, so a client hammering an
   * unknown name costs the router one call per isolate per interval, not one per attempt.
   */
  unknownTenantTtlMs: 2_000,
  /** Admin API request bodies are a name and a password: 4 KiB is plenty and bounds parsing. */
  adminBodyBytesMax: 4096,
  /**
   * Longest Neon-Connection-String header accepted. Real ones are ~150 bytes; 4 KiB leaves room for
   * query parameters and bounds what is parsed before authentication.
   */
  connectionStringBytesMax: 4096,
  /**
   * Gateway isolates one edge isolate creates with `LOADER.get(id)`. Local workerd never evicts
   * those (~7 MB each for the gateway bundle), so past this budget tenants are served by
   * `LOADER.load()` isolates that live for one request. Overridden by the GATEWAY_ISOLATES_MAX var;
   * 0 means no budget (production, where the platform evicts idle isolates itself).
   */
  gatewayIsolatesMaxDefault: 64,
  /**
   * Largest encoded KvRequest TenantKV forwards. The storage node applies its own (smaller or equal)
   * limits; this only stops a runaway gateway from pushing unbounded bytes through the edge.
   */
  kvRequestBytesMax: 16 * 1024 * 1024,
  /**
   * Batches one TenantKV channel (TenantKV.open()) forwards before it refuses and its holder must
   * open a new one. Every batch on a channel is a subrequest of the one invocation that opened it,
   * and Workers bound subrequests per invocation (1,000 on paid plans): half of that leaves room for
   * anything else the invocation does, and the cost of opening a channel (~1 ms) is spread over 500.
   */
  kvChannelBatchesMax: 500,
  /** Storage token lifetime: well under TOKEN_TTL_MS_MAX (15 min) so tokens rotate regularly. */
  storageTokenTtlMs: 10 * 60 * 1000,
  /** A cached storage token is replaced once it has less than this left, so no request carries a token about to expire. */
  storageTokenRefreshBeforeMs: 60 * 1000,
  /**
   * Largest StartupMessage accepted on the WebSocket path: Postgres's own bound
   * (MAX_STARTUP_PACKET_LENGTH, 10000 bytes).
   */
  startupMessageBytesMax: 10_000,
  /** A WebSocket client that sends no StartupMessage within this time is disconnected. */
  startupTimeoutMs: 10_000,

  // ---- fair shares between tenants (tenant-limits.ts; overridable by the EDGE_* vars for tests) ----

  /**
   * `/sql` requests of one tenant running at once in one edge isolate. A tenant's gateway runs its
   * JavaScript on one thread, so past a handful of requests concurrency adds latency, not
   * throughput: a typical request is well under a millisecond of CPU around one to three KV round
   * trips of ~1 ms, so about eight in flight keep the isolate busy while KV answers. Each may
   * hold up to a 10 MiB response (gateway http/limits.ts), so eight stay inside a 128 MB isolate.
   * Locally every isolate shares one thread: this bound is what keeps one tenant's flood from
   * queueing in front of another tenant's request.
   */
  sqlRequestsPerTenantMax: 8,
  /**
   * `/sql` requests of one tenant waiting (FIFO) for one of those slots. Four times the running
   * bound absorbs a burst (a page firing a few dozen queries at once) while bounding what a
   * flooder parks in the isolate; past it requests are refused at once with 53300.
   */
  sqlQueuePerTenantMax: 32,
  /**
   * Longest a `/sql` request waits in that queue before it is refused with 53300. A queued request
   * normally waits a few milliseconds; two seconds is a clear sign of overload, and short enough
   * that a client's retry with backoff sees the pressure instead of a hung request.
   */
  sqlQueueWaitMsMax: 2_000,
  /**
   * Postgres sessions (`/v2` WebSockets past authentication) of one tenant in one edge isolate.
   * PostgreSQL's default max_connections is 100, and drivers and pools are sized for it; each
   * session holds a gateway session (settings, prepared statements, an open transaction's write
   * buffer) in the tenant's one isolate, so the isolate's memory, not the edge, is the real limit.
   * The 101st session is refused with FATAL 53300.
   */
  pgSessionsPerTenantMax: 100,
  /**
   * `/v2` logins of one tenant in progress at once in one edge isolate: from its StartupMessage
   * (once the tenant is known) until its gateway session answers (AuthenticationOk … ReadyForQuery)
   * or the login fails. A login is the costliest thing a connection does (SCRAM or the password
   * check, a gateway WebSocket, a gateway session), and locally every tenant shares one thread: 500
   * simultaneous logins of one tenant put another tenant's new-connection p99 at 2.9 s and its
   * point-query p99 at 90× solo. A login is mostly waiting (storage, the gateway's answer: 500
   * logins used ~3 s of the edge's CPU over 37 s on a loaded machine), so the bound is about how
   * much of one tenant's login work is in the thread's queue at once, not CPU. With 4, a login took
   * ~1 s on that machine and most of a 500-login storm timed out (08P01) in line; at that pace 16
   * open a pool of 100 in about 6 s, inside the 10 s startup timeout (estimated, not measured),
   * while a storm still waits in its own line.
   */
  loginsPerTenantMax: 16,
  /**
   * Logins of one tenant waiting for one of those slots. Enough for a pool opening its connections
   * at once (drivers default to 10–100); past it a login is refused at once with FATAL 53300, which
   * costs the edge next to nothing.
   */
  loginQueuePerTenantMax: 128,
  /**
   * Longest a login waits for a slot before FATAL 53300; below startupTimeoutMs, so a queued login
   * gets that clear answer rather than the startup timeout.
   */
  loginQueueWaitMsMax: 5_000,
  /**
   * How long the edge waits for a gateway to acknowledge a forwarded CancelRequest before it closes
   * the cancel connection anyway. The gateway answers at once (a map lookup); this bounds a cancel
   * aimed at an isolate that is stuck in a statement that never yields.
   */
  cancelForwardTimeoutMs: 5_000,
  /**
   * CPU a gateway isolate may spend on one `/sql` (or `/cancel`) request, passed to the platform as
   * the entrypoint's `limits.cpuMs` (Worker Loader). 30 s is the platform's default per request:
   * a single HTTP query that computes for that long is a runaway, and the platform ends it. (The
   * engine's own budget and statement_timeout are meant to stop it long before; local workerd
   * enforces none of these CPU limits.)
   */
  gatewayRequestCpuMs: 30_000,
  /**
   * CPU a gateway isolate may spend on one Postgres connection (`/v2`: one invocation that serves
   * every statement of the session, possibly for hours), and the ceiling for any invocation (the
   * loaded WorkerCode's `limits.cpuMs`). 300,000 ms is the platform's maximum; a lower value could
   * end a healthy long-lived session that has simply done a lot of work, so per-statement bounds
   * are the engine's job, and this only stops a session that is out of control.
   */
  gatewaySessionCpuMs: 300_000,
  /**
   * Attempts to open a gateway session with a fresh BackendKeyData when the gateway already has a
   * session with that process id (probability ~ sessions / 2^31 per attempt): three make a
   * failure practically impossible without looping forever on a bug.
   */
  backendKeyAttemptsMax: 3,
} as const;
