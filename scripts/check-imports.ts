// The import rule, checked: every static import points down the layers drawn here, and nowhere
// else. `npm test` runs it (scripts/check-imports.test.ts); `npm run check:imports` runs it alone.
//
// The layers, in one place. A module is a set of paths (a folder ending in "/" or a file); it may
// import its own files and the modules it `uses`, and, through them, whatever those use in turn
// (the closure), nothing else: an import of a module above, beside or outside that closure fails.
// The picture in README.md is printed from this table (`layersPicture()`), and the test checks
// that README.md shows it as printed.
//
// Not checked: `*.test.ts` files (a test may reach any layer to set up what it tests), `import()`
// expressions (the edge loads the gateway bundle, or the gateway itself inline, at run time), and
// imports of packages.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative, sep } from "node:path";

export interface ModuleRule {
  /** Folders (ending in "/") or files, relative to the repository root. The longest match names a file's module. */
  paths: readonly string[];
  /** Modules this one may import (and, transitively, whatever they may). */
  uses: readonly string[];
}

/** Lowest first. */
export const MODULES: Readonly<Record<string, ModuleRule>> = {
  common: { paths: ["common/"], uses: [] },
  "storage-node": { paths: ["storage-node/"], uses: ["common"] },
  "durable-objects": { paths: ["durable-objects/"], uses: ["common"] },
  // What the edge and the gateway agree on; the only part of the gateway the edge may import.
  "gateway/contract": {
    paths: [
      "workers/gateway/env.ts",
      "workers/gateway/edge-contract.ts",
      "workers/gateway/kv/capability.ts",
      // The wire codec (framing, message decoders and encoders) and backend-key format the edge
      // speaks too during startup and authentication, and the bounded body reader.
      "workers/gateway/pgwire/reader.ts",
      "workers/gateway/pgwire/frontend.ts",
      "workers/gateway/pgwire/backend.ts",
      "workers/gateway/pgwire/backends.ts",
      "workers/gateway/pgwire/limits.ts",
      // UTF-8 decoding with Postgres's 22021 naming the bytes, for the body reader's strings.
      "workers/gateway/pgwire/utf8.ts",
      "workers/gateway/http/body.ts",
      // The HTTP API's bounds, which the edge enforces before the gateway is reached (body size, handle size).
      "workers/gateway/http/limits.ts",
    ],
    uses: ["common"],
  },
  edge: { paths: ["workers/edge/"], uses: ["durable-objects", "gateway/contract"] },
  "gateway/kv": { paths: ["workers/gateway/kv/"], uses: ["gateway/contract"] },
  "gateway/keys": { paths: ["workers/gateway/keys/"], uses: ["common"] },
  "gateway/quota": { paths: ["workers/gateway/quota/"], uses: ["gateway/contract"] },
  "gateway/txn": { paths: ["workers/gateway/txn/"], uses: ["gateway/kv"] },
  "gateway/catalog": { paths: ["workers/gateway/catalog/"], uses: ["gateway/txn", "gateway/keys"] },
  "sql/limits": { paths: ["workers/gateway/sql/limits.ts"], uses: [] },
  "sql/types": { paths: ["workers/gateway/sql/types/"], uses: ["common", "sql/limits"] },
  "sql/parse": { paths: ["workers/gateway/sql/parse/"], uses: ["common", "sql/limits"] },
  "sql/functions": { paths: ["workers/gateway/sql/functions/"], uses: ["sql/types"] },
  "sql/bind": { paths: ["workers/gateway/sql/bind/"], uses: ["sql/parse", "sql/functions", "gateway/catalog"] },
  // Datums as key bytes (order-preserving), beside the types they encode; keys/ has the byte toolkit.
  "sql/rowenc": { paths: ["workers/gateway/sql/rowenc/"], uses: ["sql/types", "gateway/keys"] },
  "sql/exec": { paths: ["workers/gateway/sql/exec/"], uses: ["sql/bind", "sql/rowenc"] },
  "sql/plan": { paths: ["workers/gateway/sql/plan/"], uses: ["sql/exec"] },
  // The session, the statement runner and the prepared-statement contract (result.ts, prepared.ts).
  sql: { paths: ["workers/gateway/sql/"], uses: ["sql/plan"] },
  "sql/testing": { paths: ["workers/gateway/sql/testing/"], uses: ["sql"] },
  "gateway/pgwire": { paths: ["workers/gateway/pgwire/"], uses: ["sql", "sql/testing", "gateway/quota"] },
  "gateway/http": { paths: ["workers/gateway/http/"], uses: ["sql", "gateway/quota"] },
  gateway: { paths: ["workers/gateway/"], uses: ["gateway/pgwire", "gateway/http"] },
};

/**
 * Arrows that point up today, each to be removed by the change named beside it. The check fails
 * when an entry no longer matches any import, so this list can only shrink.
 */
export const ALLOWED: ReadonlyArray<{ from: string; to: string; why: string }> = [
];

export interface Violation {
  from: string;
  to: string;
  fromModule: string;
  toModule: string | null;
}

export interface CheckResult {
  violations: Violation[];
  /** ALLOWED entries that matched no import (remove them). */
  staleAllowed: Array<{ from: string; to: string }>;
  filesChecked: number;
}

const ROOTS = ["common", "storage-node", "durable-objects", "workers"];

/** Static `import … from "x"`, `import "x"`, `export … from "x"` (type-only ones included: they are dependencies too). */
const IMPORT = /^\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?["']([^"']+)["']/gm;

function posix(p: string): string {
  return p.split(sep).join("/");
}

export function moduleOf(file: string, modules: Readonly<Record<string, ModuleRule>> = MODULES): string | null {
  let best: string | null = null;
  let bestLen = -1;
  for (const [name, rule] of Object.entries(modules)) {
    for (const p of rule.paths) {
      const hit = p.endsWith("/") ? file.startsWith(p) : file === p;
      if (hit && p.length > bestLen) {
        best = name;
        bestLen = p.length;
      }
    }
  }
  return best;
}

/** Each module's closure of `uses`; throws if the table has a cycle or names an unknown module. */
export function reachable(modules: Readonly<Record<string, ModuleRule>> = MODULES): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const visiting = new Set<string>();
  const visit = (name: string): Set<string> => {
    const done = out.get(name);
    if (done !== undefined) return done;
    const rule = modules[name];
    if (rule === undefined) throw new Error(`check-imports: unknown module "${name}"`);
    if (visiting.has(name)) throw new Error(`check-imports: the layers have a cycle through "${name}"`);
    visiting.add(name);
    const set = new Set<string>();
    for (const u of rule.uses) {
      set.add(u);
      for (const v of visit(u)) set.add(v);
    }
    visiting.delete(name);
    out.set(name, set);
    return set;
  };
  for (const name of Object.keys(modules)) visit(name);
  return out;
}

function* sourceFiles(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === "node_modules" || e.name.startsWith(".")) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* sourceFiles(p);
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") && !e.name.endsWith(".test.ts")) yield p;
  }
}

function allowedBy(from: string, to: string, entry: { from: string; to: string }): boolean {
  const match = (file: string, pattern: string) => (pattern.endsWith("/") ? file.startsWith(pattern) : file === pattern);
  return match(from, entry.from) && match(to, entry.to);
}

export function checkImports(
  root: string,
  opts: { modules?: Readonly<Record<string, ModuleRule>>; allowed?: ReadonlyArray<{ from: string; to: string }> } = {},
): CheckResult {
  const modules = opts.modules ?? MODULES;
  const allowed = opts.allowed ?? ALLOWED;
  const closure = reachable(modules);
  const used = new Set<number>();
  const violations: Violation[] = [];
  let filesChecked = 0;
  for (const top of ROOTS) {
    let files: Generator<string>;
    try {
      readdirSync(join(root, top));
      files = sourceFiles(join(root, top));
    } catch {
      continue;
    }
    for (const abs of files) {
      filesChecked++;
      const from = posix(relative(root, abs));
      const fromModule = moduleOf(from, modules);
      if (fromModule === null) continue;
      const text = readFileSync(abs, "utf8");
      for (const m of text.matchAll(IMPORT)) {
        const spec = m[1]!;
        if (!spec.startsWith(".")) continue;
        const to = posix(normalize(relative(root, join(dirname(abs), spec))));
        const toModule = moduleOf(to, modules);
        if (toModule === fromModule) continue;
        if (toModule !== null && closure.get(fromModule)!.has(toModule)) continue;
        const i = allowed.findIndex((a) => allowedBy(from, to, a));
        if (i >= 0) {
          used.add(i);
          continue;
        }
        violations.push({ from, to, fromModule, toModule });
      }
    }
  }
  const staleAllowed = allowed.filter((_, i) => !used.has(i)).map(({ from, to }) => ({ from, to }));
  return { violations, staleAllowed, filesChecked };
}

/** The layers as README.md draws them: one line per module, highest first, with what it may import. */
export function layersPicture(modules: Readonly<Record<string, ModuleRule>> = MODULES): string {
  const names = Object.keys(modules).reverse();
  const width = Math.max(...names.map((n) => n.length));
  return names.map((n) => `${n.padEnd(width)}  → ${modules[n]!.uses.length === 0 ? "(nothing)" : modules[n]!.uses.join(", ")}`).join("\n");
}

function main(): void {
  const root = join(dirname(new URL(import.meta.url).pathname), "..");
  const r = checkImports(root);
  for (const v of r.violations) console.error(`upward import: ${v.from} (${v.fromModule}) → ${v.to} (${v.toModule ?? "outside every layer"})`);
  for (const s of r.staleAllowed) console.error(`stale allow-list entry (no such import any more; remove it): ${s.from} → ${s.to}`);
  const bad = r.violations.length + r.staleAllowed.length;
  console.log(`check-imports: ${r.filesChecked} files, ${r.violations.length} upward imports, ${ALLOWED.length} allowed for now, ${r.staleAllowed.length} stale allowances`);
  if (bad > 0) process.exitCode = 1;
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) main();
