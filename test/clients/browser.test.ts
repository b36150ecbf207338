// Warren from a real browser: headless Chromium loads a page from another origin (a tiny HTTP
// server on its own port) whose script — the Neon driver and Warren's HTTP client, bundled with
// esbuild — runs against the real local stack: neon() over HTTP (CORS preflight included), a
// Pool interactive transaction over the WebSocket, an interactive transaction over plain HTTP
// with the Warren-Transaction handle; and a tenant whose allowedOrigins does not list the page's
// origin refuses both paths with 42501.
import http from "node:http";
import path from "node:path";
import { build } from "esbuild";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumSkipReason, launchChromium } from "../harness/chromium.ts";
import { httpSql, startStack, type Stack, type TenantConnection } from "../harness/stack.ts";
import type { PageConfig } from "./browser-page.ts";

type Outcome = { ok: true; value: unknown } | { ok: false; code: string | undefined; message: string };
type Check = "neonHttp" | "poolTransaction" | "helperTransaction" | "poolConnect";

async function bundlePage(): Promise<string> {
  const out = await build({
    entryPoints: [path.join(import.meta.dirname, "browser-page.ts")],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    logLevel: "silent",
  });
  return out.outputFiles[0]!.text;
}

/** Serves the page and its script on a free loopback port: a different origin from the edge's. */
async function servePage(script: string): Promise<{ origin: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.url === "/page.js") {
      res.writeHead(200, { "content-type": "text/javascript" }).end(script);
      return;
    }
    res.writeHead(200, { "content-type": "text/html" }).end('<!doctype html><title>warren browser test</title><script type="module" src="/page.js"></script>');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return { origin: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function configFor(stack: Stack, t: TenantConnection): PageConfig {
  return { http: stack.http.replace(/\/+$/, ""), connectionString: t.pg.replace("?sslmode=disable", "") };
}

describe.skipIf(chromiumSkipReason !== null)("a page on another origin (headless Chromium)", () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let site: { origin: string; close: () => Promise<void> };
  let web: TenantConnection;
  let locked: TenantConnection;
  const consoleLines: string[] = [];

  const run = (check: Check, t: TenantConnection): Promise<Outcome> =>
    page.evaluate(([name, config]) => (globalThis as unknown as { warrenChecks: Record<string, (c: unknown) => Promise<unknown>> }).warrenChecks[name]!(config), [check, configFor(stack, t)] as const) as Promise<Outcome>;

  beforeAll(async () => {
    const [s, script] = await Promise.all([startStack(), bundlePage()]);
    stack = s;
    site = await servePage(script);
    // "web" allows exactly the page's origin; "locked" allows only another site.
    web = await stack.createTenant("web");
    locked = await stack.createTenant("locked");
    for (const [name, origin] of [
      ["web", site.origin],
      ["locked", "https://app.example.com"],
    ] as const) {
      const r = await stack.warren(["tenant", "alter", name, "--allow-origins", origin]);
      expect(r.code, r.stderr).toBe(0);
    }
    for (const t of [web, locked]) await httpSql(t, "create table notes (id int primary key, body text)");
    browser = await launchChromium();
    page = await browser.newPage();
    page.on("console", (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
    await page.goto(`${site.origin}/`);
    await page.waitForFunction(() => "warrenChecks" in globalThis);
  });

  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await stack?.stop();
  });

  it("neon() over HTTP: a parameterised query and a batch transaction", async () => {
    const r = await run("neonHttp", web);
    expect(r, consoleLines.join("\n")).toMatchObject({ ok: true });
    const v = (r as { value: { one: unknown; batch: unknown[] } }).value;
    expect(v.one).toEqual([{ n: 42, who: "from a page" }]);
    expect(v.batch[1]).toEqual([{ n: 1 }]);
  });

  it("a Pool interactive transaction over the WebSocket commits and rolls back", async () => {
    const r = await run("poolTransaction", web);
    expect(r, consoleLines.join("\n")).toMatchObject({ ok: true });
    expect((r as { value: unknown }).value).toEqual({
      inside: [{ n: 2 }],
      after: [
        { id: 1, body: "http" },
        { id: 2, body: "ws" },
      ],
    });
  });

  it("an interactive transaction over plain HTTP through Warren's client helper", async () => {
    const r = await run("helperTransaction", web);
    expect(r, consoleLines.join("\n")).toMatchObject({ ok: true });
    expect((r as { value: unknown }).value).toEqual({
      seen: { rows: [{ body: "http transaction" }], handleShape: true },
      all: [{ id: 1 }, { id: 2 }, { id: 4 }],
    });
  });

  it("a tenant that does not allow the page's origin refuses it over HTTP and over the WebSocket", async () => {
    const overHttp = await run("neonHttp", locked);
    expect(overHttp).toMatchObject({ ok: false, code: "42501" });
    expect((overHttp as { message: string }).message).toMatch(/origin "http:\/\/127\.0\.0\.1:[0-9]+" is not allowed to use virtual cluster "locked"/);
    const overWs = await run("poolConnect", locked);
    expect(overWs).toMatchObject({ ok: false });
    expect((overWs as { message: string }).message).toMatch(/is not allowed to use virtual cluster "locked"/);
    // Nothing ran: the table is still empty (asked without an Origin, as a server would).
    expect((await httpSql(locked, "select count(*)::int as n from notes")).rows).toEqual([{ n: 0 }]);
  });

  it("answers the preflight without a tenant, covering the Neon headers and exposing the handle", async () => {
    const res = await fetch(`${stack.http.replace(/\/+$/, "")}/sql`, {
      method: "OPTIONS",
      headers: { origin: site.origin, "access-control-request-method": "POST", "access-control-request-headers": "neon-connection-string, neon-array-mode, warren-transaction" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(site.origin);
    const allowed = res.headers.get("access-control-allow-headers")!.toLowerCase();
    for (const h of ["neon-connection-string", "neon-raw-text-output", "neon-array-mode", "neon-batch-isolation-level", "neon-batch-read-only", "neon-batch-deferrable", "authorization", "warren-transaction"]) {
      expect(allowed).toContain(h);
    }
    expect(res.headers.get("access-control-expose-headers")).toMatch(/Warren-Transaction/);
  });
});
