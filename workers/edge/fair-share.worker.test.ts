// The edge's fair shares and cancellation, inside workerd, with a stand-in gateway loaded through
// the Worker Loader exactly as real gateways are (so requests cross a real isolate boundary):
//   - /sql: a tenant's requests beyond EDGE_SQL_REQUESTS_PER_TENANT wait, beyond the queue they get
//     400 53300 with Retry-After, and another tenant is served meanwhile;
//   - /sql: a client that goes away aborts the gateway's request (its request.signal fires);
//   - /v2: sessions beyond EDGE_PG_SESSIONS_PER_TENANT get FATAL 53300; a CancelRequest with the
//     BackendKeyData pair reaches that tenant's gateway as POST /cancel; a wrong pair reaches nothing;
//     closing the client closes the gateway's end;
//   - /v2: logins in progress beyond EDGE_LOGINS_PER_TENANT wait in their tenant's line, beyond its
//     queue they get FATAL 53300, and another tenant logs in meanwhile;
//   - /v2: connections that have not sent a startup packet: past EDGE_PRESTARTUP_TOTAL (or
//     EDGE_PRESTARTUP_PER_TENANT of one Host's tenant) the oldest is dropped with FATAL 53300, and
//     one silent for EDGE_PRESTARTUP_TIMEOUT_MS gets FATAL 08P01.
// The stand-in keeps a log in its module scope; a /sql query "log" reads it.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { directoryOf } from "../../durable-objects/env.ts";
import { createEdge } from "./app.ts";
import type { EdgeEnv } from "./env.ts";
import type { GatewayCode } from "./gateway-env.ts";
import { standInGateway } from "./stand-in-gateway.ts";
import { CANCEL_REQUEST_CODE, PROTOCOL_VERSION_3 } from "./pgwire/startup.ts";

const STAND_IN = `
const log = [];
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/sql") {
      const { query } = await request.json();
      if (query === "log") return Response.json(log);
      const ms = Number(query.replace("sleep ", ""));
      log.push("start " + query);
      const aborted = await new Promise((resolve) => {
        request.signal.addEventListener("abort", () => { log.push("aborted " + query); resolve(true); });
        setTimeout(() => resolve(false), ms);
      });
      if (!aborted) log.push("done " + query);
      return Response.json({ command: "SELECT", rowCount: 0, rows: [], fields: [] });
    }
    if (url.pathname === "/cancel" && request.method === "POST") {
      log.push("cancel " + request.headers.get("warren-pg-backend-key"));
      return Response.json({ canceled: true });
    }
    if (url.pathname === "/v2") {
      const key = request.headers.get("warren-pg-backend-key");
      log.push("session " + key);
      const pair = new WebSocketPair();
      pair[1].accept();
      const [pid, secret] = key.split(":").map(Number);
      const k = new Uint8Array(13);
      const v = new DataView(k.buffer);
      k[0] = 75; v.setInt32(1, 12); v.setInt32(5, pid); v.setInt32(9, secret);
      pair[1].send(k);
      pair[1].addEventListener("close", () => log.push("closed " + key));
      return new Response(null, { status: 101, webSocket: pair[0] });
    }
    return new Response("no", { status: 404 });
  },
};`;
const standIn: GatewayCode = standInGateway("fair-share-stand-in", STAND_IN);

const baseEnv = env as unknown as EdgeEnv;

function ctx(): ExecutionContext {
  return { exports, props: {}, waitUntil() {}, passThroughOnException() {} } as unknown as ExecutionContext;
}

let counter = 0;
async function makeTenant(password = "tenant-password-1"): Promise<{ name: string; id: number; password: string }> {
  const name = `fs${Date.now().toString(36)}${counter++}`;
  const r = await directoryOf(baseEnv).create(name, password);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

function edgeWith(vars: Partial<EdgeEnv>) {
  const edge = createEdge({
    gatewayCode: () => standIn,
    inlineGateway: { fetch: async () => new Response("inline gateway must not be used", { status: 500 }) },
  });
  const e: EdgeEnv = { ...baseEnv, GATEWAY_MODE: "loader", GATEWAY_ISOLATES_MAX: "0", ...vars };
  const sql = (t: { name: string; password: string }, query: string, signal?: AbortSignal) =>
    edge.fetch(
      new Request("http://edge.test/sql", {
        method: "POST",
        headers: { "Neon-Connection-String": `postgresql://app.${t.name}:${t.password}@localhost/db` },
        body: JSON.stringify({ query, params: [] }),
        signal,
      }),
      e,
      ctx(),
    );
  const log = async (t: { name: string; password: string }) => (await (await sql(t, "log")).json()) as string[];
  const v2 = (host?: string) => edge.fetch(new Request("http://edge.test/v2", { headers: { upgrade: "websocket", ...(host === undefined ? {} : { host }) } }), e, ctx());
  return { sql, log, v2, edge };
}

describe("/sql fair share per tenant", () => {
  it("runs EDGE_SQL_REQUESTS_PER_TENANT, queues the next, refuses the rest with 400 53300; another tenant is served meanwhile", async () => {
    const { sql, log } = edgeWith({ EDGE_SQL_REQUESTS_PER_TENANT: "2", EDGE_SQL_QUEUE_PER_TENANT: "1", EDGE_SQL_QUEUE_WAIT_MS: "10000", EDGE_SQL_REFUSAL_HOLD_MS: "0" });
    const flooder = await makeTenant();
    const victim = await makeTenant();
    const flood = ["sleep 400", "sleep 401", "sleep 402", "sleep 403"].map((q) => sql(flooder, q));
    const refused = await Promise.race(flood.map((p, i) => p.then((r) => ({ i, r }))));
    expect(refused.i).toBe(3);
    expect(refused.r.status).toBe(400);
    expect(refused.r.headers.get("retry-after")).toBe("1");
    const body = (await refused.r.json()) as { code: string; message: string };
    expect(body.code).toBe("53300");
    expect(body.message).toContain(`virtual cluster "${flooder.name}": 2 running and 1 waiting`);
    const t0 = performance.now();
    expect((await sql(victim, "sleep 0")).status).toBe(200);
    expect(performance.now() - t0).toBeLessThan(300); // not behind the flooder's 400 ms requests
    for (const p of flood.slice(0, 3)) expect((await p).status).toBe(200);
    const events = await log(flooder);
    // The queued request started only after one of the first two finished.
    expect(events.indexOf("start sleep 402")).toBeGreaterThan(Math.min(events.indexOf("done sleep 400"), events.indexOf("done sleep 401")));
    expect(events).not.toContain("start sleep 403");
  });

  it("holds a refusal EDGE_SQL_REFUSAL_HOLD_MS before sending it, at most EDGE_SQL_REFUSALS_HELD at once; a held request never reaches the gateway", async () => {
    const { sql, log } = edgeWith({ EDGE_SQL_REQUESTS_PER_TENANT: "1", EDGE_SQL_QUEUE_PER_TENANT: "0", EDGE_SQL_REFUSAL_HOLD_MS: "600", EDGE_SQL_REFUSALS_HELD: "1" });
    const flooder = await makeTenant();
    const victim = await makeTenant();
    const running = sql(flooder, "sleep 1500");
    // (Not polled through the log: a /sql "log" would itself be refused while the one slot is taken.)
    await new Promise((r) => setTimeout(r, 200));
    const t0 = performance.now();
    const held = sql(flooder, "sleep 1").then((r) => ({ r, ms: performance.now() - t0 }));
    await new Promise((r) => setTimeout(r, 50));
    // The second refusal while one is held: at once.
    const t1 = performance.now();
    const atOnce = await sql(flooder, "sleep 2");
    expect(performance.now() - t1).toBeLessThan(250);
    expect(((await atOnce.json()) as { code: string }).code).toBe("53300");
    // Another tenant is served meanwhile.
    expect((await sql(victim, "sleep 0")).status).toBe(200);
    const { r, ms } = await held;
    expect(ms).toBeGreaterThanOrEqual(250); // held 0.5–1.5 × 600 ms
    expect(r.status).toBe(400);
    expect(r.headers.get("retry-after")).toBe("1");
    const body = (await r.json()) as { code: string; message: string };
    expect(body.code).toBe("53300");
    expect(body.message).toContain(`virtual cluster "${flooder.name}": 1 running and 0 waiting`);
    expect((await running).status).toBe(200);
    const events = await log(flooder);
    expect(events).toContain("done sleep 1500");
    expect(events).not.toContain("start sleep 1");
    expect(events).not.toContain("start sleep 2");
  });

  it("refuses a queued request after EDGE_SQL_QUEUE_WAIT_MS with 53300", async () => {
    const { sql } = edgeWith({ EDGE_SQL_REQUESTS_PER_TENANT: "1", EDGE_SQL_QUEUE_PER_TENANT: "1", EDGE_SQL_QUEUE_WAIT_MS: "100" });
    const t = await makeTenant();
    const running = sql(t, "sleep 600");
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    const res = await sql(t, "sleep 0");
    expect(performance.now() - t0).toBeGreaterThanOrEqual(75);
    expect(((await res.json()) as { code: string; message: string }).message).toMatch(/waited 100 ms for one of its 1 concurrent slots/);
    expect((await running).status).toBe(200);
  });

  it("aborts the gateway's request when the client goes away, and frees the slot", async () => {
    const { sql, log } = edgeWith({ EDGE_SQL_REQUESTS_PER_TENANT: "2", EDGE_SQL_QUEUE_PER_TENANT: "0", EDGE_SQL_REFUSAL_HOLD_MS: "0" });
    const t = await makeTenant();
    const other = sql(t, "sleep 300"); // holds the second slot, so the freed one is the only way in
    const client = new AbortController();
    const gone = sql(t, "sleep 5000", client.signal).catch(() => null);
    await expect.poll(async () => (await log(t)).includes("start sleep 5000"), { timeout: 5_000 }).toBe(true);
    client.abort();
    await gone;
    await expect.poll(async () => (await log(t)).includes("aborted sleep 5000"), { timeout: 5_000 }).toBe(true);
    expect((await sql(t, "sleep 0")).status).toBe(200); // the slot was given back
    await other;
  });
});

// ---- /v2 ----

function startupMessage(params: Record<string, string>): Uint8Array {
  const enc = new TextEncoder();
  const parts: number[] = [];
  for (const [k, v] of Object.entries(params)) parts.push(...enc.encode(k), 0, ...enc.encode(v), 0);
  parts.push(0);
  const b = new Uint8Array(8 + parts.length);
  new DataView(b.buffer).setInt32(0, b.length);
  new DataView(b.buffer).setInt32(4, PROTOCOL_VERSION_3);
  b.set(parts, 8);
  return b;
}

function passwordMessage(password: string): Uint8Array {
  const pw = new TextEncoder().encode(password + "\0");
  const b = new Uint8Array(5 + pw.length);
  b[0] = 0x70;
  new DataView(b.buffer).setInt32(1, 4 + pw.length);
  b.set(pw, 5);
  return b;
}

function cancelRequest(pid: number, key: number): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setInt32(0, 16);
  v.setInt32(4, CANCEL_REQUEST_CODE);
  v.setInt32(8, pid);
  v.setInt32(12, key);
  return b;
}

interface Client {
  ws: WebSocket;
  frames: Uint8Array[];
  closed: Promise<void>;
  isClosed(): boolean;
}

async function open(res: Response): Promise<Client> {
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  const frames: Uint8Array[] = [];
  let closedNow = false;
  const closed = new Promise<void>((resolve) =>
    ws.addEventListener("close", () => {
      closedNow = true;
      resolve();
    }),
  );
  ws.addEventListener("message", (e) => {
    const d = e.data as ArrayBuffer | Blob | string;
    if (typeof d === "string") frames.push(new TextEncoder().encode(d));
    else if (d instanceof Blob) void d.arrayBuffer().then((b) => frames.push(new Uint8Array(b)));
    else frames.push(new Uint8Array(d));
  });
  ws.accept();
  return { ws, frames, closed, isClosed: () => closedNow };
}

/** Logs in with a pipelined cleartext password; resolves with the BackendKeyData the stand-in sent. */
async function login(v2: () => Promise<Response>, t: { name: string; password: string }): Promise<Client & { pid: number; key: number }> {
  const c = await open(await v2());
  c.ws.send(new Uint8Array([...startupMessage({ user: `app.${t.name}`, database: "db" }), ...passwordMessage(t.password)]));
  await expect.poll(() => c.frames.find((f) => f[0] === 75) ?? (c.isClosed() ? "closed" : undefined), { timeout: 5_000 }).toBeDefined();
  const k = c.frames.find((f) => f[0] === 75);
  if (k === undefined) return { ...c, pid: 0, key: 0 };
  const v = new DataView(k.buffer, k.byteOffset);
  return { ...c, pid: v.getInt32(5), key: v.getInt32(9) };
}

function errorFields(msg: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 5;
  const dec = new TextDecoder();
  while (msg[at] !== 0) {
    const end = msg.indexOf(0, at + 1);
    out[String.fromCharCode(msg[at]!)] = dec.decode(msg.subarray(at + 1, end));
    at = end + 1;
  }
  return out;
}

describe("/v2 sessions and CancelRequest", () => {
  it("admits EDGE_PG_SESSIONS_PER_TENANT sessions, refuses the next with FATAL 53300, and admits again after one closes", async () => {
    const { v2, sql, log } = edgeWith({ EDGE_PG_SESSIONS_PER_TENANT: "2" });
    const t = await makeTenant();
    const a = await login(v2, t);
    const b = await login(v2, t);
    expect(a.pid).toBeGreaterThan(0);
    expect(b.pid).not.toBe(a.pid);
    const c = await login(v2, t);
    await c.closed;
    const fields = errorFields(c.frames.find((f) => f[0] === 69)!);
    expect(fields).toMatchObject({ S: "FATAL", C: "53300", M: `too many connections for virtual cluster "${t.name}": the limit is 2 sessions per edge isolate` });
    a.ws.close(1000, "bye");
    // The client's close reaches the gateway's end, and frees the slot.
    await expect.poll(async () => (await log(t)).includes(`closed ${a.pid}:${a.key}`), { timeout: 5_000 }).toBe(true);
    const d = await login(v2, t);
    expect(d.pid).toBeGreaterThan(0);
    void sql;
  });

  it("routes a CancelRequest with the session's pair to its tenant's gateway as POST /cancel, closes it without a reply; a wrong pair reaches nothing", async () => {
    const { v2, log } = edgeWith({});
    const t = await makeTenant();
    const s = await login(v2, t);
    const wrong = await open(await v2());
    wrong.ws.send(cancelRequest(s.pid, s.key ^ 1));
    await wrong.closed;
    expect(wrong.frames).toEqual([]);
    const right = await open(await v2());
    right.ws.send(cancelRequest(s.pid, s.key));
    await right.closed;
    expect(right.frames).toEqual([]);
    // The edge closes the cancel connection only once the gateway has the request.
    const events = await log(t);
    expect(events.filter((e) => e.startsWith("cancel "))).toEqual([`cancel ${s.pid}:${s.key}`]);
  });
});

describe("/v2 logins in progress per tenant", () => {
  /** Sends a StartupMessage with no password behind it: the edge asks for SCRAM and the login stays in progress. */
  async function startLogin(v2: () => Promise<Response>, t: { name: string }): Promise<Client> {
    const c = await open(await v2());
    c.ws.send(startupMessage({ user: `app.${t.name}`, database: "db" }));
    return c;
  }
  const saslAsked = (c: Client) => c.frames.some((f) => f[0] === 82 && new DataView(f.buffer, f.byteOffset).getInt32(5) === 10);

  it("holds EDGE_LOGINS_PER_TENANT logins in progress, queues the next, refuses past the queue with FATAL 53300; another tenant logs in meanwhile", async () => {
    const { v2 } = edgeWith({ EDGE_LOGINS_PER_TENANT: "1", EDGE_LOGIN_QUEUE_PER_TENANT: "1", EDGE_LOGIN_QUEUE_WAIT_MS: "10000" });
    const t = await makeTenant();
    const other = await makeTenant();
    const first = await startLogin(v2, t);
    await expect.poll(() => saslAsked(first), { timeout: 5_000 }).toBe(true);
    // The second waits in line: no answer yet.
    const second = await startLogin(v2, t);
    // The third finds the line full.
    const third = await startLogin(v2, t);
    await third.closed;
    expect(errorFields(third.frames.find((f) => f[0] === 69)!)).toMatchObject({
      S: "FATAL",
      C: "53300",
      M: `too many concurrent logins for virtual cluster "${t.name}": 1 running and 1 waiting (per edge isolate)`,
    });
    expect(saslAsked(second)).toBe(false);
    // Another tenant is not in that line.
    const o = await login(v2, other);
    expect(o.pid).toBeGreaterThan(0);
    // The first goes away: the second gets its slot and is asked for its password.
    first.ws.close(1000, "bye");
    await expect.poll(() => saslAsked(second), { timeout: 5_000 }).toBe(true);
    second.ws.close(1000, "bye");
  });

  it("a completed login gives its slot back at the gateway's first answer; a queued login is refused after EDGE_LOGIN_QUEUE_WAIT_MS", async () => {
    const { v2 } = edgeWith({ EDGE_LOGINS_PER_TENANT: "1", EDGE_LOGIN_QUEUE_PER_TENANT: "1", EDGE_LOGIN_QUEUE_WAIT_MS: "100" });
    const t = await makeTenant();
    // Logins one after another never wait: each frees the slot once its session answers.
    for (let i = 0; i < 3; i++) expect((await login(v2, t)).pid).toBeGreaterThan(0);
    const holder = await startLogin(v2, t);
    await expect.poll(() => saslAsked(holder), { timeout: 5_000 }).toBe(true);
    const queued = await startLogin(v2, t);
    await queued.closed;
    expect(errorFields(queued.frames.find((f) => f[0] === 69)!)).toMatchObject({
      S: "FATAL",
      C: "53300",
      M: `a login for virtual cluster "${t.name}" waited 100 ms for one of its 1 concurrent slots (per edge isolate)`,
    });
    holder.ws.close(1000, "bye");
  });
});

describe("/v2 connections before their startup packet", () => {
  const sslRequest = (): Uint8Array => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setInt32(0, 8);
    new DataView(b.buffer).setInt32(4, 80877103);
    return b;
  };
  /** Sends an SSLRequest and resolves with what came back: "N" (still served) or the ErrorResponse's SQLSTATE. */
  async function poke(c: Client): Promise<string> {
    const before = c.frames.length;
    c.ws.send(sslRequest());
    for (let i = 0; i < 200 && c.frames.length === before && !c.isClosed(); i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 20)); // a Blob frame converts asynchronously
    const f = c.frames[before];
    if (f === undefined) return c.isClosed() ? "closed without a word" : "no answer";
    return f.length === 1 && f[0] === 0x4e ? "N" : (errorFields(f)["C"] ?? "?");
  }

  it("past EDGE_PRESTARTUP_TOTAL the oldest silent connection is dropped with 53300, not the new one; a startup packet frees the place", async () => {
    const { v2 } = edgeWith({ EDGE_PRESTARTUP_TOTAL: "2", EDGE_PRESTARTUP_TIMEOUT_MS: "60000" });
    const a = await open(await v2());
    const b = await open(await v2());
    // b sends an SSLRequest (still before its StartupMessage: it keeps counting).
    expect(await poke(b)).toBe("N");
    const c = await open(await v2()); // the third: a, the oldest, is evicted
    expect(await poke(a)).toBe("53300");
    await a.closed;
    expect(errorFields(a.frames.at(-1)!)["M"]).toMatch(/too many connections have not sent their startup message \(at most 2 in all per edge isolate\)/);
    expect(await poke(b)).toBe("N");
    expect(await poke(c)).toBe("N");
    // A StartupMessage (here naming no known tenant: 3D000) ends b's pre-startup place: a new
    // connection then fits beside c without evicting it.
    b.ws.send(startupMessage({ user: "app.nosuchtenantprestart", database: "db" }));
    await b.closed;
    const d = await open(await v2());
    expect(await poke(c)).toBe("N");
    expect(await poke(d)).toBe("N");
    for (const x of [c, d]) x.ws.close(1000, "bye");
  });

  it("per tenant named by Host: EDGE_PRESTARTUP_PER_TENANT evicts that tenant's oldest only; a silent one ends after EDGE_PRESTARTUP_TIMEOUT_MS with 08P01", async () => {
    // Long enough that the four pokes below are answered before it on a loaded machine.
    const timeoutMs = 3_000;
    const { v2 } = edgeWith({ EDGE_PRESTARTUP_TOTAL: "10", EDGE_PRESTARTUP_PER_TENANT: "1", EDGE_PRESTARTUP_TIMEOUT_MS: String(timeoutMs) });
    const t0 = performance.now();
    const other = await open(await v2("other.warren.test"));
    const plain = await open(await v2());
    const first = await open(await v2("acme.warren.test"));
    const second = await open(await v2("acme.warren.test")); // evicts first, not other or plain
    expect(await poke(first)).toBe("53300");
    expect(await poke(second)).toBe("N");
    expect(await poke(other)).toBe("N");
    expect(await poke(plain)).toBe("N");
    // Nobody sends a StartupMessage: each is closed at its bound with 08P01.
    await Promise.all([second.closed, other.closed, plain.closed]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(timeoutMs * 0.75);
    for (const x of [second, other, plain]) {
      const f = errorFields(x.frames.at(-1)!);
      expect(f["C"]).toBe("08P01");
      expect(f["M"]).toBe(`no startup message within ${timeoutMs} ms of connecting`);
    }
  });
});
