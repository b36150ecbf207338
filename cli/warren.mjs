#!/usr/bin/env node
// The `warren` executable (package.json "bin"). The CLI is TypeScript run by Node's built-in type
// stripping (Node >= 22.18). Started by an older Node — the machine's own, outside npm scripts —
// it re-runs itself with the Node 22 that the `node` devDependency installs.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  const here = dirname(fileURLToPath(import.meta.url));
  const node22 = join(here, "..", "node_modules", "node", "bin", "node");
  if (!existsSync(node22) || process.env.WARREN_REEXEC === "1") {
    process.stderr.write(
      `warren needs Node.js >= 22.18 (this is ${process.version}); run it through npx or npm scripts, ` +
        "or install dependencies with `npm install` so node_modules provides Node 22.\n",
    );
    process.exit(1);
  }
  const child = spawn(node22, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: "inherit",
    env: { ...process.env, WARREN_REEXEC: "1" },
  });
  // Pass stop signals on, so `kill <pid>` of this wrapper stops the real CLI (and `warren dev`
  // still cleans up its children) instead of orphaning it.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 + 15 : 1)));
} else {
  const { runCli } = await import("./main.ts");
  await runCli();
}
