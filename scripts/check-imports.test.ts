// The import rule (check-imports.ts) on the real tree, on a fixture tree with an upward import, and
// the README's picture of the layers against the table the check uses.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ALLOWED, checkImports, layersPicture, MODULES, moduleOf, reachable } from "./check-imports.ts";

const root = join(dirname(new URL(import.meta.url).pathname), "..");

describe("import rule", () => {
  it("holds in this tree: no upward import beyond the allow-list, and no stale allowance", () => {
    const r = checkImports(root);
    expect(r.violations).toEqual([]);
    expect(r.staleAllowed).toEqual([]);
    expect(r.filesChecked).toBeGreaterThan(200);
  });

  it("has layers without a cycle, every file of the checked folders in a module", () => {
    expect(() => reachable()).not.toThrow();
    expect(moduleOf("workers/gateway/sql/session.ts")).toBe("sql");
    expect(moduleOf("workers/gateway/sql/limits.ts")).toBe("sql/limits");
    expect(moduleOf("workers/gateway/pgwire/connection.ts")).toBe("gateway/pgwire");
    expect(moduleOf("workers/gateway/pgwire/reader.ts")).toBe("gateway/contract");
    expect(reachable().get("edge")!.has("sql")).toBe(false);
    expect(reachable().get("gateway/pgwire")!.has("sql/parse")).toBe(true); // through sql; pgwire imports none of it directly
  });

  it("keeps the allow-list short and explained", () => {
    for (const a of ALLOWED) expect(a.why.length).toBeGreaterThan(5);
    expect(ALLOWED.length).toBeLessThanOrEqual(1);
  });

  describe("on a fixture tree", () => {
    const fixture = mkdtempSync(join(tmpdir(), "check-imports-"));
    afterAll(() => rmSync(fixture, { recursive: true, force: true }));
    const write = (path: string, text: string) => {
      mkdirSync(dirname(join(fixture, path)), { recursive: true });
      writeFileSync(join(fixture, path), text);
    };
    write("common/errors.ts", "export const e = 1;\n");
    write("workers/gateway/kv/kv-client.ts", 'import { e } from "../../../common/errors.ts";\nexport const k = e;\n');
    write("workers/gateway/sql/session.ts", 'import { k } from "../kv/kv-client.ts";\nexport const s = k;\n');

    it("passes when every import points down", () => {
      expect(checkImports(fixture, { allowed: [] }).violations).toEqual([]);
    });

    it("fails on an upward import, a sideways one, and the edge importing the engine", () => {
      write("workers/gateway/kv/up.ts", 'import type { s } from "../sql/session.ts";\nexport type S = typeof s;\n');
      write("workers/gateway/pgwire/side.ts", 'export { localQuotaFor } from "../http/quota.ts";\n');
      write("workers/edge/app.ts", 'import { s } from "../gateway/sql/session.ts";\nexport default s;\n');
      const r = checkImports(fixture, { allowed: [] });
      expect(r.violations.map((v) => `${v.fromModule} → ${v.toModule}`).sort()).toEqual(["edge → sql", "gateway/kv → sql", "gateway/pgwire → gateway/http"]);
    });

    it("reports an allowance that no import uses any more", () => {
      const r = checkImports(fixture, { allowed: [{ from: "workers/gateway/kv/gone.ts", to: "workers/gateway/sql/" }] });
      expect(r.staleAllowed).toEqual([{ from: "workers/gateway/kv/gone.ts", to: "workers/gateway/sql/" }]);
    });
  });

  it("is drawn in README.md exactly as the check has it", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    expect(readme).toContain(layersPicture(MODULES));
  });
});
