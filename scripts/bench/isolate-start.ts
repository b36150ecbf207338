// What a new gateway isolate's start costs in V8 itself, outside workerd: the bundled gateway
// module (dist/gateway, what the Worker Loader receives) compiled and evaluated in a fresh Node
// process, and the parser's WebAssembly compiled from its bytes. Node runs the same engine (V8),
// so these are the CPU floors of "module evaluation" and "WebAssembly compile" in a new isolate;
// workerd adds its own isolate set-up (globals, nodejs_compat) on top, which the cold-start
// section's end-to-end figures include.
//
// Each sample is a fresh child process (no V8 compilation cache, no code cache); the child measures
// the CPU time of only the work, not its own start (CPU time, because wall time on a shared
// 2-core machine mostly measures the neighbours).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { summarize, type LatencySummary } from "../../test/isolation/noisy-neighbour.ts";

export interface IsolateStartResult {
  readonly bundleBytes: number;
  readonly wasmBytes: number;
  /** Compile + evaluate the gateway bundle (top level only, as a new isolate does). */
  readonly moduleEval: LatencySummary;
  /** new WebAssembly.Module(bytes) for libpg-query.wasm. */
  readonly wasmCompile: LatencySummary;
}

const distDir = path.resolve(import.meta.dirname, "..", "..", "dist", "gateway");

/** The gateway.js module text out of dist/gateway/gateway-modules.js, with its .wasm import replaced by a global. */
function gatewayModuleText(): string {
  const file = fs.readFileSync(path.join(distDir, "gateway-modules.js"), "utf8");
  const at = file.indexOf('"gateway.js": ');
  if (at < 0) throw new Error("dist/gateway/gateway-modules.js has no gateway.js module; run npm run build:gateway");
  const rest = file.slice(at + '"gateway.js": '.length);
  // The module text is one JSON string literal: find its end by parsing progressively longer prefixes.
  const end = rest.indexOf('",\n');
  const code = JSON.parse(rest.slice(0, end + 1)) as string;
  return code.replace(/^import (\w+) from "\.\/libpg-query\.wasm";$/m, "const $1 = globalThis.__gatewayWasm;");
}

const CHILD = `
const fs = require("node:fs");
const { pathToFileURL } = require("node:url");
const [modFile, wasmFile] = process.argv.slice(1);
(async () => {
  const bytes = fs.readFileSync(wasmFile);
  // CPU time of this thread's work (process.cpuUsage also counts V8's helper threads, which is
  // where background compilation runs): stable on a busy machine, unlike wall time.
  const cpuMs = (u) => (u.user + u.system) / 1000;
  let c = process.cpuUsage();
  globalThis.__gatewayWasm = new WebAssembly.Module(bytes);
  const wasmMs = cpuMs(process.cpuUsage(c));
  c = process.cpuUsage();
  await import(pathToFileURL(modFile).href);
  const evalMs = cpuMs(process.cpuUsage(c));
  process.stdout.write(JSON.stringify({ wasmMs, evalMs }));
})();
`;

export function runIsolateStart(samples: number, log: (line: string) => void): IsolateStartResult {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "warren-isolate-start-"));
  try {
    const text = gatewayModuleText();
    const wasmFile = path.join(distDir, "libpg-query.wasm");
    const evals: number[] = [];
    const compiles: number[] = [];
    for (let i = 0; i < samples; i++) {
      // A distinct file per sample; each child is a new process anyway.
      const modFile = path.join(dir, `gateway-${i}.mjs`);
      fs.writeFileSync(modFile, text);
      const out = execFileSync(process.execPath, ["-e", CHILD, modFile, wasmFile], { encoding: "utf8" });
      const r = JSON.parse(out) as { wasmMs: number; evalMs: number };
      evals.push(r.evalMs);
      compiles.push(r.wasmMs);
    }
    const result: IsolateStartResult = {
      bundleBytes: Buffer.byteLength(text),
      wasmBytes: fs.statSync(wasmFile).size,
      moduleEval: summarize(evals),
      wasmCompile: summarize(compiles),
    };
    log(
      `  gateway bundle ${(result.bundleBytes / 1024).toFixed(0)} KiB: compile + evaluate p50 ${result.moduleEval.p50.toFixed(1)} ms CPU; ` +
        `libpg-query.wasm ${(result.wasmBytes / 1024).toFixed(0)} KiB: compile p50 ${result.wasmCompile.p50.toFixed(1)} ms CPU (V8 in Node, fresh process each)`,
    );
    return result;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
