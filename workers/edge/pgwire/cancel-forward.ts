// A CancelRequest, at the edge: the pair names a tenant (or, forged, some unrelated id,
// backend-key.ts); if this isolate has sessions of that tenant, their gateway gets POST /cancel with
// the pair, as a request of its own, so the cancel never waits behind the running statement here.
// Bounded in time; never throws (a cancel that reaches nothing is not an error, and the client gets
// no reply either way).
import { formatBackendKey, type BackendKey } from "../../gateway/pgwire/backends.ts";
import { PGWIRE_HEADERS } from "../../gateway/edge-contract.ts";
import type { TenantRef } from "../gateway-env.ts";
import type { BackendKeyCodec } from "./backend-key.ts";

export interface CancelForwarding {
  keys: Promise<BackendKeyCodec>;
  /** The tenant of an id while this isolate has sessions of it (tenant-sessions.ts). */
  tenantWithSessions(tenantId: number): TenantRef | undefined;
  /**
   * Runs the request in the tenant's gateway; null when no gateway isolate of that tenant is known
   * here (then nothing can be cancelled, and none is created just for that).
   */
  fetchGateway(tenant: TenantRef, request: Request): Promise<Response> | null;
  /** limits.cancelForwardTimeoutMs unless a test overrides it. */
  timeoutMs: number;
}

export async function forwardCancel(key: BackendKey, f: CancelForwarding): Promise<void> {
  try {
    const tenant = f.tenantWithSessions(await (await f.keys).tenantOf(key));
    // No session of that tenant was opened through this isolate: there is nothing here to cancel
    // (README.md, "Cancelling a query", says what that means with many edge isolates).
    if (tenant === undefined) return;
    const request = new Request("http://gateway/cancel", { method: "POST", headers: { [PGWIRE_HEADERS.backendKey]: formatBackendKey(key) } });
    const answer = f.fetchGateway(tenant, request);
    if (answer === null) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), f.timeoutMs)));
    const res = await Promise.race([answer, timeout]);
    if (timer !== undefined) clearTimeout(timer);
    await res?.body?.cancel();
  } catch (err) {
    console.error("edge: forwarding a CancelRequest failed", err);
  }
}
