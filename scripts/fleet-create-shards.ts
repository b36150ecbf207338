// `node scripts/fleet-create-shards.ts EDGE_URL SHARDS REPLICAS` (FLEET_SECRET in the environment):
// creates shards 1..SHARDS in a deployed edge's FleetDirectory with the replicas s{shard}r{1..R}
// (the node ids of durable-objects/storage-container/fleet-layout.ts and of a self-hosted fleet
// that follows README.md, "Operating a storage fleet"). A shard that exists is left as it is, so
// running it again, or with more shards after raising FLEET_SHARDS, is safe.
import { nodeId, fleetShape } from "../durable-objects/storage-container/fleet-layout.ts";
import { HttpDirectory } from "../storage-node/replication/directory-client.ts";
import { replicationLimits } from "../storage-node/replication/limits.ts";

const [edgeUrl, shardsText, replicasText] = process.argv.slice(2);
const secret = process.env.FLEET_SECRET ?? "";
if (!edgeUrl || secret.length < 16) {
  process.stderr.write("usage: FLEET_SECRET=… node scripts/fleet-create-shards.ts EDGE_URL SHARDS REPLICAS\n");
  process.exit(2);
}
const shape = fleetShape(shardsText, replicasText);
const directory = new HttpDirectory(edgeUrl, secret, replicationLimits.leaseMs);
for (let s = 1; s <= shape.shards; s++) {
  const existing = await directory.current(s);
  if (existing !== undefined) {
    process.stdout.write(`shard ${s}: exists (epoch ${existing.epoch}, primary ${existing.primary}, replicas ${existing.replicas.join(", ")})\n`);
    continue;
  }
  const replicas = Array.from({ length: shape.replicas }, (_, i) => nodeId(s, i + 1));
  const created = await directory.call({ op: "createShard", shardId: s, replicas });
  if (!created.ok) throw new Error(`createShard ${s}: ${created.reason}`);
  process.stdout.write(`shard ${s}: created with replicas ${replicas.join(", ")}\n`);
}
