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

/** How long a WebSocket handshake to the edge may take before the TCP client is dropped. */
export const tunnelHandshakeTimeoutMs = 10_000;

/**
 * After the WebSocket has closed and the tunnel has sent FIN, how long the client may keep its
 * side open before the socket is dropped. Clients close at once; this only bounds a stuck one.
 */
export const tunnelHalfOpenMs = 30_000;

/**
 * Concurrent tunnelled connections. Each costs a socket, a WebSocket and up to about 2 MiB of
 * buffers; 1000 is more than a local developer or a test ever opens and keeps memory near 2 GB
 * in the worst case. Beyond it new clients are refused at once instead of queueing silently.
 */
export const tunnelConnectionsMax = 1000;

/** `warren dev` gives up if the stack is not answering by then (the brief's bound on a fresh clone). */
export const devReadyTimeoutMs = 60_000;

/** How often `warren dev` checks that its parent still exists (a cheap syscall; 1 s is prompt enough). */
export const parentCheckIntervalMs = 1_000;

/** How long a child process group gets after SIGTERM before it is sent SIGKILL. */
export const childStopGraceMs = 5_000;

/** After SIGKILL, how long to wait for the group to vanish before reporting it as stuck. */
export const childKillWaitMs = 2_000;

/** Lines of a child's output kept in memory, shown when the child dies unexpectedly. */
export const childLogTailLines = 40;

/** One admin API call. Local calls take milliseconds; this covers a cold Durable Object. */
export const adminRequestTimeoutMs = 10_000;
