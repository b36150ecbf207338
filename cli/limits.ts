// Every bound the `warren` CLI enforces, with the reason for its value.

/**
 * The tunnel stops reading a TCP client once this many bytes wait in its WebSocket's send buffer.
 * 1 MiB covers the bandwidth-delay product of a fast link to the edge (100 Mbit/s × 80 ms ≈ 1 MB)
 * so a single connection still fills the pipe, while a client that writes faster than the edge
 * reads costs at most about this much memory per connection.
 */
export const tunnelWsBufferedBytesHigh = 1024 * 1024;

/** Reading resumes below this mark; the gap keeps pause/resume from flapping on every frame. */
export const tunnelWsBufferedBytesLow = 256 * 1024;

/**
 * Largest WebSocket message the tunnel accepts from the server. Postgres wire messages are carried
 * as they arrive, so a frame is at most one large DataRow or a batch of small ones; 64 MiB is far
 * above the edge's result limits and still bounds what one frame can make us allocate.
 */
export const tunnelWsMessageBytesMax = 64 * 1024 * 1024;

/**
 * How long a WebSocket handshake to the edge may take before the TCP client gets FATAL 08001. It
 * bounds a hung upgrade only: 10 s was exceeded once by psql's `\d` on a local stack at load 16–19
 * (the upgrade passes wrangler's proxy and the edge's login work there), so 20 s; clients bound
 * their own connect time (libpq's connect_timeout) if they want less.
 */
export const tunnelHandshakeTimeoutMs = 20_000;

/**
 * After the WebSocket has closed and the tunnel has sent FIN, how long the client may keep its
 * side open before the socket is dropped. Clients close at once; this only bounds a stuck one.
 */
export const tunnelHalfOpenMs = 30_000;

/**
 * Concurrent tunnelled connections past their startup packet (sessions and cancel requests). Each
 * costs a socket, a WebSocket and up to about 2 MiB of buffers; 1000 is more than a local developer
 * or a test ever opens and keeps memory near 2 GB in the worst case. Beyond it a new session gets
 * FATAL 53300 at once instead of queueing silently. Connections still before their startup packet
 * do not count here: they have their own, smaller cap (below), so idle sockets cannot use this up.
 */
export const tunnelConnectionsMax = 1000;

/**
 * Established sessions naming one tenant. A tunnel is shared by whoever can reach it (a team's
 * bastion, a test harness); 100 is PostgreSQL's default max_connections, what pools are sized for,
 * and also the edge's per-tenant session bound (workers/edge/limits.ts), so one tenant can hold at
 * most a tenth of the tunnel. Connections that name no tenant (the edge refuses those) count as one
 * tenant of their own. The next one gets FATAL 53300.
 */
export const tunnelConnectionsPerTenantMax = 100;

/**
 * Time from accept to the first StartupMessage or CancelRequest. A real client sends it within one
 * round trip (psql: SSLRequest, 'N', StartupMessage, all in milliseconds); 5 s is generous for a
 * slow link and short enough that sockets which never speak do not pile up. The edge bounds the
 * rest of the login itself (10 s).
 */
export const tunnelStartupTimeoutMs = 5_000;

/**
 * Connections before their startup packet, at once. When full, the OLDEST of them is dropped to
 * make room rather than the new one refused: a client that is really connecting sends its startup
 * packet within milliseconds, so it is almost never the oldest, while idle sockets (a scan, a
 * flood, a broken client) age and are the ones pushed out. Refusing new ones instead would let
 * anyone who holds 256 idle sockets (re-opened every 5 s) keep every tenant out. 256 covers a pool
 * opening a hundred connections at once with room to spare; each costs a socket and a few KiB.
 */
export const tunnelPreStartupConnectionsMax = 256;

/**
 * Longest startup packet accepted before a WebSocket exists: Postgres's own bound
 * (MAX_STARTUP_PACKET_LENGTH, 10000 bytes), as the edge applies it.
 */
export const tunnelStartupBytesMax = 10_000;

/** A cancel connection's whole life: the edge forwards it and closes within 5 s; this bounds a stuck one. */
export const tunnelCancelLifetimeMs = 10_000;

/**
 * How often the tunnel pings each session's WebSocket. A statement may run for minutes without a
 * byte coming back, so silence alone says nothing; an unanswered ping says the connection is gone
 * (the far end vanished without a close: a dead proxy, a cut network), which TCP alone would only
 * notice after many minutes. 15 s keeps the cost at one small frame per quarter minute per session.
 */
export const tunnelPingIntervalMs = 15_000;

/**
 * How long a ping may go unanswered before the tunnel gives up on the WebSocket: the client gets
 * FATAL 08006 and its connection is closed, instead of waiting forever for a reply that cannot
 * come. Two intervals, so one late pong on a loaded machine is not taken for a dead connection.
 */
export const tunnelPongTimeoutMs = 30_000;

/** `warren dev` gives up if the stack is not answering by then (the brief's bound on a fresh clone). */
export const devReadyTimeoutMs = 60_000;

/** How often `warren dev` checks that its parent still exists (a cheap syscall; 1 s is prompt enough). */
export const parentCheckIntervalMs = 1_000;

/** How long a child process group gets after SIGTERM before it is sent SIGKILL. */
export const childStopGraceMs = 5_000;

/**
 * A restartable child (the storage node) that dies is started again after this long: long enough
 * for the kernel to release its port and LMDB's lock, short enough that clients waiting at the
 * edge (workers/edge/limits.ts storageUnavailableWaitMs) are served by the new process.
 */
export const childRestartDelayMs = 200;

/**
 * A restartable child that dies this many times within childRestartWindowMs is crash-looping
 * (bad data dir, port taken, a bug at start): the stack stops and shows its output instead.
 */
export const childRestartsMax = 5;
export const childRestartWindowMs = 60_000;

/** After SIGKILL, how long to wait for the group to vanish before reporting it as stuck. */
export const childKillWaitMs = 2_000;

/** Lines of a child's output kept in memory, shown when the child dies unexpectedly. */
export const childLogTailLines = 40;

/** One admin API call. Local calls take milliseconds; this covers a cold Durable Object. */
export const adminRequestTimeoutMs = 10_000;
