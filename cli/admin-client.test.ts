// AdminClient's request timeout (cli/limits.ts adminRequestTimeoutMs) at its edge, against a local
// HTTP server on port 0: an answer inside the bound is taken; a server that never answers, or that
// sends headers and then stalls, is cut off after the bound with an error saying so.
import http from "node:http";
import type net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { AdminClient, AdminError } from "./admin-client.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function server(handler: http.RequestListener): Promise<string> {
  const s = http.createServer(handler);
  const sockets = new Set<net.Socket>();
  s.on("connection", (c) => {
    sockets.add(c);
    c.on("close", () => sockets.delete(c));
  });
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", () => resolve()));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const c of sockets) c.destroy();
        s.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(s.address() as net.AddressInfo).port}`;
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result?: T; err?: unknown }> {
  const t0 = performance.now();
  try {
    const result = await work();
    return { ms: performance.now() - t0, result };
  } catch (err) {
    return { ms: performance.now() - t0, err };
  }
}

const TIMEOUT_MS = 400;

describe("admin request timeout", () => {
  it("takes an answer that arrives inside the bound", async () => {
    let auth: string | undefined;
    const url = await server((req, res) => {
      auth = req.headers.authorization;
      setTimeout(() => res.writeHead(200, { "content-type": "application/json" }).end('[{"name":"a"}]'), TIMEOUT_MS / 4);
    });
    const r = await timed(() => new AdminClient(url, "tok", TIMEOUT_MS).listTenants());
    expect(r.err).toBeUndefined();
    expect(r.result).toEqual([{ name: "a" }]);
    expect(auth).toBe("Bearer tok");
  });

  it("gives up on a server that never answers, after the bound, saying so", async () => {
    const url = await server(() => {}); // holds every request open
    const r = await timed(() => new AdminClient(url, "tok", TIMEOUT_MS).listTenants());
    expect(r.err).toBeInstanceOf(AdminError);
    expect((r.err as AdminError).message).toBe(`the admin API at ${url} did not answer GET /admin/tenants within ${TIMEOUT_MS} ms`);
    expect((r.err as AdminError).hint).toMatch(/edge/);
    expect(r.ms).toBeGreaterThanOrEqual(TIMEOUT_MS * 0.75);
    expect(r.ms).toBeLessThan(TIMEOUT_MS + 5_000);
  });

  it("gives up on a server that sends headers and then stalls the body", async () => {
    const url = await server((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write("[");
    });
    const r = await timed(() => new AdminClient(url, "tok", TIMEOUT_MS).listTenants());
    expect(r.err).toBeInstanceOf(AdminError);
    expect((r.err as AdminError).message).toMatch(/did not answer GET \/admin\/tenants within 400 ms/);
    expect(r.ms).toBeGreaterThanOrEqual(TIMEOUT_MS * 0.75);
  });
});
