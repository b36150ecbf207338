// `warren fleet move NAME --to SHARD`: moves a tenant to another shard of a running
// `warren dev --shards N` fleet, online (storage-node/moves/tenant-move.ts;
// storage-node/replication/README.md "Tenant moves"). The tenant's id comes from the admin API,
// the fleet's nodes from DATA/storage/fleet/fleet.json, the FleetDirectory through the edge in
// DATA/ready.json, with the fleet secret in DATA/fleet-secret.
import fs from "node:fs";
import path from "node:path";
import { CliError, type Command } from "../command.ts";
import { dataPaths, readJson } from "../data-dir.ts";
import type { CommandSpec } from "../options.ts";
import { admin, connectionOptions, target } from "./tenant.ts";

const spec: CommandSpec = {
  name: "fleet move",
  summary: "Move a tenant to another shard of the storage fleet, online.",
  positionals: [{ name: "NAME", description: "tenant (virtual cluster) name", required: true }],
  options: [{ name: "to", kind: "integer", required: true, valueName: "SHARD", description: "the shard to move it to" }, ...connectionOptions],
};

interface FleetFile {
  readonly host: string;
  readonly nodes: ReadonlyArray<{ readonly id: string; readonly shardId: number; readonly kvPort: number; readonly replPort: number }>;
}

export const fleetMoveCommand: Command = {
  spec,
  async run(args, io) {
    const name = args.positional(0);
    const t = target(args, io);
    if (t.ready === undefined) throw new CliError("`warren fleet move` needs a running `warren dev --shards N` (its DATA/ready.json)");
    const tenant = await admin(() => t.client.getTenant(name));
    if (tenant === undefined) throw new CliError(`no tenant named ${name}`);
    const paths = dataPaths(path.resolve(io.cwd, args.string("data-dir")));
    let fleet: FleetFile | undefined;
    try {
      fleet = readJson<FleetFile>(path.join(paths.storage, "fleet", "fleet.json"));
    } catch (err) {
      throw new CliError(`no storage fleet here: ${(err as Error).message}`, "start `warren dev --shards 2` (or more) first");
    }
    if (fleet === undefined) throw new CliError(`no storage fleet here: ${path.join(paths.storage, "fleet", "fleet.json")} is missing`, "start `warren dev --shards 2` (or more) first");
    const byId = new Map(fleet.nodes.map((n) => [n.id, { kvUrl: `http://${fleet.host}:${n.kvPort}`, replUrl: `http://${fleet.host}:${n.replPort}` }]));
    const fleetSecret = fs.readFileSync(paths.fleetSecret, "utf8").trim();
    // Imported when run, so the other commands do not load the storage node's modules.
    const { moveTenant, MoveFailed } = await import("../../storage-node/moves/tenant-move.ts");
    const { HttpDirectory } = await import("../../storage-node/replication/directory-client.ts");
    const { replicationLimits } = await import("../../storage-node/replication/limits.ts");
    const directory = new HttpDirectory(t.ready.http, fleetSecret, replicationLimits.leaseMs);
    try {
      const r = await moveTenant({ directory: (op) => directory.call(op), nodes: { get: (id) => byId.get(id) }, fleetSecret, shards: [...new Set(fleet.nodes.map((n) => n.shardId))], log: (line) => io.err(line + "\n"), onStep: (step) => io.err(`${name}: ${step}\n`) }, Number(tenant.id), args.integer("to"));
      if (r.fromShard === r.toShard) {
        io.out(`${name} is on shard ${r.toShard} already${r.completedEarlierRun ? " (an earlier move's leftover copy purged)" : ""}\n`);
        return 0;
      }
      if (r.completedEarlierRun) {
        io.out(`${name} moved from shard ${r.fromShard} to shard ${r.toShard}: an earlier run had copied it and shard ${r.toShard} served it; placement switched and shard ${r.fromShard}'s copy purged (placement version ${r.placementVersion})\n`);
        return 0;
      }
      io.out(`${name} moved from shard ${r.fromShard} to shard ${r.toShard}: ${r.keysCopied} keys copied, writes paused ${r.fencedMs.toFixed(0)} ms at most (placement version ${r.placementVersion})\n`);
      return 0;
    } catch (err) {
      if (err instanceof MoveFailed) throw new CliError(err.message);
      throw err;
    }
  },
};
