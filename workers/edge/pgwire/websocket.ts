// GET /v2: the Postgres wire protocol over a WebSocket (Neon's path, and what `warren tunnel`
// connects to). The edge does everything that needs a secret or the control plane, then hands the
// connection to the tenant's gateway and only pipes bytes:
//
//   (accepted) a place among the connections that have not sent a startup packet (ctx.preStartup,
//     pre-startup.ts: bounded per tenant named by Host and in all, the oldest evicted for a new one);
//     no StartupMessage or CancelRequest within preStartupTimeoutMs → FATAL 08P01 and close
//   SSLRequest / GSSENCRequest → 'N'
//   CancelRequest(processId, secretKey) → ctx.cancel: the pair names the tenant (backend-key.ts);
//     the gateway cancels that session's statement as a request of its own; then close without a
//     reply, as Postgres does (a wrong pair changes nothing and looks the same to the client)
//   StartupMessage → tenant (user NAME.T | options --cluster=T | database T.DB | Host label)
//     → credentials (cached verifier; unknown 3D000, suspended 57P03, throttled 28000)
//     → a login slot of the tenant (ctx.admitLogin: a few in progress per tenant, the next wait in
//       line, the rest FATAL 53300), held until the gateway session's first answer or the end
//     → authentication:
//         SCRAM-SHA-256: AuthenticationSASL → SASLInitialResponse → AuthenticationSASLContinue
//                        → SASLResponse → AuthenticationSASLFinal            (wrong password 28P01)
//         cleartext, when the client already sent its PasswordMessage behind the StartupMessage
//         (@neondatabase/serverless pipelineConnect="password"): AuthenticationCleartextPassword,
//         checked through the route cache (router on a miss)              (wrong password 28P01)
//     → a session slot of the tenant (ctx.admitSession; the tenant's limit reached → FATAL 53300)
//     → open a WebSocket to the gateway (GatewayHost.fetch GET /v2, the same loader path as /sql)
//       with the session's user, database, startup parameters and its BackendKeyData pair (issued
//       here, ctx.issueBackendKey) in headers the edge alone sets
//     → pipe bytes both ways; the gateway sends AuthenticationOk, ParameterStatus, … ReadyForQuery.
//
// Anything other than the expected message before authentication completes is a protocol
// violation: FATAL 08P01 and close; nothing reaches a gateway.
import { PgError, toPgError } from "../../../common/errors.ts";
import {
  AuthenticationCleartextPassword,
  AuthenticationSASL,
  AuthenticationSASLContinue,
  AuthenticationSASLFinal,
  encodeOne,
  ErrorResponse,
} from "../../gateway/pgwire/backend.ts";
import { BodyReader, MessageReader } from "../../gateway/pgwire/reader.ts";
import { formatBackendKey, type BackendKey } from "../../gateway/pgwire/backends.ts";
import { BACKEND_KEY_TAKEN_STATUS, frameBytes, PGWIRE_HEADERS } from "../../gateway/edge-contract.ts";
import type { Route } from "../../../durable-objects/router/tenant-router.ts";
import { identifyTenant, type TenantIdentity } from "../tenant-identity.ts";
import { limits } from "../limits.ts";
import type { Credentials } from "./credential-cache.ts";
import type { PreStartupTicket } from "../pre-startup.ts";
import { ScramServerExchange, SCRAM_MECHANISM } from "./scram-server.ts";
import { NO_ENCRYPTION, StartupReader, type StartupPacket } from "./startup.ts";

export interface PgWebSocketContext {
  /** The Host header of the upgrade request (for the host-label form). */
  host: string | undefined;
  /** The tenant's route and SCRAM verifier (cached); throws PgError (3D000, 57P03, 28000). */
  credentials(name: string): Promise<Credentials>;
  /** Reports a failed SCRAM proof to the tenant's router (failed-login throttle). */
  loginFailed(name: string): Promise<void>;
  /** Cleartext password check (route cache, router on a miss); throws PgError 28P01 when wrong. */
  authenticate(name: string, password: string): Promise<Route>;
  /** Opens the WebSocket to the tenant's gateway. */
  openGateway(route: Route, request: Request): Promise<Response>;
  /**
   * Counts a session of the tenant; returns the function that ends it. Throws PgError 53300 when
   * the tenant is at its session limit.
   */
  admitSession(route: Route, end: (err: PgError) => void): () => void;
  /**
   * Waits for one of the tenant's login slots; resolves with the function that gives it back.
   * Throws PgError 53300 when the tenant's line is full or the wait ran out. A storm of one
   * tenant's logins then costs the shared thread a few logins' work at a time, not all of it at once.
   */
  admitLogin(route: Route): Promise<() => void>;
  /** A fresh BackendKeyData pair for a session of this tenant. */
  issueBackendKey(tenantId: number): Promise<BackendKey>;
  /**
   * Forwards a CancelRequest to the gateway of the tenant its pair names, if any; resolves once the
   * gateway has it (or after a bound). Never throws: a cancel that reaches nothing is not an error.
   */
  cancel(key: BackendKey): Promise<void>;
  /** Time allowed from accept to a completed login; limits.startupTimeoutMs unless a test overrides it. */
  startupTimeoutMs?: number;
  /**
   * Takes this connection's place among those that have not sent a startup packet (pre-startup.ts);
   * absent: not counted.
   */
  preStartup?: () => PreStartupTicket;
  /** Time allowed from accept to the StartupMessage or CancelRequest; limits.preStartupTimeoutMs unless a test overrides it. */
  preStartupTimeoutMs?: number;
}

type Phase =
  | { name: "startup" }
  | { name: "password"; identity: TenantIdentity; params: Record<string, string> }
  | { name: "sasl-initial"; identity: TenantIdentity; params: Record<string, string>; creds: Credentials }
  | { name: "sasl-final"; identity: TenantIdentity; params: Record<string, string>; creds: Credentials; exchange: ScramServerExchange }
  | { name: "piping"; gateway: WebSocket }
  | { name: "cancel" }
  | { name: "closed" };

export function acceptPgWebSocket(ctx: PgWebSocketContext): Response {
  const pair = new WebSocketPair();
  const [client, server] = [pair[0], pair[1]];
  server.accept();
  const startup = new StartupReader(limits.startupMessageBytesMax);
  // Authentication messages are small (a password, a SCRAM message); the startup bound fits them.
  const auth = new MessageReader(limits.startupMessageBytesMax, limits.startupMessageBytesMax * 4);
  let phase = { name: "startup" } as Phase;
  let chain: Promise<void> = Promise.resolve();
  /** Ends the session's slot of its tenant (set once admitted). */
  let endSession: (() => void) | null = null;
  /** Gives the login slot back (set while the login holds one). */
  let endLogin: (() => void) | null = null;
  const loginDone = () => {
    const end = endLogin;
    endLogin = null;
    end?.();
  };

  const send = (bytes: Uint8Array) => {
    try {
      server.send(bytes);
    } catch {
      // The client went away; the close event ends everything.
    }
  };
  const finish = (err: PgError | null, reason = "closed") => {
    if (phase.name === "closed") return;
    const was = phase;
    phase = { name: "closed" };
    clearTimeout(timer);
    startupArrived();
    loginDone();
    endSession?.();
    if (err !== null) send(encodeOne((out) => ErrorResponse(out, err, "FATAL")));
    try {
      server.close(1000, err?.code ?? reason);
    } catch {
      // Already closed.
    }
    if (was.name === "piping") {
      try {
        was.gateway.close(1000, "client closed");
      } catch {
        // Already closed.
      }
    }
  };
  const timer = setTimeout(
    () => finish(new PgError("protocol_violation", "authentication did not complete in time")),
    ctx.startupTimeoutMs ?? limits.startupTimeoutMs,
  );
  // Until its startup packet, the connection holds a place among the pre-startup ones and has a
  // shorter bound; an evicted one ends at its next message or at this bound (pre-startup.ts).
  const ticket = ctx.preStartup?.();
  const preStartupMs = ctx.preStartupTimeoutMs ?? limits.preStartupTimeoutMs;
  const preTimer = setTimeout(
    () => finish(ticket?.evicted ?? new PgError("protocol_violation", `no startup message within ${preStartupMs} ms of connecting`)),
    preStartupMs,
  );
  function startupArrived(): void {
    clearTimeout(preTimer);
    ticket?.done();
  }

  const onStartup = async (packet: StartupPacket): Promise<void> => {
    switch (packet.kind) {
      case "SSLRequest":
      case "GSSENCRequest":
        send(NO_ENCRYPTION);
        return;
      case "CancelRequest":
        // Nothing else may follow on this connection; Postgres closes it without a reply once the
        // signal is sent, and so do we once the gateway has the request.
        startupArrived();
        phase = { name: "cancel" };
        await ctx.cancel({ processId: packet.processId, secretKey: packet.secretKey });
        finish(null, "cancel");
        return;
      case "StartupMessage": {
        startupArrived();
        const p = packet.parameters;
        const identity = identifyTenant({ user: p["user"], database: p["database"], options: p["options"], host: ctx.host });
        const creds = await ctx.credentials(identity.tenant);
        const release = await ctx.admitLogin(creds.route);
        if ((phase as Phase).name === "closed") {
          release(); // the client went away (or timed out) while it waited
          return;
        }
        endLogin = release;
        // Hand what follows the StartupMessage to the message reader.
        const rest = startup.drain();
        auth.push(rest);
        // A PasswordMessage already behind the StartupMessage: the client is set up for cleartext
        // (it did not wait to be asked), so ask for exactly that.
        if (rest.length > 0 && rest[0] === 0x70) {
          send(encodeOne(AuthenticationCleartextPassword));
          phase = { name: "password", identity, params: p };
        } else {
          send(encodeOne((out) => AuthenticationSASL(out, [SCRAM_MECHANISM])));
          phase = { name: "sasl-initial", identity, params: p, creds };
        }
        return;
      }
    }
  };

  const authenticated = async (identity: TenantIdentity, params: Record<string, string>, route: Route): Promise<void> => {
    const forwarded: Record<string, string> = {};
    for (const [k, v] of Object.entries(params)) if (k !== "user" && k !== "database") forwarded[k] = v;
    const headers = new Headers({ upgrade: "websocket", [PGWIRE_HEADERS.startup]: JSON.stringify(forwarded) });
    headers.set(PGWIRE_HEADERS.user, identity.user ?? params["user"] ?? "warren");
    headers.set(PGWIRE_HEADERS.database, identity.database ?? params["database"] ?? "defaultdb");
    // An operator's suspend or a deny-list entry ends the session from outside: FATAL, then close.
    endSession = ctx.admitSession(route, (err) => finish(err, "terminated"));
    // The process id must be unique among the tenant's sessions in its gateway; on the rare clash
    // (about sessions / 2^31) the gateway says so and a fresh pair is issued.
    let res: Response | null = null;
    for (let attempt = 0; attempt < limits.backendKeyAttemptsMax && (res === null || res.status === BACKEND_KEY_TAKEN_STATUS); attempt++) {
      headers.set(PGWIRE_HEADERS.backendKey, formatBackendKey(await ctx.issueBackendKey(route.tenantId)));
      res = await ctx.openGateway(route, new Request("http://gateway/v2", { headers }));
    }
    const gateway = res!.webSocket;
    if (res!.status !== 101 || gateway === null) {
      throw new PgError("connection_failure", `the gateway of virtual cluster "${identity.tenant}" refused the connection (HTTP ${res!.status})`);
    }
    gateway.accept();
    clearTimeout(timer);
    phase = { name: "piping", gateway };
    let back: Promise<void> = Promise.resolve();
    gateway.addEventListener("message", (e) => {
      // The gateway session's first answer (AuthenticationOk … ReadyForQuery, or its FATAL): the
      // login's work is done.
      loginDone();
      back = back.then(async () => send(await frameBytes(e.data)));
    });
    gateway.addEventListener("close", (e) => {
      // 1000 is the gateway's own orderly close (Terminate, or after a FATAL it already sent). Any
      // other code means it went away mid-conversation (its isolate ended, say): tell the client in
      // Postgres terms rather than dropping the connection without a word.
      const err =
        e.code === 1000
          ? null
          : new PgError("connection_failure", `the gateway of virtual cluster "${identity.tenant}" ended the connection unexpectedly (WebSocket close ${e.code})`, {
              hint: "Reconnect; work not committed before this error was lost.",
            });
      void back.then(() => finish(err, "gateway closed"));
    });
    gateway.addEventListener("error", () => {
      void back.then(() => finish(new PgError("connection_failure", "the connection to the gateway failed")));
    });
    const pending = auth.drain();
    if (pending.length > 0) gateway.send(pending);
  };

  const onAuthMessage = async (type: string, body: Uint8Array): Promise<void> => {
    if (type !== "p") {
      throw new PgError("protocol_violation", `expected a password or SASL response, got message type "${type}" before authentication completed`);
    }
    const r = new BodyReader(body, phase.name === "password" ? "PasswordMessage" : "SASLResponse");
    switch (phase.name) {
      case "password": {
        const password = r.cstring();
        r.end();
        const route = await ctx.authenticate(phase.identity.tenant, password);
        return authenticated(phase.identity, phase.params, route);
      }
      case "sasl-initial": {
        const mechanism = r.cstring();
        if (mechanism !== SCRAM_MECHANISM) throw new PgError("protocol_violation", "client selected an invalid SASL authentication mechanism");
        const len = r.int32();
        const data = len < 0 ? "" : new TextDecoder().decode(r.bytes(len));
        r.end();
        const exchange = new ScramServerExchange(phase.creds.verifier);
        send(encodeOne((out) => AuthenticationSASLContinue(out, exchange.clientFirst(data))));
        phase = { ...phase, name: "sasl-final", exchange };
        return;
      }
      case "sasl-final": {
        const data = new TextDecoder().decode(r.rest());
        const final = await phase.exchange.clientFinal(data);
        if (final === null) {
          await ctx.loginFailed(phase.identity.tenant).catch(() => undefined);
          throw new PgError("invalid_password", `password authentication failed for user "${phase.identity.user ?? phase.params["user"] ?? ""}"`, {
            detail: `virtual cluster "${phase.identity.tenant}"`,
          });
        }
        send(encodeOne((out) => AuthenticationSASLFinal(out, final)));
        return authenticated(phase.identity, phase.params, phase.creds.route);
      }
      default:
        throw new PgError("internal_error", `authentication message in phase ${phase.name}`);
    }
  };

  const onBytes = async (bytes: Uint8Array): Promise<void> => {
    if (phase.name === "piping") {
      phase.gateway.send(bytes);
      return;
    }
    if (phase.name === "startup") {
      if (ticket?.evicted) throw ticket.evicted;
      startup.push(bytes);
      for (let p = startup.next(); p !== null && phase.name === "startup"; p = startup.next()) await onStartup(p);
      // onStartup may have moved the phase on (TypeScript cannot see that through the call).
      const now = phase as Phase;
      if (now.name === "startup" || now.name === "closed") return;
      bytes = new Uint8Array(0); // the rest went to the message reader
    }
    auth.push(bytes);
    for (let f = auth.next(); f !== null; f = auth.next()) {
      if (phase.name !== "password" && phase.name !== "sasl-initial" && phase.name !== "sasl-final") {
        // Authentication completed inside this batch of bytes: the rest already went to the gateway.
        return;
      }
      await onAuthMessage(f.type, f.body);
    }
  };

  server.addEventListener("message", (event) => {
    chain = chain.then(async () => {
      if (phase.name === "closed") return;
      try {
        await onBytes(await frameBytes(event.data));
      } catch (err) {
        finish(toPgError(err));
      }
    });
  });
  server.addEventListener("close", () => {
    void chain.then(() => finish(null, "client closed"));
  });
  return new Response(null, { status: 101, webSocket: client });
}
