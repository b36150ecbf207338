// The KV service's admin routes for tenant moves (system token; replication/README.md "Tenant moves"):
//
//   POST /v1/admin/tenant-fence   {"tenantId": N[, "toShard": S]}  → {tenantId, clockAtLeast}
//        this node stops serving N: every request of N from now on is refused with tenant_moved
//        (HTTP 421, nothing applied; header warren-tenant-shard: S when given), and a writer job
//        orders the fence after every commit posted before it. clockAtLeast: a timestamp above every one this node has handed out.
//   POST /v1/admin/tenant-import?tenantId=N[&first=1][&toShard=S][&adoptIfDigest=HEX&clockAtLeast=DEC]
//        body: an encoded group entry (the tenant's keys) → {tenantId, ops}: written as one writer
//        transaction (one log entry); the node refuses N until it adopts it. With adoptIfDigest:
//        the last chunk, and the adopt in the same transaction if N's state then has that digest.
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

/**
 * Fences the tenant on this node: refused by the HTTP thread from now on, and a writer job orders
 * the fence after every commit posted before it (and refuses whatever got past the first check).
 * Returns a timestamp above every one this node has handed out, reads included.
 */
export async function fenceTenantHere(d: Pick<MoveAdminDeps, "service" | "writer" | "clock" | "log">, tenantId: number, toShard?: number): Promise<{ clockAtLeast: bigint } | { refused: string }> {
  d.service.moved.set(tenantId, toShard ?? null);
  const reply = await d.writer.submit({ kind: "move", step: { op: "fence", tenantId } });
  if (!reply.ok) return { refused: new TextDecoder().decode(reply.response) };
  const clockAtLeast = d.clock.next();
  d.log(`tenant ${tenantId} fenced for a move (clock ${clockAtLeast})`);
  return { clockAtLeast };
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
      const declared = Number(req.headers["content-length"] ?? 0);
      if (declared > d.limits.moveChunkBytesMax) {
        return d.jsonError(res, { code: "limit_exceeded", message: `an import chunk is at most ${d.limits.moveChunkBytesMax} bytes (moveChunkBytesMax); this one has ${declared}` });
      }
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
    const toShard = json.toShard;
    if (toShard !== undefined && !(typeof toShard === "number" && Number.isSafeInteger(toShard) && toShard >= 1)) {
      return d.jsonError(res, { code: "malformed_request", message: `${path}: toShard must be a positive integer` });
    }
    const fenced = await fenceTenantHere(d, tenantId, toShard as number | undefined);
    if ("refused" in fenced) return refused(fenced.refused);
    return d.sendJson(res, 200, { tenantId, clockAtLeast: fenced.clockAtLeast.toString() });
  }
  const decimal = (v: unknown): bigint => {
    if (typeof v !== "string" || !/^\d{1,20}$/.test(v)) throw new RangeError("clockAtLeast must be a decimal string");
    return BigInt(v);
  };
  let adopt: { digest: string; clockAtLeast: bigint; digestOf: "state" | "touched" } | undefined;
  try {
    if (path === "/v1/admin/tenant-adopt") adopt = { digest: "", clockAtLeast: decimal(json.clockAtLeast), digestOf: "state" };
    const digest = url.searchParams.get("adoptIfDigest");
    if (path === "/v1/admin/tenant-import" && digest !== null) {
      if (!/^[0-9a-f]{64}$/.test(digest)) throw new RangeError("adoptIfDigest must be a sha256 in hex");
      const digestOf = url.searchParams.get("digestOf") ?? "state";
      if (digestOf !== "state" && digestOf !== "touched") throw new RangeError("digestOf must be state or touched");
      adopt = { digest, clockAtLeast: decimal(url.searchParams.get("clockAtLeast")), digestOf };
    }
  } catch (e) {
    return d.jsonError(res, { code: "malformed_request", message: `${path}: ${e instanceof Error ? e.message : String(e)}` });
  }
  // The clock first: no timestamp at or below one the source handed out is issued for the tenant here.
  if (adopt !== undefined) d.clock.observe(adopt.clockAtLeast);
  if (path === "/v1/admin/tenant-import" || path === "/v1/admin/tenant-adopt") {
    const first = url.searchParams.get("first") === "1";
    const submittedMs = performance.now();
    const reply = await d.writer.submit({
      kind: "move",
      step: path === "/v1/admin/tenant-import" ? { op: "import", tenantId, first, ops: body, adopt } : { op: "adopt", tenantId, clockAtLeast: adopt!.clockAtLeast },
    });
    if (!reply.ok) return refused(new TextDecoder().decode(reply.response));
    // Arriving: refused here until adopted. `toShard` (this node's shard, sent by the mover) makes
    // the refusal say "here": an edge that followed the source's hint waits and asks this node
    // again, instead of reading the placement (a directory round trip) and bouncing to the source.
    if (adopt === undefined) {
      const here = Number(url.searchParams.get("toShard") ?? NaN);
      d.service.moved.set(tenantId, Number.isSafeInteger(here) && here >= 1 ? here : null);
      return d.sendJson(res, 200, { tenantId, ops: reply.removed ?? 0 });
    }
    d.service.moved.delete(tenantId);
    const message = new TextDecoder().decode(reply.response);
    d.log(`tenant ${tenantId} adopted: ${message}`);
    // writerMs: the adopting transaction queued, applied (tail, digest check) and made durable.
    return d.sendJson(res, 200, { tenantId, adopted: true, message, writerMs: Math.round(performance.now() - submittedMs) });
  }
  if (!d.service.moved.has(tenantId)) return refused(`tenant ${tenantId} is served by this node; only a tenant that moved away is purged`);
  const reply = await d.writer.submit({ kind: "purge", tenantId });
  d.log(`tenant ${tenantId} purged after its move: ${reply.removed ?? 0} keys removed`);
  return d.sendJson(res, 200, { tenantId, removed: reply.removed ?? 0 });
}
