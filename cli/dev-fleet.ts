// `warren dev --shards N --replicas R`: a real storage fleet on this machine. Each shard is R
// storage nodes (storage-node/replication/replicated-node.ts), each with its own data dir
// (DATA/storage/fleet/<node>), a KV port (served only while it holds the lease) and a replication
// port; the FleetDirectory Durable Object in the edge's workerd is their configuration manager.
// The edge gets STORAGE_NODES (node id → KV URL) and routes each tenant to its shard's leaseholder
// (workers/edge/storage-route.ts). Without --shards, `warren dev` runs today's single node.
import fs from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "./data-dir.ts";
import { HttpDirectory } from "../storage-node/replication/directory-client.ts";
import { replicationLimits } from "../storage-node/replication/limits.ts";
import { answersHttp, freePort, waitUntil } from "./ports.ts";

export interface FleetNode {
  readonly id: string;
  readonly shardId: number;
  readonly kvPort: number;
  readonly replPort: number;
  readonly dataDir: string;
}

export interface FleetPlan {
  readonly shards: number;
  readonly replicas: number;
  readonly nodes: readonly FleetNode[];
}

/** Issue 13: a shard has 1–5 replicas; a local fleet beyond 8 shards is more processes than a laptop wants. */
export const fleetBounds = { shardsMax: 8, replicasMin: 1, replicasMax: 5 } as const;

export async function planFleet(host: string, storageDir: string, shards: number, replicas: number): Promise<FleetPlan> {
  const nodes: FleetNode[] = [];
  for (let s = 1; s <= shards; s++) {
    for (let r = 1; r <= replicas; r++) {
      const id = `s${s}r${r}`;
      nodes.push({ id, shardId: s, kvPort: await freePort(host), replPort: await freePort(host), dataDir: path.join(storageDir, "fleet", id) });
    }
  }
  const plan = { shards, replicas, nodes };
  // DATA/storage/fleet/fleet.json: which node listens where (operators, tests, `kill` by hand).
  fs.mkdirSync(path.join(storageDir, "fleet"), { recursive: true, mode: 0o700 });
  writeFileAtomic(path.join(storageDir, "fleet", "fleet.json"), JSON.stringify({ host, ...plan }, null, 2) + "\n", 0o600);
  return plan;
}

export function fleetNodeArgs(main: string, plan: FleetPlan, node: FleetNode, host: string, edgeUrl: string): string[] {
  const peers = plan.nodes.filter((n) => n.shardId === node.shardId && n.id !== node.id).map((n) => `${n.id}=http://${host}:${n.replPort}`);
  return [
    main,
    ...["--id", node.id, "--shard", String(node.shardId)],
    ...["--port", String(node.kvPort), "--repl-port", String(node.replPort), "--host", host],
    ...["--data-dir", node.dataDir, "--directory", edgeUrl],
    ...(peers.length > 0 ? ["--peers", peers.join(",")] : []),
  ];
}

/** The edge's STORAGE_NODES: `id=url,…` (no JSON: it travels as a `--var`). */
export function storageNodesVar(plan: FleetPlan, host: string): string {
  return plan.nodes.map((n) => `${n.id}=http://${host}:${n.kvPort}`).join(",");
}

/**
 * Once the edge answers: creates each shard in the FleetDirectory (a shard that exists is left as
 * it is: a second start keeps its configuration) and waits for every shard's leaseholder to serve KV.
 */
export async function startFleetShards(plan: FleetPlan, host: string, edgeUrl: string, fleetSecret: string, deadlineMs: number, signal: AbortSignal): Promise<void> {
  const directory = new HttpDirectory(edgeUrl, fleetSecret, replicationLimits.leaseMs);
  for (let s = 1; s <= plan.shards; s++) {
    const members = plan.nodes.filter((n) => n.shardId === s);
    const existing = await directory.current(s);
    if (existing === undefined) {
      const created = await directory.call({ op: "createShard", shardId: s, replicas: members.map((n) => n.id) });
      if (!created.ok) throw new Error(`createShard ${s}: ${created.reason}`);
    }
    await waitUntil(
      `a leaseholder serving shard ${s}`,
      async () => {
        const c = await directory.current(s).catch(() => undefined);
        const primary = c && members.find((n) => n.id === c.primary);
        return primary !== undefined && (await answersHttp(`http://${host}:${primary.kvPort}/healthz`, (st) => st === 200));
      },
      deadlineMs,
      signal,
      200,
    );
  }
}
