// The tunnel with real Postgres clients and a real server: psql and `pg` connect to the tunnel,
// which carries each connection over a WebSocket to a relay (in this test) that hands the bytes to
// a scratch PostgreSQL 15. Nothing in between understands the protocol, so every query that works
// proves the tunnel is byte-exact and keeps message boundaries irrelevant, as the edge needs.
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import net from "node:net";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { startTunnel, type Tunnel } from "../cli/tunnel.ts";
import { postgresAvailable, startPostgres, type PostgresServer } from "./harness/postgres.ts";

let postgres: PostgresServer | undefined;
let relay: WebSocketServer | undefined;
let tunnel: Tunnel | undefined;

/** WebSocket → TCP relay in front of PostgreSQL: what the edge's /v2 is to a tenant's gateway. */
async function startRelay(pgPort: number): Promise<{ server: WebSocketServer; url: string }> {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  server.on("connection", (ws) => {
    const socket = net.connect({ host: "127.0.0.1", port: pgPort });
    ws.on("message", (data: Buffer) => socket.write(data));
    socket.on("data", (chunk) => ws.send(chunk));
    ws.on("close", () => socket.end());
    socket.on("close", () => ws.close());
    socket.on("error", () => ws.terminate());
  });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  return { server, url: `ws://127.0.0.1:${port}/v2` };
}

beforeAll(async () => {
  if (!postgresAvailable()) return;
  postgres = await startPostgres();
  const r = await startRelay(postgres.port);
  relay = r.server;
  tunnel = await startTunnel({ host: "127.0.0.1", port: 0, url: r.url });
});
afterAll(async () => {
  await tunnel?.close();
  if (relay) {
    for (const c of relay.clients) c.terminate();
    await new Promise<void>((resolve) => relay!.close(() => resolve()));
  }
  await postgres?.stop();
});

const url = () => `postgresql://postgres@127.0.0.1:${tunnel!.port}/postgres?sslmode=disable`;

describe.skipIf(!postgresAvailable())("warren tunnel with real Postgres clients", () => {
  it("carries psql (SSLRequest answered by the tunnel, then a query)", async () => {
    const out = await new Promise<{ code: number | null; text: string }>((resolve, reject) => {
      const child = spawn("psql", [url(), "-X", "-At", "-c", "select 40 + 2"], { stdio: ["ignore", "pipe", "pipe"] });
      let text = "";
      child.stdout.on("data", (c: Buffer) => (text += c.toString()));
      child.stderr.on("data", (c: Buffer) => (text += c.toString()));
      child.once("error", reject);
      child.once("close", (code) => resolve({ code, text }));
    });
    expect(out).toEqual({ code: 0, text: "42\n" });
  });

  it("moves 10 MB up and 10 MB down through `pg` byte-exact", async () => {
    const client = new pg.Client({ connectionString: url() });
    await client.connect();
    try {
      await client.query("CREATE TEMP TABLE blobs (id int PRIMARY KEY, body text NOT NULL)");
      const bodies = Array.from({ length: 160 }, () => randomBytes(32 * 1024).toString("hex")); // 64 KiB each
      for (let i = 0; i < bodies.length; i++) await client.query("INSERT INTO blobs VALUES ($1, $2)", [i, bodies[i]]);
      const all = bodies.join("");
      expect(all.length).toBe(10 * 1024 * 1024);
      const server = await client.query("SELECT sum(length(body))::int AS n, md5(string_agg(body, '' ORDER BY id)) AS md5 FROM blobs");
      expect(server.rows[0]).toEqual({ n: all.length, md5: createHash("md5").update(all).digest("hex") });
      const back = await client.query("SELECT body FROM blobs ORDER BY id");
      expect(back.rows.map((r: { body: string }) => r.body)).toEqual(bodies);
    } finally {
      await client.end();
    }
  });

  it("carries many connections at once, each to its own session", async () => {
    const clients = Array.from({ length: 8 }, () => new pg.Client({ connectionString: url() }));
    await Promise.all(clients.map((c) => c.connect()));
    try {
      const pids = await Promise.all(clients.map(async (c) => (await c.query("SELECT pg_backend_pid() AS pid")).rows[0].pid as number));
      expect(new Set(pids).size).toBe(clients.length);
      expect(tunnel!.connections()).toBeGreaterThanOrEqual(clients.length);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
    await expect.poll(() => tunnel!.connections()).toBe(0);
  });
});
