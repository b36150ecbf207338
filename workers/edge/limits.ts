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
} as const;
