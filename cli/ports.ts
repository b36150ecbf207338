// Port helpers for the local stack and its tests: find a free port, check that one is free, and
// poll until a service answers.
import net from "node:net";

/** A port the OS just reported free on `host`. Another process may take it before we bind it. */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** True when nothing listens on host:port (we can bind it ourselves). */
export function isPortFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** True when a TCP connection to host:port succeeds. */
export function isListening(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** True when an HTTP GET of `url` gets any response whose status satisfies `ok`. */
export async function answersHttp(url: string, ok: (status: number) => boolean = () => true): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    return ok(res.status);
  } catch {
    return false;
  }
}

/**
 * Polls `probe` until it returns true. Rejects when `deadlineMs` (a Date.now() value) passes or
 * `signal` aborts; the error names `what` so the user knows which part did not come up.
 */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  deadlineMs: number,
  signal?: AbortSignal,
  intervalMs = 50,
): Promise<void> {
  for (;;) {
    signal?.throwIfAborted();
    if (await probe()) return;
    if (Date.now() >= deadlineMs) throw new Error(`${what} did not answer in time`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
