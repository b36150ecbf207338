// In the serial test group (vitest.config.ts): it boots a real `wrangler dev`, whose start-up and
// first isolate load take tens of seconds on a busy 2-core machine, so it runs alone.
// The gateway bundle as the edge really uses it: build it, boot the edge with `wrangler dev`
// (wrangler.toml's [build] step, `--var` overrides, Durable Objects, the Worker Loader), and reach
// a tenant's gateway isolate with the real @neondatabase/serverless driver. Free ports, a temp dir,
// and the wrangler process group is killed at the end.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { neon, neonConfig } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import http from "node:http";
import { freePort } from "../cli/ports.ts";
import { decodeRequest, encodeResponse } from "../common/kv-protocol/codec.ts";
import { verifyTenantToken } from "../common/tenant-token.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "warren-edge-dev-"));
const ADMIN = "edge-test-admin-token-0123456789abcdef";
const FLEET_SECRET = "edge-test-fleet-secret-0123456789";
/** What the stand-in storage listener received: it records and refuses, so no data path is faked. */
const storageSeen: Array<{ path: string; authorization: string | undefined; type: string }> = [];
let storage: http.Server | undefined;
let wrangler: ChildProcess | undefined;
let base = "";
let log = "";

async function waitFor(url: string, deadlineMs: number): Promise<void> {
  while (Date.now() < deadlineMs) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not up yet
    }
    if (wrangler?.exitCode !== null && wrangler?.exitCode !== undefined) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`wrangler dev did not answer at ${url}:\n${log.slice(-3000)}`);
}

beforeAll(async () => {
  const port = await freePort();
  // A recording listener where the storage node would be: it checks what TenantKV sends (token,
  // framing) and answers every request with a KvResponse error, so nothing pretends to store data.
  storage = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let type = "undecodable";
      try {
        type = decodeRequest(new Uint8Array(Buffer.concat(chunks))).type;
      } catch {
        // recorded as undecodable
      }
      storageSeen.push({ path: req.url ?? "", authorization: req.headers.authorization, type });
      res.writeHead(503, { "content-type": "application/octet-stream" });
      res.end(Buffer.from(encodeResponse({ type: "error", error: { code: "overloaded", message: "recording listener, not a storage node", retryAfterMs: 1 } })));
    });
  });
  await new Promise<void>((r) => storage!.listen(0, "127.0.0.1", r));
  const storagePort = (storage.address() as { port: number }).port;
  base = `http://127.0.0.1:${port}`;
  wrangler = spawn(
    process.execPath,
    [
      path.join(root, "node_modules/wrangler/bin/wrangler.js"),
      "dev",
      "--config", path.join(root, "wrangler.toml"),
      "--ip", "127.0.0.1",
      "--port", String(port),
      "--inspector-port", "0",
      "--persist-to", path.join(tmp, "state"),
      "--var", `ADMIN_TOKEN:${ADMIN}`,
      "--var", `STORAGE_URL:http://127.0.0.1:${storagePort}`,
      "--var", `FLEET_SECRET:${FLEET_SECRET}`,
      // The recording listener answers every batch "overloaded", which the gateway re-sends until
      // the statement's deadline: a short default keeps the refused statement's answer in the test's time.
      "--var", "STATEMENT_TIMEOUT_MS:5000",
    ],
    {
      cwd: root,
      detached: true, // its own process group: workerd dies with it
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
        WRANGLER_SEND_METRICS: "false",
        WRANGLER_REGISTRY_PATH: path.join(tmp, "registry"),
        PATH: `${path.dirname(process.execPath)}:${process.env["PATH"] ?? ""}`,
      },
    },
  );
  wrangler.stdout!.on("data", (c: Buffer) => (log += c.toString()));
  wrangler.stderr!.on("data", (c: Buffer) => (log += c.toString()));
  await waitFor(`${base}/`, Date.now() + 60_000);
}, 90_000);

afterAll(async () => {
  if (wrangler?.pid !== undefined && wrangler.exitCode === null) {
    const exited = new Promise((r) => wrangler!.once("exit", r));
    try {
      process.kill(-wrangler.pid, "SIGTERM");
    } catch {
      // already gone
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    try {
      process.kill(-wrangler.pid, "SIGKILL");
    } catch {
      // exited on SIGTERM
    }
  }
  await new Promise((r) => (storage ? storage.close(r) : r(undefined)));
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function admin(method: string, p: string, body?: unknown): Promise<Response> {
  return fetch(`${base}/admin${p}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: body === undefined ? null : JSON.stringify(body),
  });
}

describe("build-gateway", () => {
  it("keeps .wasm imports as separate modules beside the bundle (and terminates)", () => {
    const dir = path.join(tmp, "wasm-build");
    fs.mkdirSync(dir, { recursive: true });
    const wasmFile = path.join(root, "node_modules/libpg-query/wasm/libpg-query.wasm");
    fs.writeFileSync(
      path.join(dir, "entry.ts"),
      `import m from ${JSON.stringify(wasmFile)};\nexport default { fetch: () => new Response(String(m instanceof WebAssembly.Module)) };\n`,
    );
    const out = execFileSync(process.execPath, [path.join(root, "scripts/build-gateway.ts"), "--entry", path.join(dir, "entry.ts"), "--outdir", path.join(dir, "out")], {
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(out).toMatch(/1 wasm/);
    const generated = fs.readFileSync(path.join(dir, "out/gateway-modules.js"), "utf8");
    expect(generated).toContain('import wasm0 from "./libpg-query.wasm";');
    expect(generated).toContain('"libpg-query.wasm": wasm0,');
    // The bundled code imports the module by the name it has in the loader's module map.
    expect(generated).toContain('from \\"./libpg-query.wasm\\"');
    expect(fs.readFileSync(path.join(dir, "out/libpg-query.wasm")).equals(fs.readFileSync(wasmFile))).toBe(true);
  });
});

describe("wrangler dev with the built gateway", () => {
  it("ran the [build] step and honours --var (the admin token)", async () => {
    expect(log).toContain("build-gateway: dist/gateway/gateway-modules.js");
    expect(fs.existsSync(path.join(root, "dist/gateway/gateway-modules.js"))).toBe(true);
    expect((await fetch(`${base}/admin/tenants`, { headers: { authorization: "Bearer warren-dev-admin-token" } })).status).toBe(401);
    expect((await admin("GET", "/tenants")).status).toBe(200);
    expect(await (await fetch(`${base}/`)).json()).toEqual({ service: "warren-edge", gatewayMode: "loader" });
  });

  it("routes neon() to the tenant's gateway isolate; errors carry SQLSTATEs", async () => {
    const created = await admin("POST", "/tenants", { name: "edgetest", password: "edge-test-password" });
    expect(created.status).toBe(201);
    const tenantId = ((await created.json()) as { id: number }).id;
    neonConfig.fetchEndpoint = `${base}/sql`;
    const good = neon("postgresql://app.edgetest:edge-test-password@localhost/defaultdb");
    const bad = neon("postgresql://app.edgetest:not-the-password@localhost/defaultdb");
    const ghost = neon("postgresql://app.nosuchtenant:whatever@localhost/defaultdb");

    const ghostErr = await ghost.query("select 1").catch((e: { code?: string }) => e);
    expect(ghostErr).toMatchObject({ name: "NeonDbError", code: "3D000" });
    const badErr = await bad.query("select 1").catch((e: { code?: string }) => e);
    expect(badErr).toMatchObject({ code: "28P01" });

    // The tenant's gateway isolate runs the SQL engine (libpg-query wasm included) and reaches
    // storage only through TenantKV: the listener saw wt1 tokens for this tenant, well-formed
    // KvRequest frames, and its refusal came back to the client as a Postgres error.
    storageSeen.length = 0;
    const err = await good.query("create table t (id int primary key)").catch((e: { code?: string; message?: string }) => e);
    expect(err).toMatchObject({ name: "NeonDbError" });
    expect((err as { code?: string }).code).toMatch(/^[0-9A-Z]{5}$/);
    // The control plane also samples the tenant's storage bytes (GET /v1/admin/stats?tenant=N, as
    // the system tenant); the gateway's own traffic is the /v1/kv requests, each for this tenant.
    const kvSeen = storageSeen.filter((seen) => seen.path === "/v1/kv");
    expect(kvSeen.length).toBeGreaterThan(0);
    for (const seen of storageSeen.filter((s) => s.path !== "/v1/kv")) {
      expect(seen.path).toBe(`/v1/admin/stats?tenant=${tenantId}`);
      expect((await verifyTenantToken(FLEET_SECRET, (seen.authorization ?? "").replace(/^Bearer /, ""), Date.now())).tenantId).toBe(1);
    }
    for (const seen of kvSeen) {
      expect(seen.path).toBe("/v1/kv");
      expect(seen.type).not.toBe("undecodable");
      const claims = await verifyTenantToken(FLEET_SECRET, (seen.authorization ?? "").replace(/^Bearer /, ""), Date.now());
      expect(claims.tenantId).toBe(tenantId);
    }
  });

  it("answers a /v2 WebSocket startup for an unknown tenant with 3D000", async () => {
    const ws = new WebSocket(`${base.replace("http", "ws")}/v2`);
    const frames: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on("open", () => {
        const params = Buffer.from("user\0app.nosuch\0database\0db\0\0");
        const msg = Buffer.alloc(8 + params.length);
        msg.writeInt32BE(msg.length, 0);
        msg.writeInt32BE(196608, 4);
        params.copy(msg, 8);
        ws.send(msg);
      });
      ws.on("message", (d: Buffer) => frames.push(d));
      ws.on("close", () => resolve());
      ws.on("error", reject);
    });
    const text = Buffer.concat(frames).toString("latin1");
    expect(text[0]).toBe("E");
    expect(text).toContain("C3D000\0");
  });
});
