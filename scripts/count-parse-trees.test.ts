// The parse-tree count (count-parse-trees.ts) is a ratchet: it may only go down.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { CEILING, countParseTrees } from "./count-parse-trees.ts";

const root = join(dirname(new URL(import.meta.url).pathname), "..");

describe("parse trees outside sql/parse and sql/bind", () => {
  it("are no more than the ceiling, and the ceiling is lowered when they drop", () => {
    const c = countParseTrees(root);
    const figures = { mentions: c.mentions, casts: c.casts, files: c.files };
    // Above: a change added untyped tree reads outside the binder. Below: lower CEILING to these figures.
    expect(figures).toEqual(CEILING);
  });

  it("sees the trees where they are", () => {
    const c = countParseTrees(root);
    expect(c.byFile.some((f) => f.file.startsWith("workers/gateway/sql/bind/"))).toBe(false);
    expect(c.byFile.every((f) => f.mentions >= f.casts)).toBe(true);
  });

  it("counts a tree read outside parse/ and bind/: a PgNode, a cast to it, an unwrapped StatementTree; not in bind/ or in tests", () => {
    const dir = mkdtempSync(join(tmpdir(), "count-parse-trees-"));
    try {
      const put = (path: string, text: string): void => {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), text);
      };
      put("workers/gateway/sql/exec/reads-tree.ts", "const a = b as PgNode;\nconst c = treeOf(t);\n");
      put("workers/gateway/sql/bind/may-read.ts", "const a = b as PgNode;\n");
      put("workers/gateway/sql/exec/reads-tree.test.ts", "const a = b as PgNode;\n");
      const c = countParseTrees(dir);
      expect({ mentions: c.mentions, casts: c.casts, files: c.files }).toEqual({ mentions: 2, casts: 1, files: 1 });
      expect(c.byFile[0]!.file).toBe("workers/gateway/sql/exec/reads-tree.ts");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
