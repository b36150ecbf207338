// Moves one tenant from its shard to another, online (replication/README.md "Tenant moves"):
//
//   1. reserve:  the tenant's placement (shard, version) is read and the move reserved in the
//                FleetDirectory (beginMove: one move per tenant at a time)
//   2. copy:     export at the source's apply point S → import on the target (the first chunk
//                wipes what the target held of the tenant); the target refuses the tenant meanwhile
//   3. catch up: tails after S, imported, until a tail is short (writes keep going on the source)
//   4. fence + last tail, one round trip: the source refuses the tenant from here on
//                (tenant_moved, nothing applied, naming the target shard) and answers the
//                operations after the last tail through its apply point, with the digest of the
//                tenant's state there — the write pause starts
//   5. import + check + adopt, one transaction on the target: applied only if the tenant's state
//                then has the source's digest; the target serves the tenant — the pause ends for
//                every edge that followed the source's refusal
//   6. switch:   the directory's placement, compare-and-set on the version read in 1
//   7. purge:    the source deletes its copy (its moved marker stays, so it keeps refusing)
//
// Each step is sent to the shard's current leaseholder and may be sent twice (a lost answer is
// asked again): reads are reads, imports are puts and removes in order, the fence is a marker,
// and an import that would adopt a tenant already adopted does nothing. A failure before the
// adopt was sent cancels: the target is fenced (pointing back), the source serves again, the
// reservation ends. After it, the move only goes forward (the target may have taken writes the
// source lacks): `finishMove` settles it.
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
  /**
   * Told as each step of the move is sent (before its request): the fault tests use it to kill a
   * node at a chosen step (test/fleet/tenant-moves.test.ts, sql-move.test.ts); `warren fleet move`
   * prints them, so an operator sees where a move stopped.
   */
  onStep?: (step: MoveStep) => void;
  /**
   * Every shard of the fleet. With it, a move of a tenant already on the target (a mover that died
   * after the switch, run again) purges the copies other shards still hold; without it, such a move
   * is refused as before.
   */
  shards?: readonly number[];
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
  /** performance.now() in the mover's process when the fence was sent (to line a client's writes up with the pause). */
  fenceSentAtMs: number;
  /** From the fence request to the directory's answer to the switch: the longest a write can wait (plus an edge's re-read). */
  fencedMs: number;
  /** The fenced window's round trips, in order, with their milliseconds; "source …" and "target …" are parts of the round trip before them, as those nodes measured them. */
  fencedSteps: Record<string, number>;
  totalMs: number;
  /** An earlier run of this move had adopted the tenant on the target: this run only switched and purged. */
  completedEarlierRun?: boolean;
}

/** The steps of a move, in order (the header above). */
export type MoveStep = "reserve" | "export" | "import" | "catch-up" | "check" | "fence" | "adopt" | "switch" | "purge";

/** A move could not be done; the tenant is left where it was, served (unless `stuck`). */
export class MoveFailed extends Error {}

interface Tail {
  header: { through: number; ops: number; digest: string; digestOf?: "state" | "touched"; stateKeys: number; clockAtLeast?: string; fenceMs?: number; timing?: { readMs: number; digestMs: number } };
  chunks: Uint8Array[];
}

/** An answer that says the request was refused for good (not: the node was away or not the leaseholder). */
class Refused extends MoveFailed {}

/**
 * How long one step keeps trying a shard whose leaseholder is away (failing over, restarting): a
 * restarted leaseholder of a one-replica shard was seen to take ~30 s under load (node start, new
 * epoch after its lease, KV service start).
 */
const stepWaitMs = 60_000;
const stepRetryMs = 100;

class Mover {
  private token: string | undefined;
  private readonly d: MoveDeps;
  private readonly leaders = new Map<number, { kvUrl: string; replUrl: string }>();
  constructor(d: MoveDeps) {
    this.d = d;
  }

  private async auth(): Promise<string> {
    this.token ??= await mintTenantToken(this.d.fleetSecret, { tenantId: SYSTEM_TENANT_ID, expiresAtMs: Date.now() + 10 * 60_000 });
    return this.token;
  }

  private async leaseholder(shardId: number): Promise<{ kvUrl: string; replUrl: string }> {
    const cached = this.leaders.get(shardId);
    if (cached) return cached;
    const answer = await this.d.directory({ op: "current", shardId });
    if (!answer.ok || !answer.config) throw new Refused(`shard ${shardId}: ${answer.ok ? "no configuration" : answer.reason}`);
    const urls = this.d.nodes.get(answer.config.primary);
    if (!urls) throw new Refused(`shard ${shardId}'s primary ${answer.config.primary} has no known address`);
    this.leaders.set(shardId, urls);
    return urls;
  }

  /**
   * One request to shard `shardId`'s leaseholder (its KV service or its replication port), sent
   * again to whoever leads the shard while the node is away or answers that it does not lead
   * (409 from the replication port, 503 while starting or draining), for up to stepWaitMs. Every
   * step of a move may be sent twice (see the header), so a lost answer is simply asked again.
   */
  async call(shardId: number, port: "kv" | "repl", path: string, method: "GET" | "POST", body?: Uint8Array | object): Promise<Uint8Array> {
    const deadline = Date.now() + stepWaitMs;
    for (;;) {
      let why: string;
      try {
        const leader = await this.leaseholder(shardId);
        const url = (port === "kv" ? leader.kvUrl : leader.replUrl) + path;
        const binary = body instanceof Uint8Array;
        const res = await fetch(url, {
          method,
          headers: { authorization: `Bearer ${await this.auth()}`, "content-type": binary ? "application/octet-stream" : "application/json" },
          body: body === undefined ? undefined : binary ? new Uint8Array(body) : JSON.stringify(body),
          signal: AbortSignal.timeout(stepWaitMs),
        });
        const out = new Uint8Array(await res.arrayBuffer());
        if (res.status === 200) return out;
        why = `${method} ${url}: ${res.status} ${new TextDecoder().decode(out).slice(0, 500)}`;
        const notLeader = res.status === 503 || (res.status === 409 && port === "repl" && /not the leaseholder/.test(why));
        if (!notLeader) throw new Refused(why);
      } catch (err) {
        if (err instanceof Refused) throw err;
        why = `${method} shard ${shardId} ${path}: ${err instanceof Error ? `${err.message} ${String((err as { cause?: unknown }).cause ?? "")}` : String(err)}`;
      }
      this.leaders.delete(shardId);
      if (Date.now() + stepRetryMs > deadline) throw new MoveFailed(`${why} (for ${stepWaitMs} ms)`);
      await new Promise((r) => setTimeout(r, stepRetryMs));
    }
  }

  /** Whether shard `shardId` holds the tenant and serves it (no moved marker there). */
  async serves(shardId: number, tenantId: number): Promise<boolean> {
    return (await this.holds(shardId, tenantId)).served;
  }

  /** What shard `shardId` holds of the tenant: its keys, and whether it serves them. */
  async holds(shardId: number, tenantId: number): Promise<{ keys: number; served: boolean; sha256: string }> {
    return JSON.parse(new TextDecoder().decode(await this.call(shardId, "repl", `/v1/tenant-digest?tenant=${tenantId}`, "GET"))) as { keys: number; served: boolean; sha256: string };
  }

  async json(shardId: number, path: string, body: object): Promise<Record<string, unknown>> {
    return JSON.parse(new TextDecoder().decode(await this.call(shardId, "kv", path, "POST", body))) as Record<string, unknown>;
  }

  async tail(shardId: number, tenantId: number, after: number, fenceFor?: number): Promise<Tail> {
    const body =
      fenceFor === undefined
        ? await this.call(shardId, "repl", `/v1/tenant-tail?tenant=${tenantId}&after=${after}`, "GET")
        : await this.call(shardId, "repl", `/v1/tenant-fence?tenant=${tenantId}&after=${after}&toShard=${fenceFor}&digestOf=touched`, "POST");
    return decodeMoveBody<Tail["header"]>(body);
  }

  /**
   * `adopt`: the last chunk also adopts the tenant, if the target's state then has the source's
   * digest. Returns the last chunk's answer (with `adopt`: the target's {adopted, message, writerMs}).
   */
  async importChunks(shardId: number, tenantId: number, chunks: Uint8Array[], first: boolean, adopt?: { digest: string; digestOf: "state" | "touched"; clockAtLeast: string }): Promise<Record<string, unknown>> {
    // An empty tenant still needs the first import's wipe and marker; an empty last tail still adopts.
    if (chunks.length === 0 && (first || adopt !== undefined)) chunks = [new Uint8Array(0)];
    let answer: Record<string, unknown> = {};
    for (let i = 0; i < chunks.length; i++) {
      const last = i === chunks.length - 1 && adopt !== undefined ? `&adoptIfDigest=${adopt.digest}&digestOf=${adopt.digestOf}&clockAtLeast=${adopt.clockAtLeast}` : "";
      const body = await this.call(shardId, "kv", `/v1/admin/tenant-import?tenantId=${tenantId}&toShard=${shardId}${first && i === 0 ? "&first=1" : ""}${last}`, "POST", chunks[i]!);
      answer = JSON.parse(new TextDecoder().decode(body)) as Record<string, unknown>;
    }
    return answer;
  }
}

export async function moveTenant(d: MoveDeps, tenantId: number, toShard: number): Promise<MoveResult> {
  const log = d.log ?? (() => {});
  const tell = d.onStep ?? (() => {});
  const m = new Mover(d);
  const startedMs = performance.now();
  const placed = await d.directory({ op: "placeTenant", tenantId });
  if (!placed.ok || !placed.config) throw new MoveFailed(`tenant ${tenantId} has no placement: ${placed.ok ? "no configuration" : placed.reason}`);
  const fromShard = placed.config.shardId;
  const version = placed.placementVersion ?? 1;
  if (fromShard === toShard && d.shards !== undefined) {
    // Placed there already: an earlier run of this move that died between the switch and the
    // purge left the source's copy (fenced, so never served, but on its disk). Purged here.
    const purged = await purgeLeftovers(m, tenantId, toShard, d.shards);
    log(`tenant ${tenantId} is on shard ${toShard} already; ${purged.length > 0 ? `purged its copy on shard ${purged.join(", ")}` : "no other shard holds a copy"}`);
    return { tenantId, fromShard, toShard, placementVersion: version, keysCopied: 0, catchUpRounds: 0, fencedTailOps: 0, fenceSentAtMs: NaN, fencedMs: 0, fencedSteps: {}, totalMs: performance.now() - startedMs, completedEarlierRun: purged.length > 0 };
  }
  // 1. The reservation: no other move of this tenant gets past here until this one ends.
  tell("reserve");
  const begun = await d.directory({ op: "beginMove", tenantId, fromShard, toShard, placementVersion: version });
  if (!begun.ok) throw new MoveFailed(`tenant ${tenantId}: ${begun.reason}`);
  // A move run again after its mover stopped past the adopt (killed, or its whole stack restarted):
  // the target already serves the tenant, the source is fenced, only the switch and the purge are
  // left. Copying again would be refused (the target takes no import into a tenant it serves) and
  // cancel the move, leaving the tenant fenced on the source and placed there: served nowhere.
  // A target that holds the tenant with no moved marker got it from an adopt: the tenant is placed
  // on the source, so no edge ever routed it to the target, and a target it once moved away from
  // keeps its marker (test/fleet/sql-move.test.ts kills everything mid-move and runs it again).
  if (await m.serves(toShard, tenantId)) {
    tell("switch");
    const switched = await completeAdopted(m, d, tenantId, fromShard, toShard, version);
    log(`tenant ${tenantId}: an earlier run of this move had adopted it on shard ${toShard}; placement switched and shard ${fromShard} purged`);
    return { tenantId, fromShard, toShard, placementVersion: switched, keysCopied: 0, catchUpRounds: 0, fencedTailOps: 0, fenceSentAtMs: NaN, fencedMs: 0, fencedSteps: {}, totalMs: performance.now() - startedMs, completedEarlierRun: true };
  }

  let fenceSent = false;
  let adoptSent = false;
  try {
    // 2. Copy at S.
    tell("export");
    const exported = decodeMoveBody<{ seq: number; keys: number }>(await m.call(fromShard, "repl", `/v1/tenant-export?tenant=${tenantId}`, "GET"));
    tell("import");
    await m.importChunks(toShard, tenantId, exported.chunks, true);
    let at = exported.header.seq;
    // 3. Catch up while writes go on.
    let rounds = 0;
    let stateDigest = "";
    for (; rounds < (d.catchUpRoundsMax ?? 3); rounds++) {
      tell("catch-up");
      const t = await m.tail(fromShard, tenantId, at);
      tell("import");
      await m.importChunks(toShard, tenantId, t.chunks, false);
      at = t.header.through;
      stateDigest = t.header.digest;
      if (t.header.ops <= (d.catchUpOpsMax ?? 2_000)) break;
    }
    // The whole state checked here, before the fence: the target's state now must be the source's
    // at `at` (the last tail's digest). Inside the pause only the keys the fenced tail touches are
    // compared (a digest of the whole tenant there took 1.6 s of a 3.5 s pause at 20,000 keys:
    // bench:moves), which with this check makes the whole states equal (tenant-keys.ts touchedKeysDigest).
    tell("check");
    const held = await m.holds(toShard, tenantId);
    if (held.sha256 !== stateDigest) throw new Refused(`tenant ${tenantId}'s copy on shard ${toShard} (${held.keys} keys) differs from shard ${fromShard}'s at log position ${at}`);

    // 4 and 5 in one round trip: the source fences the tenant (its refusals name the target from
    // now on), then reads the tail through its apply point (after the fence) and the digest of the
    // tenant's state there. The write pause begins.
    const fencedAtMs = performance.now();
    const steps: Record<string, number> = {};
    let stepAtMs = fencedAtMs;
    const step = (name: string) => {
      const now = performance.now();
      steps[name] = Math.round(now - stepAtMs);
      stepAtMs = now;
    };
    fenceSent = true;
    tell("fence");
    const last = await m.tail(fromShard, tenantId, at, toShard);
    step("fence+tail");
    // Inside that round trip, as the source measured it: its fence made durable, the tail read, the digest.
    steps["source fence"] = last.header.fenceMs ?? NaN;
    steps["source tail"] = last.header.timing?.readMs ?? NaN;
    steps["source digest"] = last.header.timing?.digestMs ?? NaN;
    // 5 and 6 in one transaction on the target: the tail, the digest check, the adopt. Edges that
    // followed the source's refusals are served from the moment it commits.
    adoptSent = true;
    tell("adopt");
    const adopted = await m.importChunks(toShard, tenantId, last.chunks, false, { digest: last.header.digest, digestOf: last.header.digestOf ?? "state", clockAtLeast: last.header.clockAtLeast! });
    step("import+adopt");
    // Inside it, as the target measured it: the adopting transaction (queued, applied, durable) and its digest check.
    steps["target writer"] = typeof adopted.writerMs === "number" ? adopted.writerMs : NaN;
    steps["target digest"] = Number(/digest checked in (\d+) ms/.exec(String(adopted.message))?.[1] ?? NaN);
    // 7. The placement switches (edges without the hint learn it here); from the adopt on the move
    // only goes forward: the target may have taken writes, so it is never cancelled.
    tell("switch");
    const switched = await switchPlacement(d, tenantId, fromShard, toShard, version);
    step("switch");
    const fencedMs = performance.now() - fencedAtMs;
    // 8. The source's copy goes (bounded steps on the source's writer).
    tell("purge");
    await m.json(fromShard, "/v1/admin/tenant-purge", { tenantId });
    const result: MoveResult = {
      tenantId,
      fromShard,
      toShard,
      placementVersion: switched,
      keysCopied: exported.header.keys,
      catchUpRounds: rounds,
      fencedTailOps: last.header.ops,
      fenceSentAtMs: fencedAtMs,
      fencedMs,
      fencedSteps: steps,
      totalMs: performance.now() - startedMs,
    };
    log(`tenant ${tenantId} moved ${fromShard} → ${toShard}: ${result.keysCopied} keys, ${rounds} catch-up rounds, ${result.fencedTailOps} ops while fenced, fenced ${fencedMs.toFixed(0)} ms, total ${result.totalMs.toFixed(0)} ms`);
    return result;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    if (adoptSent) {
      // The adopt may have committed (its answer lost): never cancel then (the target may have
      // taken writes the source lacks). Left for a rerun (or `finishMove`) to settle.
      throw new MoveFailed(`tenant ${tenantId}: ${why}; the target may have adopted the tenant: run the move again to the same shard, which completes it (it is not cancelled)`);
    }
    if (!fenceSent) {
      await d.directory({ op: "cancelMove", tenantId }).catch(() => {});
      throw new MoveFailed(`tenant ${tenantId}: ${why}; move cancelled before the fence (nothing changed for its clients)`);
    }
    try {
      await cancel(m, d, tenantId, fromShard, toShard);
    } catch (cancelErr) {
      throw new MoveFailed(`tenant ${tenantId}: ${why}; and the cancel failed: ${cancelErr instanceof Error ? cancelErr.message : String(cancelErr)} (the tenant stays fenced: run the move again)`);
    }
    throw new MoveFailed(`tenant ${tenantId}: ${why}; move cancelled`);
  }
}

/** The directory's switch, asked again while it does not answer; an answer lost after it applied is recognised. */
async function switchPlacement(d: MoveDeps, tenantId: number, fromShard: number, toShard: number, version: number): Promise<number> {
  const deadline = Date.now() + stepWaitMs;
  for (;;) {
    try {
      const switched = await d.directory({ op: "moveTenant", tenantId, fromShard, toShard, placementVersion: version });
      if (switched.ok) return switched.placementVersion ?? version + 1;
      const now = await d.directory({ op: "placeTenant", tenantId });
      if (now.ok && now.config?.shardId === toShard && (now.placementVersion ?? 1) === version + 1) return version + 1;
      throw new Refused(`the directory refused the switch: ${switched.reason}`);
    } catch (err) {
      if (err instanceof Refused || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, stepRetryMs));
    }
  }
}

/**
 * After the adopt: the source fenced again (a marker already there; it makes sure the source
 * refuses the tenant before anyone is sent to the target), the placement switched, the source purged.
 */
async function completeAdopted(m: Mover, d: MoveDeps, tenantId: number, fromShard: number, toShard: number, version: number): Promise<number> {
  await m.json(fromShard, "/v1/admin/tenant-fence", { tenantId, toShard });
  const switched = await switchPlacement(d, tenantId, fromShard, toShard, version);
  await m.json(fromShard, "/v1/admin/tenant-purge", { tenantId });
  return switched;
}

/**
 * The copies of a tenant placed on `placedOn` that other shards still hold after a move (they are
 * fenced there: a moved marker, so never served), purged. Only once `placedOn` serves the tenant;
 * another shard that serves it too is a broken invariant, not a leftover, and is left alone.
 */
async function purgeLeftovers(m: Mover, tenantId: number, placedOn: number, shards: readonly number[]): Promise<number[]> {
  if (!(await m.serves(placedOn, tenantId))) throw new Refused(`tenant ${tenantId} is placed on shard ${placedOn}, which does not serve it`);
  const purged: number[] = [];
  for (const shardId of shards) {
    if (shardId === placedOn) continue;
    const held = await m.holds(shardId, tenantId);
    if (held.served) throw new Refused(`tenant ${tenantId} is placed on shard ${placedOn} but shard ${shardId} serves it too; nothing is purged`);
    if (held.keys === 0) continue;
    await m.json(shardId, "/v1/admin/tenant-purge", { tenantId });
    purged.push(shardId);
  }
  return purged;
}

/** Before the adopt: the target is fenced (pointing back at the source), then the source serves again. */
async function cancel(m: Mover, d: MoveDeps, tenantId: number, fromShard: number, toShard: number): Promise<void> {
  await m.json(toShard, "/v1/admin/tenant-fence", { tenantId, toShard: fromShard });
  await m.json(fromShard, "/v1/admin/tenant-adopt", { tenantId, clockAtLeast: "0" });
  await d.directory({ op: "cancelMove", tenantId });
}

/**
 * Settles a move whose mover stopped after it sent the adopt (moveTenant says so): if the target
 * serves the tenant, the placement switches and the source is purged; if it does not, the move is
 * cancelled (the target fenced, the source serving again).
 */
export async function finishMove(d: MoveDeps, tenantId: number, fromShard: number, toShard: number): Promise<"finished" | "cancelled"> {
  const m = new Mover(d);
  const placed = await d.directory({ op: "placeTenant", tenantId });
  if (!placed.ok || !placed.config) throw new MoveFailed(`tenant ${tenantId} has no placement`);
  const version = placed.placementVersion ?? 1;
  if (placed.config.shardId === toShard) {
    await m.json(fromShard, "/v1/admin/tenant-purge", { tenantId });
    return "finished";
  }
  if (await m.serves(toShard, tenantId)) {
    await completeAdopted(m, d, tenantId, fromShard, toShard, version);
    return "finished";
  }
  await cancel(m, d, tenantId, fromShard, toShard);
  return "cancelled";
}
