// `warren dev` (what `npm start` runs): the whole stack on this machine. See dev-stack.ts.
import path from "node:path";
import type { Command } from "../command.ts";
import { devReadyTimeoutMs } from "../limits.ts";
import type { CommandSpec } from "../options.ts";

const spec: CommandSpec = {
  name: "dev",
  summary: "Run the local stack (storage node, edge Worker and Durable Objects, tunnel) until Ctrl-C.",
  positionals: [],
  options: [
    { name: "data-dir", kind: "string", env: "WARREN_DATA_DIR", default: ".warren", valueName: "DIR", description: "where data, secrets and logs live" },
    { name: "http-port", kind: "port", env: "WARREN_HTTP_PORT", default: "8787", description: "edge HTTP/WebSocket port" },
    { name: "pg-port", kind: "port", env: "WARREN_PG_PORT", default: "26257", description: "Postgres (tunnel) port" },
    { name: "storage-port", kind: "port", env: "WARREN_STORAGE_PORT", default: "0", description: "storage node port (0: a free one)" },
    { name: "inspector-port", kind: "port", env: "WARREN_INSPECTOR_PORT", default: "0", description: "wrangler's devtools port (0: a free one)" },
    {
      name: "ready-timeout-ms",
      kind: "integer",
      env: "WARREN_READY_TIMEOUT_MS",
      default: String(devReadyTimeoutMs),
      valueName: "MS",
      description: "give up (and stop everything) if the stack is not answering by then",
    },
    { name: "shards", kind: "integer", env: "WARREN_SHARDS", default: "0", valueName: "N", description: "run a replicated storage fleet of N shards (0: one storage node)" },
    { name: "replicas", kind: "integer", env: "WARREN_REPLICAS", default: "3", valueName: "R", description: "replicas per shard with --shards (1-5)" },
    { name: "verbose", kind: "boolean", env: "WARREN_VERBOSE", description: "echo every child's output to stderr" },
  ],
  notes:
    "Prints one line beginning `warren ready` and writes DATA/ready.json once every part answers.\n" +
    "Everything listens on 127.0.0.1. Child output goes to DATA/logs/*.log. A second start on the same\n" +
    "data dir keeps tenants and rows. Connection details: DATA/ready.json (removed on stop).",
};

export const devCommand: Command = {
  spec,
  async run(args, io) {
    const { runDevStack } = await import("../dev-stack.ts");
    return runDevStack({
      dataDir: path.resolve(io.cwd, args.string("data-dir")),
      host: "127.0.0.1",
      httpPort: args.integer("http-port"),
      pgPort: args.integer("pg-port"),
      storagePort: args.integer("storage-port"),
      inspectorPort: args.integer("inspector-port"),
      readyTimeoutMs: args.integer("ready-timeout-ms"),
      verbose: args.flag("verbose"),
      shards: args.integer("shards"),
      replicas: args.integer("replicas"),
      out: io.out,
      err: io.err,
    });
  },
};
