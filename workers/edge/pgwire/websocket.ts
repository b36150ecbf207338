// GET /v2: the Postgres wire protocol over a WebSocket (Neon's path, and what `warren tunnel`
// connects to). Today this does the startup only: answer SSLRequest with 'N', read the
// StartupMessage, find the tenant from user / options / database (and the Host header), and reply
// with an ErrorResponse: 3D000 for an unknown tenant, 0A000 for a known one, because the protocol
// after startup is a later issue. Then close.
import { PgError, toPgError } from "../../../common/errors.ts";
import { identifyTenant } from "../tenant-identity.ts";
import { limits } from "../limits.ts";
import { encodeErrorResponse, NO_ENCRYPTION, StartupReader, type StartupPacket } from "./startup.ts";

export interface StartupContext {
  /** The Host header of the upgrade request (for the host-label form). */
  host: string | undefined;
  /** Confirms the tenant exists and may connect; throws PgError (3D000, 57P03, …) otherwise. */
  lookupTenant(name: string): Promise<unknown>;
}

/**
 * A binary frame's bytes. Depending on the compatibility date a binary message arrives as an
 * ArrayBuffer or as a Blob (the standard binaryType default), so both are accepted.
 */
async function frameBytes(data: unknown): Promise<Uint8Array> {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof Blob) return new Uint8Array(await data.arrayBuffer());
  throw new PgError("protocol_violation", "expected binary WebSocket frames");
}

export function acceptPgWebSocket(ctx: StartupContext): Response {
  const pair = new WebSocketPair();
  const [client, server] = [pair[0], pair[1]];
  server.accept();
  const reader = new StartupReader(limits.startupMessageBytesMax);
  let done = false;
  let chain: Promise<void> = Promise.resolve();

  const finish = (err: PgError) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    try {
      server.send(encodeErrorResponse(err));
      server.close(1000, err.code);
    } catch {
      // The client went away first; nothing left to tell it.
    }
  };
  const timer = setTimeout(
    () => finish(new PgError("protocol_violation", "no startup message received in time")),
    limits.startupTimeoutMs,
  );

  const handle = async (packet: StartupPacket) => {
    switch (packet.kind) {
      case "SSLRequest":
      case "GSSENCRequest":
        server.send(NO_ENCRYPTION);
        return;
      case "CancelRequest":
        // Nothing runs on this path yet, so there is nothing to cancel; Postgres closes silently too.
        done = true;
        clearTimeout(timer);
        server.close(1000, "cancel");
        return;
      case "StartupMessage": {
        const p = packet.parameters;
        const identity = identifyTenant({ user: p["user"], database: p["database"], options: p["options"], host: ctx.host });
        await ctx.lookupTenant(identity.tenant);
        throw new PgError("feature_not_supported", "the Postgres wire protocol over WebSocket is not served yet", {
          detail: `virtual cluster "${identity.tenant}" exists; only its HTTP API (POST /sql) is available today.`,
          hint: "Use the HTTP API (POST /sql, e.g. @neondatabase/serverless neon()) for now.",
        });
      }
    }
  };

  server.addEventListener("message", (event) => {
    chain = chain.then(async () => {
      if (done) return;
      try {
        reader.push(await frameBytes(event.data));
        for (let packet = reader.next(); packet && !done; packet = reader.next()) await handle(packet);
      } catch (err) {
        finish(toPgError(err));
      }
    });
  });
  server.addEventListener("close", () => {
    done = true;
    clearTimeout(timer);
  });
  return new Response(null, { status: 101, webSocket: client });
}
