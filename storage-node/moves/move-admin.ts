// The KV service's admin routes for tenant moves (system token; replication/README.md "Tenant moves"):
//
//   POST /v1/admin/tenant-fence   {"tenantId": N}         → {tenantId, clockAtLeast}
//        this node stops serving N: every request of N from now on is refused with tenant_moved
//        (HTTP 421, nothing applied), and a writer job orders the fence after every commit posted
//        before it. clockAtLeast: a timestamp above every one this node has handed out.
//   POST /v1/admin/tenant-import?tenantId=N[&first=1]  body: an encoded group entry (the tenant's keys)
//        → {tenantId, ops}: written as one writer transaction (one log entry); the node refuses N
//        until it adopts it.
//   POST /v1/admin/tenant-adopt   {"tenantId": N, "clockAtLeast": "…"}  → {tenantId, message}
//        this node serves N, its clock moved above clockAtLeast first.
//   POST /v1/admin/tenant-purge   {"tenantId": N}         → {tenantId, removed}: N's state deleted
//        from this node in bounded steps (N must have moved away); the moved marker stays.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { KvError } from "../../common/kv-protocol/messages.ts";
import { assertTenantId, SYSTEM_TENANT_ID } from "../../common/tenant-prefix.ts";
import type { HybridClock } from "../hlc.ts";
import type { StorageLimits } from "../limits.ts";
import type { KvService } from "../service.ts";
import type { WriterClient } from "../writer/writer-client.ts";

export interface MoveAdminDeps {
  service: KvService;
  writer: WriterClient;
  clock: HybridClock;
  limits: StorageLimits;
  log: (line: string) => void;
  readBody: (req: IncomingMessage, maxBytes: number) => Promise<Uint8Array>;
  sendJson: (res: ServerResponse, status: number, value: unknown) => void;
  jsonError: (res: ServerResponse, e: KvError) => void;
}

export const MOVE_ADMIN_PATHS = ["/v1/admin/tenant-fence", "/v1/admin/tenant-import", "/v1/admin/tenant-adopt", "/v1/admin/tenant-purge"] as const;

function tenantOf(raw: unknown): number {
  const tenantId = typeof raw === "string" ? Number(raw) : raw;
  assertTenantId(tenantId as number);
  if (tenantId === SYSTEM_TENANT_ID) throw new RangeError("the system tenant (1) does not move");
  return tenantId as number;
}

/** Handles one of MOVE_ADMIN_PATHS (POST only). */
export async function moveAdmin(d: MoveAdminDeps, path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const err = await d.service.authenticateSystem(req.headers.authorization);
  if (err) return d.jsonError(res, err);
  if (req.method !== "POST") return d.jsonError(res, { code: "malformed_request", message: `use POST ${path}` });
  const url = new URL(req.url ?? "/", "http://node");
  let tenantId: number;
  let body: Uint8Array;
  let json: Record<string, unknown> = {};
  try {
    if (path === "/v1/admin/tenant-import") {
      tenantId = tenantOf(url.searchParams.get("tenantId"));
      body = await d.readBody(req, d.limits.moveChunkBytesMax);
    } else {
      body = await d.readBody(req, d.limits.adminBodyBytesMax);
      json = JSON.parse(new TextDecoder().decode(body)) as Record<string, unknown>;
      tenantId = tenantOf(json.tenantId);
    }
  } catch (e) {
    return d.jsonError(res, { code: "malformed_request", message: `${path}: ${e instanceof Error ? e.message : String(e)}` });
  }
  if (d.service.dropped.has(tenantId)) return d.jsonError(res, { code: "tenant_dropped", message: `tenant ${tenantId} has been dropped; it is not moved` });
  const refused = (message: string) => d.sendJson(res, 409, { error: { code: "move_refused", message } });

  if (path === "/v1/admin/tenant-fence") {
    // Refused here from now on; the writer job refuses whatever was already past this check.
    d.service.moved.add(tenantId);
    const reply = await d.writer.submit({ kind: "move", step: { op: "fence", tenantId } });
    if (!reply.ok) return refused(new TextDecoder().decode(reply.response));
    // Above every timestamp handed out so far (reads included), since the fence is in place.
    const clockAtLeast = d.clock.next();
    d.log(`tenant ${tenantId} fenced for a move (clock ${clockAtLeast})`);
    return d.sendJson(res, 200, { tenantId, clockAtLeast: clockAtLeast.toString() });
  }
  if (path === "/v1/admin/tenant-import") {
    d.service.moved.add(tenantId);
    const reply = await d.writer.submit({ kind: "move", step: { op: "import", tenantId, first: url.searchParams.get("first") === "1", ops: body } });
    if (!reply.ok) return refused(new TextDecoder().decode(reply.response));
    return d.sendJson(res, 200, { tenantId, ops: reply.removed ?? 0 });
  }
  if (path === "/v1/admin/tenant-adopt") {
    let clockAtLeast: bigint;
    try {
      if (typeof json.clockAtLeast !== "string" || !/^\d{1,20}$/.test(json.clockAtLeast)) throw new RangeError("clockAtLeast must be a decimal string");
      clockAtLeast = BigInt(json.clockAtLeast);
    } catch (e) {
      return d.jsonError(res, { code: "malformed_request", message: `${path}: ${e instanceof Error ? e.message : String(e)}` });
    }
    // The clock first: no timestamp at or below one the source handed out is issued for the tenant here.
    d.clock.observe(clockAtLeast);
    const reply = await d.writer.submit({ kind: "move", step: { op: "adopt", tenantId, clockAtLeast } });
    if (!reply.ok) return refused(new TextDecoder().decode(reply.response));
    d.service.moved.delete(tenantId);
    const message = new TextDecoder().decode(reply.response);
    d.log(`tenant ${tenantId} adopted: ${message}`);
    return d.sendJson(res, 200, { tenantId, message });
  }
  if (!d.service.moved.has(tenantId)) return refused(`tenant ${tenantId} is served by this node; only a tenant that moved away is purged`);
  const reply = await d.writer.submit({ kind: "purge", tenantId });
  d.log(`tenant ${tenantId} purged after its move: ${reply.removed ?? 0} keys removed`);
  return d.sendJson(res, 200, { tenantId, removed: reply.removed ?? 0 });
}
