// `node storage-node/main.ts --data-dir DIR --port N [--host H]`, fleet secret from
// WARREN_FLEET_SECRET (limit overrides, optional: WARREN_STORAGE_LIMITS as JSON). Prints `storage node listening on http://HOST:PORT` once ready; SIGTERM or
// SIGINT drains in-flight requests and exits 0.
import { parseArgs } from "node:util";
import { resolveLimits, type StorageLimits } from "./limits.ts";
import { startStorageNode } from "./server.ts";

function fail(message: string): never {
  process.stderr.write(`storage node: ${message}\n`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      "data-dir": { type: "string" },
      port: { type: "string" },
      host: { type: "string" },
    },
    strict: true,
  }));
} catch (err) {
  fail(`${err instanceof Error ? err.message : String(err)}\nusage: storage-node --data-dir DIR --port N [--host H]`);
}
const dataDir = values["data-dir"];
if (!dataDir) fail("--data-dir DIR is required");
const port = Number(values.port ?? "");
if (!Number.isInteger(port) || port < 0 || port > 65535) fail("--port N is required (0 picks a free port)");
const fleetSecret = process.env.WARREN_FLEET_SECRET ?? "";
if (fleetSecret.length < 16) {
  fail("WARREN_FLEET_SECRET is not set (or shorter than 16 characters): set it to the secret shared with the control plane");
}

// Optional limit overrides (storage-node/limits.ts names), e.g. WARREN_STORAGE_LIMITS='{"tenantRuPerSecond":2000}'.
let limits: Partial<StorageLimits> = {};
if (process.env.WARREN_STORAGE_LIMITS) {
  try {
    limits = JSON.parse(process.env.WARREN_STORAGE_LIMITS) as Partial<StorageLimits>;
    resolveLimits(limits);
  } catch (err) {
    fail(`WARREN_STORAGE_LIMITS is not valid: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const node = await startStorageNode({
  dataDir,
  port,
  host: values.host ?? "127.0.0.1",
  fleetSecret,
  limits,
  log: (line) => process.stderr.write(`${line}\n`),
});
process.stdout.write(`storage node listening on ${node.url}\n`);

let stopping = false;
for (const sig of ["SIGTERM", "SIGINT"] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    node.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`storage node: error while draining: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  });
}
