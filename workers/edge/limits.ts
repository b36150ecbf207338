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
   * Tenants one edge isolate keeps pinned to a `LOADER.get(id)` isolate. Local workerd never evicts
   * those by itself (~7 MB each for the gateway bundle), so past this budget the least recently used
   * tenant without open sessions is unpinned (gateway-host.ts). Overridden by the GATEWAY_ISOLATES_MAX var;
   * 0 means no budget (production, where the platform evicts idle isolates itself).
   */
  gatewayIsolatesMaxDefault: 64,
  /**
   * Gateway isolates each edge isolate keeps started and bound to no tenant (gateway-host.ts), so a
   * tenant's first request (a new tenant, or one resumed from idle suspension) finds an isolate whose
   * modules are evaluated and whose parser WebAssembly is instantiated: measured 62-71 ms of CPU for
   * the 1 MiB bundle and 16 ms for the WebAssembly on a fresh isolate, off the request path. Two:
   * one for the next first request and one that is warming behind it (warm-ups run one at a time);
   * each costs an isolate's memory (~7-11 MB locally). Overridden by GATEWAY_WARM_POOL; 0 = none.
   */
  gatewayWarmPoolDefault: 2,
  /**
   * How long the edge must have been quiet (no request started or ended) before a warm-pool top-up
   * takes its next step (gateway-host.ts prewarm). A tenant's first query follows the create or the
   * resume that took an isolate from the pool by one client round trip, and its answer must then
   * still leave through the thread that, locally, every isolate shares. With 100 ms, a top-up that
   * started behind a new tenant's first query held that query's answer for ~1 s at load 16 (an
   * isolate start is 0.3-1.3 s there); 500 ms lets both pass first. The pool keeps its other
   * isolate meanwhile, so the next tenant does not wait for the top-up.
   */
  gatewayWarmQuietMs: 500,
  /** Longest a top-up step waits for quiet: under steady traffic the pool still refills within 2 s. */
  gatewayWarmWaitMsMax: 2_000,
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
  /**
   * Requests one storage KV stream (a TenantKV channel's persistent connection to the node,
   * storage-stream.ts) carries at once: equal to the node's streamInFlightMax (storage-node/limits.ts;
   * a test keeps the two equal), past which the node stops reading the connection. A Postgres session
   * has a few requests in flight; a request past the bound is sent over HTTP instead, so nothing
   * queues without bound and nothing fails for it.
   */
  kvStreamInFlightMax: 256,
  /**
   * Largest answer frame read from a KV stream: the node's responseBytesMax (16 MiB) plus room for
   * the usage trailer and the frame's own encoding. A larger frame means the two ends disagree, so
   * the stream is broken (its requests fail, the next batch opens a new one) instead of buffering it.
   */
  kvStreamFrameBytesMax: 16 * 1024 * 1024 + 64 * 1024,
  /**
   * Bytes of the node's answer to a KV stream upgrade: a 101 is about 90 bytes, a refusal carries a
   * KvResponse error of a few hundred. 16 KiB bounds what is read from something that is not the node.
   */
  kvStreamUpgradeBytesMax: 16 * 1024,
  /**
   * After a KV stream failed to open (node down, restarting, refusing), a channel sends over HTTP
   * (with its own retries, storageUnavailableWaitMs) for this long before trying a stream again:
   * short, since `warren dev` restarts a killed node within about a second, and long enough that a
   * node that is down is not asked for a connection per batch.
   */
  kvStreamReconnectDelayMs: 250,
  /**
   * Connecting to the node and its answer to the upgrade: on loopback or in a data centre well under
   * a millisecond, so 1 s only catches a node that accepts and never answers (stopped, cut off);
   * the batch then goes over HTTP, whose own bounds apply.
   */
  kvStreamOpenMsMax: 1_000,
  /**
   * Longest a request waits for a router call it shares with other requests of this isolate (the
   * route and credential caches let concurrent misses of one tenant share one call). A router
   * answers in milliseconds; the bound is for a call whose request ended before it settled (workerd
   * then cancels it, and it never answers): past it the waiter gets 08006 and the next request
   * calls again. The login bound (startupTimeoutMs, 10 s) is the same wait seen from the client.
   */
  sharedCallMsMax: 10_000,
  /**
   * Longest a batch waits for its answer on a KV stream: storageAttemptMsMax, the bound of the same
   * batch over HTTP, for the same reason (a live node ends its own waits within 30 s: lock waits,
   * rate limits). Past it the node is wedged with the connection open, so the stream breaks and the
   * batch is treated as any broken-stream request (storage-retry.ts: sent again if safe, 40001 in a
   * transaction, 08006 otherwise), never left waiting.
   */
  kvStreamRequestMsMax: 35_000,
  /**
   * Largest KvResponse the edge reads from a storage node. The node caps the keys and values of
   * one answer at 16 MiB (storage-node/limits.ts responseBytesMax); framing adds a few bytes per
   * entry (at most batchEntriesMax = 120,000 entries, under 2 MiB) and the usage trailer. Twice the
   * node's cap never cuts a real answer; past it the peer is not a storage node speaking the
   * protocol (or is broken), and reading further would only fill the isolate's 128 MB.
   */
  kvResponseBytesMax: 32 * 1024 * 1024,
  /** Storage token lifetime: well under TOKEN_TTL_MS_MAX (15 min) so tokens rotate regularly. */
  storageTokenTtlMs: 10 * 60 * 1000,
  /**
   * How long TenantKV keeps re-sending a request that may safely be repeated (storage-retry.ts)
   * while the storage node cannot be reached. A local storage node is back within about a second
   * of a kill -9 (`warren dev` restarts it after 200 ms, it starts in ~0.5 s). A shard's new
   * leaseholder serves once a backup noticed the silence (failoverAfterMs, 2 s, by which time the
   * old lease has run out), the directory promoted it, and it committed its first entry and started
   * its KV service: measured 3.7–5.7 s (p99) over 20 kills on a 2-core machine at load 15–23
   * (`npm run bench:fleet`), so 1.7–3.7 s after failoverAfterMs. With 5 s, requests in flight at
   * the kill got 57P01 just before the new leaseholder served; 8 s lets them ride out a failover
   * with room for load, and stays far below a client's statement timeout (30 s): past it the
   * client gets 57P01 (nothing was applied) or, for a commit, 08006.
   */
  storageUnavailableWaitMs: 8_000,
  /**
   * In a fleet, a request that has waited this long on a shard's leaseholder checks the FleetDirectory
   * for a newer epoch led by another node, and again every this often while it waits
   * (storage-attempt.ts): a leaseholder that is stopped or cut off keeps its connections open and
   * never answers. A new leaseholder is named about 2 s after the old one went silent
   * (storage-node/replication/limits.ts, failoverAfterMs), so 500 ms adds at most half a second to
   * the failover a waiting request sees. The checks are coalesced per shard (shard-routes.ts): at
   * most two directory reads a second per shard and edge isolate, and only while some request
   * has waited longer than this (a healthy commit takes milliseconds to a few hundred).
   */
  storageRouteCheckMs: 500,
  /**
   * Longest one attempt at a storage node may take before the edge gives up on it (57P01 when
   * nothing was applied for sure, 08006 otherwise). A live node bounds its own waits: a lock wait
   * ends with 40001 after 30 s (storage-node lockWaitMsMax), a rate-limit wait after 1 s, so 35 s
   * never cuts a request a live node is still working on; past it the node is wedged while the
   * directory still names it (it cannot be: its lease lapses within 2 s of its going silent), and
   * no request hangs forever.
   */
  storageAttemptMsMax: 35_000,
  /**
   * The same bound for a commit. A commit is work proportional to the intents it resolves (one
   * LMDB transaction turns every intent into a version, storage-node/README.md), not a wait the
   * node bounds: `pgbench -i -s 10` commits 1,000,000 intents, which took longer than 35 s at
   * load 12 on a 2-core machine and got 08006 although the node was still applying it. A commit
   * is idempotent (storage-retry.ts), so one whose stream broke at kvStreamRequestMsMax is sent
   * again over HTTP and waits here for the first one's recorded outcome. Five minutes is the node's
   * txnDurationMsMax: a transaction older than that cannot commit at all, so no legitimate commit
   * outlasts it by much; a wedged node still ends a commit's wait within it (and a fleet's
   * leaseholder change ends it sooner, storageRouteCheckMs).
   */
  storageCommitAttemptMsMax: 300_000,
  /**
   * Leaseholder changes one request follows (each: the request waited on a leaseholder that was
   * replaced, and is sent again to the new one). One failover is one change; more than three
   * during one request means the shard is flapping, and the client is better told (57P01).
   */
  storageMovesPerRequestMax: 3,
  /** First pause between those attempts; doubled each time up to storageRetryDelayMsMax. */
  storageRetryDelayMsMin: 50,
  /**
   * Longest pause between attempts: a node that is back (or a new leaseholder whose KV service has
   * started) is found within this much, and it adds directly to the failover a client sees (the
   * issue's bound is 5 s, of which the replication protocol's own failover takes 4–4.5 s on a
   * loaded 2-core machine). 200 ms halves what 400 ms cost; an attempt at a node that is down is
   * a refused local connection plus at most one directory read per shard in flight
   * (shard-routes.ts), so 25 attempts over the 5 s wait are cheap.
   */
  storageRetryDelayMsMax: 200,
  /** A request of a storage node to the fleet directory is a few ids and numbers; 4 KiB bounds parsing. */
  fleetOpBytesMax: 4096,
  /** A cached storage token is replaced once it has less than this left, so no request carries a token about to expire. */
  storageTokenRefreshBeforeMs: 60 * 1000,
  /**
   * Largest StartupMessage accepted on the WebSocket path: Postgres's own bound
   * (MAX_STARTUP_PACKET_LENGTH, 10000 bytes).
   */
  startupMessageBytesMax: 10_000,
  /** A WebSocket client that has not completed its login within this time is disconnected. */
  startupTimeoutMs: 10_000,
  /**
   * A `/v2` connection that has sent no StartupMessage or CancelRequest within this time is closed
   * (FATAL 08P01). A real client sends it in its first frame (the Neon driver, the tunnel, which
   * reads the startup packet before it opens the WebSocket), so 5 s is generous for a slow link,
   * and short enough that silent sockets free their place (below) soon; the tunnel's own bound
   * (cli/limits.ts tunnelStartupTimeoutMs) is the same.
   */
  preStartupTimeoutMs: 5_000,
  /**
   * `/v2` connections of one edge isolate that have not sent their startup packet, at once
   * (pre-startup.ts). Past it the oldest of them is closed for the new one, so idle sockets are
   * pushed out by clients that speak. Each costs a WebSocket pair and its request (a few KiB, no
   * CPU while it waits); 512 bounds that to a few MiB, and is more than two pools of 100 opening at
   * once plus a tunnel's own pre-startup bound (256, which never reaches the edge anyway: the
   * tunnel opens the WebSocket with the startup packet in hand).
   */
  preStartupWebSocketsMax: 512,
  /**
   * Of those, connections whose Host header names one tenant (the only thing that names a tenant
   * before its StartupMessage). A quarter of the total, so idle sockets aimed at one tenant's host
   * push out only that tenant's pre-startup connections, not everyone's; 128 fits a pool of 100
   * opening at once (the per-tenant session bound, pgSessionsPerTenantMax).
   */
  preStartupWebSocketsPerTenantMax: 128,

  // ---- fair shares between tenants (tenant-limits.ts; overridable by the EDGE_* vars for tests) ----

  /**
   * `/sql` requests of one tenant running at once in one edge isolate. A tenant's gateway runs its
   * JavaScript on one thread, so past a handful of requests concurrency adds latency, not
   * throughput: a typical request is well under a millisecond of CPU around one to three KV round
   * trips of ~1 ms, so four in flight keep the isolate mostly busy while KV answers. Each may hold
   * up to a 10 MiB response (gateway http/limits.ts). Locally every isolate shares one thread, and
   * a computing statement holds it a slice (3 ms) at a time in turn with every other running one,
   * so another tenant's request waits about one slice per running request of the flooder at each
   * hop. Measured (scripts/flood-probe.ts, one run, load 12-15, clients looping a count over
   * 20,000 rows straight to the user workerd): 8 running gave 12.6-15.5 requests/s and the victim's
   * point-select p50 3.5-5.4x its solo window; 4 running, the same 12.6/s and 2.3x; 2 running,
   * 9.4/s and 1.8x. A second run (load 16-17, 4 / 8 / 4 running): 10.1 / 13.5 / 9.3 requests/s,
   * victim p50 1.9x / 3.9x / 2.8x and p99 1.15x / 4.6x / 1.1x. Four costs a computing flooder
   * 0-30 % of its throughput in one isolate and halves or better what it costs the others.
   */
  sqlRequestsPerTenantMax: 4,
  /**
   * `/sql` requests of one tenant waiting (FIFO) for one of those slots. Eight times the running
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
   * How long a `/sql` request whose tenant's line is full (running and waiting bounds both reached)
   * is held before its 53300 is sent (tenant-request-queue.ts). A client that loops — a flood, or a
   * retry loop without backoff — sends its next request as soon as a refusal arrives, so instant
   * refusals let one tenant make the edge refuse requests as fast as it can, each refusal an HTTP
   * request's work on the shared thread. One second is the Retry-After the refusal carries, so a
   * well-behaved client loses nothing, while a looping one is held to one request per second per
   * connection. A held refusal is a timer; its body is not read (the check comes before). Each hold
   * is 0.5–1.5 times this, at random, so a burst refused together does not come back together.
   */
  sqlRefusalHoldMs: 1_000,
  /**
   * Refusals of one tenant held at once; past it a refusal is sent at once. Each held request is a
   * request object and a timer, no body (a few KiB): 512 covers a flood of a few hundred looping
   * clients while bounding what one tenant parks in the isolate to a few MiB.
   */
  sqlRefusalsHeldPerTenantMax: 512,
  /**
   * Held refusals of one tenant sent per second at most (tenant-request-queue.ts). The hold bounds
   * each connection, so a flood's rate grew with its connections: 200 looping clients sent ~200
   * requests a second, and every request costs the edge's CPU whether admitted or refused
   * (measured locally: ~1 ms in the user workerd plus ~3 ms in wrangler's proxy and Node, all of
   * it in the edge's CPU share; test/isolation/README.md). 20 a second is a few percent of a
   * core in production and keeps a tenant that is past its line told so promptly: its clients
   * share 20 refusals a second, each with Retry-After.
   */
  sqlRefusalsPerTenantPerSecond: 20,
  /**
   * Longest a refusal is held for that pacing. Past it refusals leave at clients / this rate, so
   * it bounds the rate of a flood with many connections (200 clients: 20 a second); 10 s stays
   * well inside HTTP clients' usual 30 s timeouts, so a held client still gets its 53300, not a
   * timeout.
   */
  sqlRefusalHoldMsMax: 10_000,
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
  /**
   * How long an interactive HTTP transaction lives from its BEGIN (txn-handle.ts): its handle is
   * refused with 25P03 afterwards. The storage node refuses a commit more than txnDurationMsMax
   * (5 min) after the transaction's snapshot, which is taken at BEGIN, so a handle must expire
   * before that: 4 minutes leaves a minute for the last request and for clocks that differ between
   * the edge and the node. Fixed at BEGIN, never extended, so a leaked handle is dead within it.
   */
  txnHandleLifetimeMs: 4 * 60 * 1000,
  /**
   * CORS preflight answers may be cached by the browser this long (Access-Control-Max-Age):
   * they do not depend on the tenant (the origin is checked on the real request), so a day saves
   * a round trip per request without hiding any change of a tenant's allowed origins.
   */
  corsMaxAgeSeconds: 86_400,

  // ---- the tenant lifecycle (idle-suspension.ts) ----

  /**
   * Idle time after which a tenant with no open session and no request is suspended (its gateway
   * isolate and caches released). Five minutes, as the issue asks: long enough that an app between
   * bursts keeps its warm isolate, short enough that idle tenants cost nothing most of the day.
   * The TENANT_IDLE_SUSPEND_MS var overrides it (tests use 2 s; 0 turns idle suspension off).
   */
  tenantIdleSuspendMsDefault: 5 * 60_000,
  /**
   * Longest idle time the edge waits out with a timer behind a request (ctx.waitUntil, which the
   * platform bounds at ~30 s after the response). Longer idle times are noticed by the next request
   * this edge isolate serves.
   */
  idleSweepTimerMaxMs: 25_000,
  /**
   * How often a live session or request checks whether it was told to end (operator suspend, deny
   * list): the issue asks that a denied address's sessions end within 1 s; 250 ms leaves room for
   * a loaded machine, and a check is a field read.
   */
  liveWorkPollMs: 250,
  /**
   * How long an edge isolate trusts its copy of the deny list: one directory call per isolate per
   * 2 s at most, and an entry added through another isolate takes effect here within that time.
   */
  denyListTtlMs: 2_000,
  /** A successful login from an address is told to its tenant's router at most this often per isolate. */
  loginSuccessReportMs: 10 * 60_000,
  /** The idle timer fires this long after the deadline, so the tenant is past it when checked. */
  idleSweepSlackMs: 50,
} as const;
