// StorageNodeContainer: one storage node of the deployed fleet as a Cloudflare Container (the
// storage-node/Dockerfile image, declared in wrangler.toml [[containers]]), one Durable Object per
// node, named by its node id (fleet-layout.ts). The object
//   * starts its container with the node's identity (WARREN_NODE_ID, WARREN_SHARD, WARREN_PEERS),
//     the FleetDirectory's address (FLEET_EDGE_URL: this Worker's own public URL, whose
//     POST /fleet/v1/op reaches the FleetDirectory) and the fleet secret, and starts it again
//     whenever it stops (an alarm every CHECK_EVERY_MS; the entry script already restarts a
//     deposed leaseholder inside the container, storage-node/container-entry.sh);
//   * forwards requests to the container: the replication routes to REPLICATION_PORT, everything
//     else (the KV API) to KV_PORT;
//   * intercepts the container's HTTP to `<peer>.fleet.warren.internal` and sends it to that
//     peer's object, so containers reach each other without routable addresses.
// The container's disk is not persistent on this platform: a restarted container starts empty and
// rebuilds from a peer's snapshot (storage-node/replication/README.md, "Snapshots and log
// truncation"); that is why a deployed shard needs at least 3 replicas.
//
// Checked here: `wrangler deploy --dry-run` (test/fleet/deploy-dry-run.test.ts). Not run on the
// platform (no account on these machines): the interception and the lifecycle are written against
// the runtime's Container API as documented, not observed.
import { DurableObject } from "cloudflare:workers";
import { fleetShape, KV_PORT, parseNodeId, peersOf, PEER_HOST_SUFFIX, REPLICATION_PORT } from "./fleet-layout.ts";

/** How often the object checks that its container runs. */
const CHECK_EVERY_MS = 10_000;
const REPLICATION_PATHS = new Set(["/v1/replication", "/v1/state", "/v1/digest", "/v1/snapshot"]);

export interface StorageContainerEnv {
  STORAGE_CONTAINERS: DurableObjectNamespace<StorageNodeContainer>;
  FLEET_SHARDS?: string;
  FLEET_REPLICAS?: string;
  /** This Worker's public URL (https://warren-edge.<account>.workers.dev): the FleetDirectory's address for the nodes. */
  FLEET_EDGE_URL?: string;
  FLEET_SECRET?: string;
}

export class StorageNodeContainer extends DurableObject<StorageContainerEnv> {
  /** Starts the container if it is not running (idempotent); throws when this object is not a fleet node. */
  private async ensureStarted(nodeName: string): Promise<Container> {
    const container = this.ctx.container;
    if (!container) throw new Error("this runtime has no containers (local `wrangler dev` runs them only with Docker)");
    if (container.running) return container;
    const shape = fleetShape(this.env.FLEET_SHARDS, this.env.FLEET_REPLICAS);
    const node = parseNodeId(nodeName, shape);
    if (!node) throw new Error(`${nodeName} is not a node of a fleet of ${shape.shards} shards × ${shape.replicas} replicas`);
    if (!this.env.FLEET_SECRET || this.env.FLEET_SECRET.length < 32) throw new Error("FLEET_SECRET is not set (wrangler secret put FLEET_SECRET)");
    if (!this.env.FLEET_EDGE_URL) throw new Error("FLEET_EDGE_URL is not set (this Worker's public URL)");
    container.start({
      enableInternet: true, // the FleetDirectory through FLEET_EDGE_URL
      env: {
        WARREN_NODE_ID: nodeName,
        WARREN_SHARD: String(node.shard),
        WARREN_PEERS: peersOf(node.shard, node.replica, shape),
        WARREN_DIRECTORY_URL: this.env.FLEET_EDGE_URL,
        WARREN_FLEET_SECRET: this.env.FLEET_SECRET,
      },
    });
    for (let r = 1; r <= shape.replicas; r++) {
      if (r === node.replica) continue;
      const peer = `s${node.shard}r${r}`;
      await container.interceptOutboundHttp(`${peer}.${PEER_HOST_SUFFIX}`, this.env.STORAGE_CONTAINERS.get(this.env.STORAGE_CONTAINERS.idFromName(peer)));
    }
    await this.ctx.storage.put("node", nodeName);
    await this.ctx.storage.setAlarm(Date.now() + CHECK_EVERY_MS);
    return container;
  }

  override async fetch(request: Request): Promise<Response> {
    // The caller names the node in the header (the object cannot read its own name from its id).
    const nodeName = request.headers.get("x-warren-node") ?? (await this.ctx.storage.get<string>("node"));
    if (!nodeName) return Response.json({ error: "x-warren-node is required on the first request" }, { status: 400 });
    let container: Container;
    try {
      container = await this.ensureStarted(nodeName);
    } catch (err) {
      return Response.json({ error: err instanceof Error ? err.message : String(err) }, { status: 503 });
    }
    const url = new URL(request.url);
    const port = REPLICATION_PATHS.has(url.pathname) ? REPLICATION_PORT : KV_PORT;
    return container.getTcpPort(port).fetch(`http://container${url.pathname}${url.search}`, request);
  }

  override async alarm(): Promise<void> {
    const nodeName = await this.ctx.storage.get<string>("node");
    if (nodeName) await this.ensureStarted(nodeName);
    await this.ctx.storage.setAlarm(Date.now() + CHECK_EVERY_MS);
  }
}
