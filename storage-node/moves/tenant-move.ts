// Moves one tenant from its shard to another, online (replication/README.md "Tenant moves"):
//
//   1. read the tenant's placement (shard, version) and both shards' leaseholders
//   2. copy:     export at the source's apply point S → import on the target (first chunk wipes
//                what the target held of the tenant); the target refuses the tenant meanwhile
//   3. catch up: tails after S, imported, until a tail is short (writes keep going on the source)
//   4. fence:    the source refuses the tenant from here on (tenant_moved, nothing applied; the
//                edge re-reads the placement and retries) — the write pause starts
//   5. tail:     the last operations through the source's apply point A (after the fence), with
//                the digest of the tenant's whole state at A; imported; the target's digest must
//                equal it, or the move is cancelled
//   6. adopt:    the target serves the tenant, its clock above every timestamp the source issued
//   7. switch:   the directory's placement, compare-and-set on the version read in 1 — the pause
//                ends as soon as edges read it
//   8. purge:    the source deletes its copy (its moved marker stays, so it keeps refusing)
//
// A failure before 7 cancels: the target is fenced again (if it had adopted) and the source
// adopts the tenant back. A mover that dies leaves the tenant fenced (unavailable) until the move
// is run again: every step can be repeated (the export works on a fenced tenant, the import
// starts over), or cancelled with `cancelMove`.
import { SYSTEM_TENANT_ID } from "../../common/tenant-prefix.ts";
import { mintTenantToken } from "../../common/tenant-token.ts";
import type { DirectoryResult } from "../../common/fleet/directory-state.ts";
import type { FleetOp } from "../../common/fleet/directory-protocol.ts";
import { decodeMoveBody } from "./move-wire.ts";

export interface MoveNodes {
  /** Node id → its KV service URL (the leaseholder's admin routes) and replication URL. */
  readonly get: (nodeId: string) => { kvUrl: string; replUrl: string } | undefined;
}

export interface MoveDeps {
  directory: (op: FleetOp) => Promise<DirectoryResult>;
  nodes: MoveNodes;
  fleetSecret: string;
  log?: (line: string) => void;
  /** Catch-up rounds stop once a tail has at most this many operations (or after catchUpRoundsMax). */
  catchUpOpsMax?: number;
  catchUpRoundsMax?: number;
}

export interface MoveResult {
  tenantId: number;
  fromShard: number;
  toShard: number;
  placementVersion: number;
  keysCopied: number;
  catchUpRounds: number;
  /** Operations in the tail read after the fence. */
  fencedTailOps: number;
  /** From the fence request to the directory's answer to the switch: the longest a write can wait (plus an edge's re-read). */
  fencedMs: number;
  totalMs: number;
}

/** A move could not be done; the tenant is left where it was, served (unless `stuck`). */
export class MoveFailed extends Error {}

interface Tail {
  header: { through: number; ops: number; digest: string; stateKeys: number };
  chunks: Uint8Array[];
}

class Mover {
  private token: string | undefined;
  private readonly d: MoveDeps;
  constructor(d: MoveDeps) {
    this.d = d;
  }

  private async auth(): Promise<string> {
    this.token ??= await mintTenantToken(this.d.fleetSecret, { tenantId: SYSTEM_TENANT_ID, expiresAtMs: Date.now() + 10 * 60_000 });
    return this.token;
  }

  async leaseholder(shardId: number): Promise<{ id: string; kvUrl: string; replUrl: string }> {
    const answer = await this.d.directory({ op: "current", shardId });
    if (!answer.ok || !answer.config) throw new MoveFailed(`shard ${shardId}: ${answer.ok ? "no configuration" : answer.reason}`);
    const urls = this.d.nodes.get(answer.config.primary);
    if (!urls) throw new MoveFailed(`shard ${shardId}'s primary ${answer.config.primary} has no known address`);
    return { id: answer.config.primary, ...urls };
  }

  async get(url: string): Promise<Uint8Array> {
    const res = await fetch(url, { headers: { authorization: `Bearer ${await this.auth()}` }, signal: AbortSignal.timeout(30_000) }).catch((err: unknown) => {
      throw new MoveFailed(`GET ${url}: ${err instanceof Error ? `${err.message} ${String((err as { cause?: unknown }).cause ?? "")}` : String(err)}`);
    });
    const body = new Uint8Array(await res.arrayBuffer());
    if (res.status !== 200) throw new MoveFailed(`GET ${url}: ${res.status} ${new TextDecoder().decode(body)}`);
    return body;
  }

  async post(url: string, body: Uint8Array | object): Promise<Record<string, unknown>> {
    const binary = body instanceof Uint8Array;
    const res = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${await this.auth()}`, "content-type": binary ? "application/octet-stream" : "application/json" },
      body: binary ? new Uint8Array(body) : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    }).catch((err: unknown) => {
      throw new MoveFailed(`POST ${url}: ${err instanceof Error ? `${err.message} ${String((err as { cause?: unknown }).cause ?? "")}` : String(err)}`);
    });
    const text = await res.text();
    if (res.status !== 200) throw new MoveFailed(`POST ${url}: ${res.status} ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  }

  async tail(replUrl: string, tenantId: number, after: number): Promise<Tail> {
    return decodeMoveBody<Tail["header"]>(await this.get(`${replUrl}/v1/tenant-tail?tenant=${tenantId}&after=${after}`));
  }

  async importChunks(kvUrl: string, tenantId: number, chunks: Uint8Array[], first: boolean): Promise<void> {
    if (first && chunks.length === 0) chunks = [new Uint8Array(0)]; // an empty tenant: the wipe and the marker still happen
    for (let i = 0; i < chunks.length; i++) {
      await this.post(`${kvUrl}/v1/admin/tenant-import?tenantId=${tenantId}${first && i === 0 ? "&first=1" : ""}`, chunks[i]!);
    }
  }
}

export async function moveTenant(d: MoveDeps, tenantId: number, toShard: number): Promise<MoveResult> {
  const log = d.log ?? (() => {});
  const m = new Mover(d);
  const startedMs = performance.now();
  const placed = await d.directory({ op: "placeTenant", tenantId });
  if (!placed.ok || !placed.config) throw new MoveFailed(`tenant ${tenantId} has no placement: ${placed.ok ? "no configuration" : placed.reason}`);
  const fromShard = placed.config.shardId;
  const version = placed.placementVersion ?? 1;
  if (fromShard === toShard) throw new MoveFailed(`tenant ${tenantId} is already on shard ${toShard}`);
  const src = await m.leaseholder(fromShard);
  const dst = await m.leaseholder(toShard);

  // 2. Copy at S.
  const exported = decodeMoveBody<{ seq: number; keys: number }>(await m.get(`${src.replUrl}/v1/tenant-export?tenant=${tenantId}`));
  await m.importChunks(dst.kvUrl, tenantId, exported.chunks, true);
  let at = exported.header.seq;
  // 3. Catch up while writes go on.
  let rounds = 0;
  for (; rounds < (d.catchUpRoundsMax ?? 3); rounds++) {
    const t = await m.tail(src.replUrl, tenantId, at);
    await m.importChunks(dst.kvUrl, tenantId, t.chunks, false);
    at = t.header.through;
    if (t.header.ops <= (d.catchUpOpsMax ?? 2_000)) break;
  }

  // 4. Fence: the pause begins.
  const fencedAtMs = performance.now();
  const fence = await m.post(`${src.kvUrl}/v1/admin/tenant-fence`, { tenantId });
  let adopted = false;
  try {
    // 5. The last tail, through an apply point after the fence, and the check.
    const last = await m.tail(src.replUrl, tenantId, at);
    await m.importChunks(dst.kvUrl, tenantId, last.chunks, false);
    const digest = JSON.parse(new TextDecoder().decode(await m.get(`${dst.replUrl}/v1/tenant-digest?tenant=${tenantId}`))) as { sha256: string; keys: number };
    if (digest.sha256 !== last.header.digest) {
      throw new MoveFailed(`tenant ${tenantId}: the target's state (${digest.keys} keys) differs from the source's (${last.header.stateKeys} keys) after the copy`);
    }
    // 6. Adopt, 7. switch.
    await m.post(`${dst.kvUrl}/v1/admin/tenant-adopt`, { tenantId, clockAtLeast: fence.clockAtLeast });
    adopted = true;
    const switched = await d.directory({ op: "moveTenant", tenantId, fromShard, toShard, placementVersion: version });
    if (!switched.ok) throw new MoveFailed(`tenant ${tenantId}: the directory refused the switch: ${switched.reason}`);
    const fencedMs = performance.now() - fencedAtMs;
    // 8. The source's copy goes (in the background of the source's writer, bounded steps).
    await m.post(`${src.kvUrl}/v1/admin/tenant-purge`, { tenantId });
    const result: MoveResult = {
      tenantId,
      fromShard,
      toShard,
      placementVersion: switched.placementVersion ?? version + 1,
      keysCopied: exported.header.keys,
      catchUpRounds: rounds,
      fencedTailOps: last.header.ops,
      fencedMs,
      totalMs: performance.now() - startedMs,
    };
    log(`tenant ${tenantId} moved ${fromShard} → ${toShard}: ${result.keysCopied} keys, ${rounds} catch-up rounds, ${result.fencedTailOps} ops while fenced, fenced ${fencedMs.toFixed(0)} ms, total ${result.totalMs.toFixed(0)} ms`);
    return result;
  } catch (err) {
    // Was the switch applied after all (its answer lost)? Then the move is done but for the purge.
    const now = await d.directory({ op: "placeTenant", tenantId }).catch(() => undefined);
    if (now?.ok && now.config?.shardId === toShard) throw new MoveFailed(`tenant ${tenantId} moved to shard ${toShard}, but: ${err instanceof Error ? err.message : String(err)} (purge the source by hand)`);
    await cancel(m, tenantId, src.kvUrl, adopted ? dst.kvUrl : undefined);
    throw err instanceof MoveFailed ? err : new MoveFailed(`tenant ${tenantId}: ${err instanceof Error ? err.message : String(err)}; move cancelled`);
  }
}

async function cancel(m: Mover, tenantId: number, srcKvUrl: string, dstKvUrl: string | undefined): Promise<void> {
  // The target first: at no moment may both serve the tenant.
  if (dstKvUrl !== undefined) await m.post(`${dstKvUrl}/v1/admin/tenant-fence`, { tenantId });
  await m.post(`${srcKvUrl}/v1/admin/tenant-adopt`, { tenantId, clockAtLeast: "0" });
}

/** Makes the shard the directory places the tenant on serve it again (after a mover died mid-move). */
export async function cancelMove(d: MoveDeps, tenantId: number): Promise<void> {
  const m = new Mover(d);
  const placed = await d.directory({ op: "placeTenant", tenantId });
  if (!placed.ok || !placed.config) throw new MoveFailed(`tenant ${tenantId} has no placement`);
  const src = await m.leaseholder(placed.config.shardId);
  await m.post(`${src.kvUrl}/v1/admin/tenant-adopt`, { tenantId, clockAtLeast: "0" });
}
