// The gateway's end of a Postgres connection: the edge has read the startup packet and
// authenticated the client, then opens this WebSocket to the tenant's gateway (GET /v2 on the
// gateway's fetch, with the session's identity in headers only the edge sets) and pipes the
// client's bytes through it. Here each WebSocket is one PgConnection over one SQL session, listed
// in the tenant's BackendRegistry (backends.ts) under the BackendKeyData pair the edge issued, so a
// CancelRequest (POST /cancel from the edge) and pg_cancel_backend / pg_terminate_backend find it.
// When the edge closes the WebSocket (the client went away), the running statement is cancelled
// and an open transaction rolled back (PgConnection.end()).
import { PgError, toPgError } from "../../../common/errors.ts";
import { statementTimeoutMsOf, type GatewayEnv } from "../env.ts";
import { localQuotaFor } from "../quota/local-quota.ts";
import { createSession } from "../sql/session.ts";
import { encodeOne, ErrorResponse } from "./backend.ts";
import { backendsOf, parseBackendKey, type Backend, type BackendKey } from "./backends.ts";
import { PgConnection, type ConnectionIO } from "./connection.ts";
import { settingsFromStartup } from "./startup-settings.ts";
import { requestKv } from "../kv/kv-channel.ts";

// The edge ↔ gateway agreement lives in edge-contract.ts (the edge imports it without the engine).
export { BACKEND_KEY_TAKEN_STATUS, frameBytes, PGWIRE_HEADERS } from "../edge-contract.ts";
import { BACKEND_KEY_TAKEN_STATUS, frameBytes, PGWIRE_HEADERS } from "../edge-contract.ts";

/**
 * POST /cancel from the edge: a CancelRequest for the session with the pair in
 * PGWIRE_HEADERS.backendKey. Answers 200 {"canceled": bool}; a wrong pair changes nothing.
 */
export function serveCancelRequest(request: Request, env: GatewayEnv): Response {
  const key = parseBackendKey(request.headers.get(PGWIRE_HEADERS.backendKey));
  const canceled = key !== null && backendsOf(env.TENANT_ID).cancelRequest(key);
  return Response.json({ canceled });
}

function startupParams(request: Request): Record<string, string> {
  const text = request.headers.get(PGWIRE_HEADERS.startup);
  if (text === null) return {};
  const parsed: unknown = JSON.parse(text);
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new PgError("internal_error", "startup parameters from the edge are not an object");
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) if (typeof v === "string") out[k] = v;
  return out;
}

/**
 * `ctx`: the invocation that carries the session (the edge's /v2 call); it keeps the session's usage
 * reports alive (LocalQuota.flushLater) and makes the last one when the session ends.
 */
export function servePgWebSocket(request: Request, env: GatewayEnv, ctx?: ExecutionContext): Response {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return Response.json({ severity: "ERROR", code: "08P01", message: "GET /v2 expects a WebSocket upgrade" }, { status: 426 });
  }
  const backends = backendsOf(env.TENANT_ID);
  const headerKey = request.headers.get(PGWIRE_HEADERS.backendKey);
  let key: BackendKey;
  if (headerKey === null) {
    // Not from the edge's session path (tests): a pair no CancelRequest can name, but a usable pid.
    key = { processId: backends.unusedProcessId(), secretKey: crypto.getRandomValues(new Int32Array(1))[0]! };
  } else {
    const parsed = parseBackendKey(headerKey);
    if (parsed === null) return Response.json({ severity: "ERROR", code: "XX000", message: "malformed backend key from the edge" }, { status: 500 });
    if (backends.has(parsed.processId)) {
      return Response.json({ severity: "ERROR", code: "XX000", message: "process id in use; issue another backend key" }, { status: BACKEND_KEY_TAKEN_STATUS });
    }
    key = parsed;
  }
  const pair = new WebSocketPair();
  const [client, server] = [pair[0], pair[1]];
  server.accept();
  // One TenantKV channel for the connection's KV batches: a batch through an open channel costs
  // about a third of a fresh TenantKV invocation (measured: 0.9–1.2 ms vs 2.4–4.7 ms per batch;
  // pg point select p50 6.1–8.0 -> 3.6–5.1 ms). It must be closed with the connection: an RPC
  // stub left to the garbage collector can crash local workerd (common/rpc.ts).
  const connKv = requestKv(env.KV);
  let conn: PgConnection | undefined;
  let backend: Backend | undefined;
  // However the connection ends (the edge closed the WebSocket because the client went away, or
  // the connection closed it after Terminate / FATAL): the running statement is cancelled, an open
  // transaction dies with the connection (its writes were never committed), then the session
  // leaves the registry and the KV channel is closed.
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    void (conn?.end() ?? Promise.resolve()).then(() => {
      if (backend !== undefined) backends.remove(backend);
      connKv.close();
    });
  };
  // A reply is never dropped while the edge still holds the socket. server.send throws for two
  // reasons: the socket is closed (the close event ends the connection), or the code calling it
  // runs in another request than this session's (workerd: "Cannot perform I/O on behalf of a
  // different request"; common/shared-wait.ts), which is how issue 8's pgbench replies were lost
  // without a word. In the second case the bytes are handed to this session's own request: a
  // promise made here, settled from elsewhere, continues here, where the send works.
  let stranded: Uint8Array[] | null = null;
  let sendHere: (() => void) | null = null;
  const armSendHere = (): void => {
    void new Promise<void>((resolve) => (sendHere = resolve)).then(() => {
      const waiting = stranded ?? [];
      stranded = null;
      armSendHere();
      for (const bytes of waiting) {
        try {
          server.send(bytes);
        } catch (err) {
          // Here the send is the session's own: a failure now is the socket's (closed meanwhile).
          if (server.readyState === WebSocket.READY_STATE_OPEN) console.error("gateway: a reply could not be sent from the session's own request either", err);
        }
      }
    });
  };
  armSendHere();
  const io: ConnectionIO = {
    send: (bytes: Uint8Array) => {
      if (stranded !== null) {
        stranded.push(bytes); // behind the bytes already waiting, in order
        return;
      }
      try {
        server.send(bytes);
      } catch (err) {
        if (server.readyState !== WebSocket.READY_STATE_OPEN) return; // the edge closed the socket
        console.error("gateway: a reply could not be sent from the request running it; it goes from the session's own", err);
        stranded = [bytes];
        sendHere?.();
      }
    },
    close: (code: number, reason: string) => {
      try {
        server.close(code, reason);
      } catch {
        // Already closed.
      }
      release();
    },
  };
  // COPY TO's back-pressure, where the runtime reports unsent bytes (workerd does not today).
  if (typeof (server as { bufferedAmount?: unknown }).bufferedAmount === "number") io.bufferedBytes = () => server.bufferedAmount;
  server.addEventListener("close", release);
  server.addEventListener("error", release);
  try {
    const user = request.headers.get(PGWIRE_HEADERS.user) ?? "warren";
    const database = request.headers.get(PGWIRE_HEADERS.database) ?? "defaultdb";
    const settings = { ...settingsFromStartup(startupParams(request)), user, database };
    const quota = localQuotaFor(env.TENANT_ID, env.QUOTA);
    // Usage reaches the bucket while the session is quiet too (limits.ts usageFlushMs), and once more
    // when it ends, through this session's own capability.
    const flushLater = () => {
      const p = quota.flushLater(env.QUOTA);
      if (p !== null) ctx?.waitUntil(p);
    };
    server.addEventListener("close", () => {
      if (quota.hasUnreported) ctx?.waitUntil(quota.flush(env.QUOTA).catch((err: unknown) => console.warn("gateway: usage report at session end failed", err)));
    });
    const session = createSession({
      kv: connKv.kv,
      tenantId: Number(env.TENANT_ID),
      settings,
      backend: { processId: key.processId, signal: (processId, action) => backends.signal(processId, action), terminateSelf: (reason) => conn?.terminate(reason) },
      onKvUsage: (u) => quota.chargeKv(u),
      onCpuMs: (ms) => quota.chargeCpu(ms),
      ...(statementTimeoutMsOf(env) === undefined ? {} : { statementTimeoutMsDefault: statementTimeoutMsOf(env)! }),
    });
    quota.countConnection();
    const c = new PgConnection({
      session,
      io,
      user,
      backendKey: key,
      quota: {
        admit: () => quota.admit(env.QUOTA),
        chargeEgress: (bytes) => {
          quota.chargeEgress(bytes);
          flushLater();
        },
      },
    });
    const b: Backend = { key, cancel: () => session.cancel(), terminate: () => c.terminate() };
    if (!backends.add(b)) throw new PgError("internal_error", `process id ${key.processId} was taken while the session started`);
    conn = c;
    backend = b;
  } catch (err) {
    io.send(encodeOne((out) => ErrorResponse(out, toPgError(err), "FATAL")));
    io.close(1000, "startup failed");
    return new Response(null, { status: 101, webSocket: client });
  }
  const connection = conn;
  let frames: Promise<void> = Promise.resolve();
  server.addEventListener("message", (event) => {
    // Blob frames convert asynchronously; the chain keeps them in arrival order.
    frames = frames.then(async () => {
      try {
        // Not awaited: the connection queues bytes itself (and bounds how many wait).
        void connection.receive(await frameBytes(event.data));
      } catch (err) {
        io.send(encodeOne((out) => ErrorResponse(out, toPgError(err), "FATAL")));
        io.close(1000, "protocol violation");
      }
    });
  });
  void connection.start();
  return new Response(null, { status: 101, webSocket: client });
}
