// The edge's part of interactive transactions over POST /sql: open the client's Warren-Transaction
// handle into the state the gateway continues, and seal the state the gateway sends back into the
// next handle. The gateway's part: workers/gateway/http/interactive-txn.ts; the protocol:
// workers/gateway/http/README.md.
import { PgError } from "../../common/errors.ts";
import { secretOf } from "../../durable-objects/env.ts";
import type { Route } from "../../durable-objects/router/tenant-router.ts";
import { TXN_HEADERS } from "../gateway/edge-contract.ts";
import { limits } from "./limits.ts";
import { TXN_HANDLE_HEADER, TxnHandleSealer } from "./txn-handle.ts";

/** The sealer from TXN_HANDLE_SECRET, or why there is none (the edge then offers no HTTP transactions). */
export type SealerOrMissing = { sealer: TxnHandleSealer } | { missing: string };

export async function sealerFromEnv(env: { readonly [name: string]: unknown }): Promise<SealerOrMissing> {
  const s = secretOf(env, "TXN_HANDLE_SECRET");
  if ("missing" in s) return { missing: s.missing };
  return { sealer: await TxnHandleSealer.fromSecret(s.value) };
}

/**
 * Puts the transaction's state and expiry on the request for the gateway (headers only the edge
 * sets; the client's copies were dropped). Returns the handle's expiry, or null when this edge
 * cannot seal handles (then the gateway refuses to leave a transaction open).
 */
export async function openTxnHandle(request: Request, headers: Headers, route: Route, sealing: SealerOrMissing, nowMs: number): Promise<number | null> {
  const handle = request.headers.get(TXN_HANDLE_HEADER);
  if ("missing" in sealing) {
    if (handle !== null) throw new PgError("config_file_error", `interactive transactions over HTTP are not available: ${sealing.missing}`);
    return null;
  }
  if (handle === null) {
    // A BEGIN in this request would start a transaction whose handle expires then.
    const expiresAtMs = nowMs + limits.txnHandleLifetimeMs;
    headers.set(TXN_HEADERS.expiresAtMs, String(expiresAtMs));
    return expiresAtMs;
  }
  const opened = await sealing.sealer.open(handle, route.tenantId, nowMs);
  headers.set(TXN_HEADERS.state, toBase64(opened.state));
  headers.set(TXN_HEADERS.expiresAtMs, String(opened.expiresAtMs));
  return opened.expiresAtMs;
}

/** The gateway's response with its transaction state (if any) sealed into Warren-Transaction. */
export async function sealTxnResponse(res: Response, route: Route, sealing: SealerOrMissing, expiresAtMs: number | null): Promise<Response> {
  const state = res.headers.get(TXN_HEADERS.state);
  if (state === null) return res;
  const headers = new Headers(res.headers);
  headers.delete(TXN_HEADERS.state);
  if ("missing" in sealing || expiresAtMs === null) {
    // The gateway only sends a state when the edge gave it an expiry: a bug, and the state must not leak.
    throw new PgError("internal_error", "the gateway sent a transaction state this edge cannot seal");
  }
  const bytes = fromBase64(state);
  if (bytes === null) throw new PgError("internal_error", "the gateway sent a transaction state that is not base64");
  headers.set(TXN_HANDLE_HEADER, await sealing.sealer.seal(route.tenantId, expiresAtMs, bytes));
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(text: string): Uint8Array | null {
  try {
    const s = atob(text);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}
