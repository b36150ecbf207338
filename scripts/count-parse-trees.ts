// How much of the gateway outside sql/parse and sql/bind still handles the parser's untyped JSON
// tree (issue 9: "no parse-tree `any` outside sql/parse and sql/bind"). Counts, in the gateway's
// non-test files outside those two folders, every mention of the tree type `PgNode` or unwrapping
// of the opaque `StatementTree` handle (`treeOf(`), and, among
// them, every cast to it (`as PgNode`, `as PgNode[]`, …): each is a place that reads a tree no type
// checks. `npm run count:parse-trees` prints the figures; count-parse-trees.test.ts fails when
// they rise above CEILING, and when they fall below it (then lower CEILING), so they only go down.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";

/** The figures as of the last change that lowered them. */
export const CEILING = { mentions: 0, casts: 0, files: 0 } as const;

/** Where the tree may be read: the parser and the binder. */
const EXEMPT = ["workers/gateway/sql/parse/", "workers/gateway/sql/bind/"];

export interface ParseTreeCount {
  mentions: number;
  casts: number;
  files: number;
  byFile: Array<{ file: string; mentions: number; casts: number }>;
}

function tsFiles(dir: string, out: string[]): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) tsFiles(p, out);
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") && !e.name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

export function countParseTrees(root: string): ParseTreeCount {
  const byFile: ParseTreeCount["byFile"] = [];
  for (const path of tsFiles(join(root, "workers", "gateway"), [])) {
    const file = relative(root, path).split(sep).join("/");
    if (EXEMPT.some((e) => file.startsWith(e))) continue;
    const text = readFileSync(path, "utf8");
    // treeOf() unwraps the opaque StatementTree handle into the tree: a read of it, counted too.
    const mentions = (text.match(/\bPgNode\b|\btreeOf\(/g) ?? []).length;
    const casts = (text.match(/\bas\s+PgNode\b/g) ?? []).length;
    if (mentions > 0) byFile.push({ file, mentions, casts });
  }
  byFile.sort((a, b) => b.mentions - a.mentions);
  return {
    mentions: byFile.reduce((n, f) => n + f.mentions, 0),
    casts: byFile.reduce((n, f) => n + f.casts, 0),
    files: byFile.length,
    byFile,
  };
}

if (import.meta.main) {
  const c = countParseTrees(join(import.meta.dirname, ".."));
  for (const f of c.byFile) console.log(`${String(f.mentions).padStart(4)} ${String(f.casts).padStart(4)}  ${f.file}`);
  console.log(`parse trees outside sql/parse and sql/bind: ${c.mentions} mentions of PgNode, ${c.casts} casts, in ${c.files} files (ceiling ${CEILING.mentions} / ${CEILING.casts} / ${CEILING.files})`);
}
