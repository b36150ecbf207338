// `warren storage-node`: runs one storage node of the fleet in the foreground (the storage
// engineer's startStorageNode), for operators and containers. `warren dev` starts the same server.
import fs from "node:fs";
import path from "node:path";
import { CliError, type Command } from "../command.ts";
import { UsageError, type CommandSpec } from "../options.ts";
import { waitForStopSignal } from "../signals.ts";

const spec: CommandSpec = {
  name: "storage-node",
  summary: "Run a storage node (LMDB) in the foreground until SIGINT/SIGTERM.",
  positionals: [],
  options: [
    { name: "data-dir", kind: "string", required: true, valueName: "DIR", description: "directory for the LMDB files" },
    { name: "port", kind: "port", required: true, description: "HTTP port to listen on (0 picks a free one)" },
    { name: "host", kind: "string", default: "127.0.0.1", description: "address to listen on" },
    {
      name: "secret-file",
      kind: "string",
      valueName: "FILE",
      description: "file holding the fleet secret (else WARREN_FLEET_SECRET)",
    },
  ],
};

export const storageNodeCommand: Command = {
  spec,
  async run(args, io) {
    const secretFile = args.optionalString("secret-file");
    let fleetSecret: string | undefined;
    if (secretFile !== undefined) {
      try {
        fleetSecret = fs.readFileSync(path.resolve(io.cwd, secretFile), "utf8").trim();
      } catch (err) {
        throw new CliError(`cannot read --secret-file ${secretFile}: ${(err as Error).message}`);
      }
    } else {
      fleetSecret = io.env.WARREN_FLEET_SECRET;
    }
    if (fleetSecret === undefined || fleetSecret === "") {
      throw new UsageError(spec.name, "no fleet secret: pass --secret-file FILE or set WARREN_FLEET_SECRET");
    }
    // The same floor common/tenant-token.ts enforces for the HMAC key, reported before LMDB opens.
    if (fleetSecret.length < 16) throw new UsageError(spec.name, "the fleet secret must be at least 16 characters");
    // Imported when run, so the other commands do not pay for loading LMDB.
    const { startStorageNode } = await import("../../storage-node/server.ts");
    const node = await startStorageNode({
      dataDir: path.resolve(io.cwd, args.string("data-dir")),
      port: args.integer("port"),
      host: args.string("host"),
      fleetSecret,
      log: (line) => io.err(line + "\n"),
    });
    io.out(`storage node listening on ${node.url}\n`);
    await waitForStopSignal();
    await node.close();
    return 0;
  },
};
