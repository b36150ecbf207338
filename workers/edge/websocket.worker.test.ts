// GET /v2: the startup of the Postgres wire protocol over a WebSocket. An SSLRequest gets 'N'; a
// StartupMessage naming an unknown tenant gets ErrorResponse 3D000 and the server closes; a known
// tenant is asked for SCRAM-SHA-256 (AuthenticationSASL). The whole protocol, end to end, is in
// test/pgwire*.test.ts.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { directoryOf } from "../../durable-objects/env.ts";
import type { EdgeEnv } from "./env.ts";
import { saltedPassword } from "../../durable-objects/router/scram.ts";
import { PROTOCOL_VERSION_3, SSL_REQUEST_CODE } from "./pgwire/startup.ts";
import { acceptPgWebSocket } from "./pgwire/websocket.ts";
import { limits } from "./limits.ts";

const edgeEnv = env as unknown as EdgeEnv;
const worker = (exports as unknown as { default: Fetcher }).default;

function sslRequest(): Uint8Array {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setInt32(0, 8);
  v.setInt32(4, SSL_REQUEST_CODE);
  return b;
}

function startupMessage(params: Record<string, string>): Uint8Array {
  const enc = new TextEncoder();
  const parts: number[] = [];
  for (const [k, v] of Object.entries(params)) parts.push(...enc.encode(k), 0, ...enc.encode(v), 0);
  parts.push(0);
  const b = new Uint8Array(8 + parts.length);
  const view = new DataView(b.buffer);
  view.setInt32(0, b.length);
  view.setInt32(4, PROTOCOL_VERSION_3);
  b.set(parts, 8);
  return b;
}

/** Parses an ErrorResponse into its fields. */
function errorFields(msg: Uint8Array): Record<string, string> {
  expect(String.fromCharCode(msg[0]!)).toBe("E");
  const out: Record<string, string> = {};
  let at = 5;
  const dec = new TextDecoder();
  while (msg[at] !== 0) {
    const tag = String.fromCharCode(msg[at]!);
    const end = msg.indexOf(0, at + 1);
    out[tag] = dec.decode(msg.subarray(at + 1, end));
    at = end + 1;
  }
  return out;
}

async function converse(chunks: Uint8Array[], waitMs = 5000): Promise<{ frames: Uint8Array[]; closed: boolean }> {
  const res = await worker.fetch("http://edge.test/v2", { headers: { upgrade: "websocket" } });
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  const frames: Uint8Array[] = [];
  const closed = new Promise<boolean>((resolve) => ws.addEventListener("close", () => resolve(true)));
  // Binary frames may arrive as Blobs; a chain keeps them in arrival order while converting.
  let pending: Promise<void> = Promise.resolve();
  ws.addEventListener("message", (e) => {
    const d = e.data as ArrayBuffer | Blob;
    pending = pending.then(async () => {
      frames.push(new Uint8Array(d instanceof Blob ? await d.arrayBuffer() : d));
    });
  });
  ws.accept();
  for (const c of chunks) ws.send(c);
  const didClose = await Promise.race([closed, new Promise<boolean>((r) => setTimeout(() => r(false), waitMs))]);
  await pending;
  return { frames, closed: didClose };
}

describe("GET /v2", () => {
  it("answers SSLRequest with N, then 3D000 for an unknown tenant, and closes", async () => {
    const { frames, closed } = await converse([sslRequest(), startupMessage({ user: "app.nosuchtenant", database: "db" })]);
    expect(closed).toBe(true);
    expect(Array.from(frames[0]!)).toEqual(["N".charCodeAt(0)]);
    const err = errorFields(frames[1]!);
    expect(err["C"]).toBe("3D000");
    expect(err["S"]).toBe("FATAL");
    expect(err["M"]).toContain("nosuchtenant");
  });

  it("asks a known tenant named by options, user or database for SCRAM-SHA-256, even when bytes arrive split", async () => {
    const name = `ws${Date.now().toString(36)}`;
    const r = await directoryOf(edgeEnv).create(name, "ws-password-1");
    expect(r.ok).toBe(true);
    const forms: Array<Record<string, string>> = [
      { user: "app", database: "db", options: `--cluster=${name}` },
      { user: `app.${name}`, database: "db" },
      { user: "app", database: `${name}.db` },
    ];
    for (const params of forms) {
      const msg = startupMessage(params);
      const { frames } = await converse([msg.subarray(0, 3), msg.subarray(3, 11), msg.subarray(11)], 300);
      const auth = frames[0]!;
      expect(String.fromCharCode(auth[0]!)).toBe("R");
      expect(new DataView(auth.buffer).getInt32(5)).toBe(10); // AuthenticationSASL
      expect(new TextDecoder().decode(auth.subarray(9))).toBe("SCRAM-SHA-256\0\0");
    }
  });

  it("answers 08P01 to a query sent before authentication, and closes", async () => {
    const name = `wq${Date.now().toString(36)}`;
    expect((await directoryOf(edgeEnv).create(name, "ws-password-1")).ok).toBe(true);
    const query = new Uint8Array([0x51, 0, 0, 0, 13, ...new TextEncoder().encode("select 1"), 0]);
    const { frames, closed } = await converse([startupMessage({ user: `app.${name}`, database: "db" }), query]);
    expect(closed).toBe(true);
    expect(errorFields(frames[1]!)["C"]).toBe("08P01");
  });

  it("answers 08P01 to a malformed startup packet", async () => {
    const bad = new Uint8Array(8);
    new DataView(bad.buffer).setInt32(0, 3); // length below the minimum
    const { frames } = await converse([bad]);
    expect(errorFields(frames[0]!)["C"]).toBe("08P01");
  });

  it("completes a SCRAM-SHA-256 login and serves a query from the tenant's gateway (inline mode)", async () => {
    const name = `wl${Date.now().toString(36)}`;
    const password = "scram-password-1";
    expect((await directoryOf(edgeEnv).create(name, password)).ok).toBe(true);
    const res = await worker.fetch("http://edge.test/v2", { headers: { upgrade: "websocket" } });
    const ws = res.webSocket!;
    const inbox: Uint8Array[] = [];
    let wake: (() => void) | null = null;
    let pending: Promise<void> = Promise.resolve();
    ws.addEventListener("message", (e) => {
      const d = e.data as ArrayBuffer | Blob;
      pending = pending.then(async () => {
        inbox.push(new Uint8Array(d instanceof Blob ? await d.arrayBuffer() : d));
        wake?.();
      });
    });
    ws.accept();
    // Messages arrive in frames of any grouping; collect bytes and split them here.
    let buf = new Uint8Array(0);
    const next = async (): Promise<{ type: string; body: Uint8Array }> => {
      for (;;) {
        while (inbox.length > 0) {
          const c = inbox.shift()!;
          const b = new Uint8Array(buf.length + c.length);
          b.set(buf);
          b.set(c, buf.length);
          buf = b;
        }
        if (buf.length >= 5) {
          const len = new DataView(buf.buffer).getInt32(1);
          if (buf.length >= 1 + len) {
            const m = { type: String.fromCharCode(buf[0]!), body: buf.slice(5, 1 + len) };
            buf = buf.slice(1 + len);
            return m;
          }
        }
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 50);
        });
      }
    };
    const enc = new TextEncoder();
    const msg = (type: string, body: Uint8Array) => {
      const out = new Uint8Array(5 + body.length);
      out[0] = type.charCodeAt(0);
      new DataView(out.buffer).setInt32(1, 4 + body.length);
      out.set(body, 5);
      return out;
    };
    ws.send(startupMessage({ user: `app.${name}`, database: "db" }));
    expect(new DataView((await next()).body.buffer).getInt32(0)).toBe(10); // AuthenticationSASL
    const clientNonce = "unit-test-nonce-0123";
    const clientFirstBare = `n=,r=${clientNonce}`;
    const first = enc.encode(`n,,${clientFirstBare}`);
    const initial = new Uint8Array([...enc.encode("SCRAM-SHA-256"), 0, 0, 0, 0, first.length, ...first]);
    ws.send(msg("p", initial));
    const cont = await next();
    const serverFirst = new TextDecoder().decode(cont.body.subarray(4));
    const attrs = Object.fromEntries(serverFirst.split(",").map((a) => [a[0], a.slice(2)]));
    const salted = await saltedPassword(password, Uint8Array.from(atob(attrs["s"]!), (c) => c.charCodeAt(0)), Number(attrs["i"]));
    const hmac = async (key: Uint8Array, text: string) =>
      new Uint8Array(await crypto.subtle.sign("HMAC", await crypto.subtle.importKey("raw", key as BufferSource, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]), enc.encode(text)));
    const clientKey = await hmac(salted, "Client Key");
    const storedKey = new Uint8Array(await crypto.subtle.digest("SHA-256", clientKey as BufferSource));
    const withoutProof = `c=biws,r=${attrs["r"]}`;
    const signature = await hmac(storedKey, `${clientFirstBare},${serverFirst},${withoutProof}`);
    const proof = btoa(String.fromCharCode(...clientKey.map((b, i) => b ^ signature[i]!)));
    ws.send(msg("p", enc.encode(`${withoutProof},p=${proof}`)));
    const final = await next();
    expect(new DataView(final.body.buffer).getInt32(0)).toBe(12); // AuthenticationSASLFinal
    expect(new DataView((await next()).body.buffer).getInt32(0)).toBe(0); // AuthenticationOk, from the gateway
    let m = await next();
    while (m.type !== "Z") m = await next();
    ws.send(msg("Q", new Uint8Array([...enc.encode("show timezone"), 0])));
    const seen: string[] = [];
    do {
      m = await next();
      seen.push(m.type === "D" ? `D ${new TextDecoder().decode(m.body.subarray(6))}` : m.type);
    } while (m.type !== "Z");
    expect(seen).toEqual(["T", "D UTC", "C", "Z"]);
    ws.close();
    await pending;
  });

  it("refuses a plain GET with 426", async () => {
    const res = await worker.fetch("http://edge.test/v2");
    expect(res.status).toBe(426);
  });
});

describe("startup timeout (limits.startupTimeoutMs)", () => {
  it("keeps a silent client until the bound, then answers 08P01 and closes, having asked nothing of the tenant", async () => {
    const startupTimeoutMs = 300;
    const asked: string[] = [];
    const refuse = (what: string) => async (): Promise<never> => {
      asked.push(what);
      throw new Error(`${what} must not be called`);
    };
    const res = acceptPgWebSocket({
      host: undefined,
      credentials: refuse("credentials"),
      loginFailed: refuse("loginFailed"),
      authenticate: refuse("authenticate"),
      openGateway: refuse("openGateway"),
      admitLogin: async () => {
        asked.push("admitLogin");
        throw new Error("admitLogin must not be called");
      },
      admitSession: () => {
        asked.push("admitSession");
        throw new Error("admitSession must not be called");
      },
      issueBackendKey: refuse("issueBackendKey"),
      cancel: refuse("cancel"),
      startupTimeoutMs,
    });
    const ws = res.webSocket!;
    const frames: Uint8Array[] = [];
    let pending: Promise<void> = Promise.resolve();
    ws.addEventListener("message", (e) => {
      const d = e.data as ArrayBuffer | Blob;
      pending = pending.then(async () => {
        frames.push(new Uint8Array(d instanceof Blob ? await d.arrayBuffer() : d));
      });
    });
    const t0 = performance.now();
    const closed = new Promise<number>((resolve) => ws.addEventListener("close", () => resolve(performance.now() - t0)));
    ws.accept();
    const closedAfter = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), startupTimeoutMs + 5_000))]);
    await pending;
    expect(closedAfter).toBeGreaterThanOrEqual(startupTimeoutMs * 0.75);
    expect(frames).toHaveLength(1);
    const fields = errorFields(frames[0]!);
    expect(fields["C"]).toBe("08P01");
    expect(fields["M"]).toMatch(/did not complete in time/);
    expect(asked).toEqual([]);
  });
});

describe("gateway ending a connection", () => {
  /** Logs in with a cleartext password against a stub gateway; returns the gateway end and the client's frames. */
  async function loggedIn(): Promise<{ gatewaySide: WebSocket; frames: Uint8Array[]; closed: Promise<number>; settle: () => Promise<void> }> {
    const route = { tenantId: 77, name: "acme", ttlMs: 60_000 };
    let gatewaySide: WebSocket | undefined;
    const res = acceptPgWebSocket({
      host: undefined,
      credentials: async () => ({ route, verifier: { iterations: 1, salt: new Uint8Array(16), storedKey: new Uint8Array(32), serverKey: new Uint8Array(32) } }),
      loginFailed: async () => {},
      authenticate: async () => route,
      openGateway: async () => {
        const pair = new WebSocketPair();
        gatewaySide = pair[1];
        gatewaySide.accept();
        return new Response(null, { status: 101, webSocket: pair[0] });
      },
      admitSession: () => () => {},
      admitLogin: async () => () => {},
      issueBackendKey: async () => ({ processId: 1, secretKey: 2 }),
      cancel: async () => {},
    });
    const ws = res.webSocket!;
    const frames: Uint8Array[] = [];
    let pending: Promise<void> = Promise.resolve();
    ws.addEventListener("message", (e) => {
      const d = e.data as ArrayBuffer | Blob;
      pending = pending.then(async () => {
        frames.push(new Uint8Array(d instanceof Blob ? await d.arrayBuffer() : d));
      });
    });
    const closed = new Promise<number>((resolve) => ws.addEventListener("close", (e) => resolve(e.code)));
    ws.accept();
    const pw = new TextEncoder().encode("secret\0");
    const password = new Uint8Array(5 + pw.length);
    password[0] = 0x70; // 'p'
    new DataView(password.buffer).setInt32(1, 4 + pw.length);
    password.set(pw, 5);
    ws.send(new Uint8Array([...startupMessage({ user: "app.acme", database: "db" }), ...password]));
    await expect.poll(() => gatewaySide, { timeout: 5_000 }).toBeDefined();
    return { gatewaySide: gatewaySide!, frames, closed, settle: () => pending };
  }

  it("an abnormal close from the gateway reaches the client as FATAL 08006 before the close", async () => {
    const c = await loggedIn();
    c.gatewaySide.close(1011, "isolate ended");
    await c.closed;
    await c.settle();
    const last = c.frames[c.frames.length - 1]!;
    const fields = errorFields(last);
    expect(fields["C"]).toBe("08006");
    expect(fields["S"]).toBe("FATAL");
    expect(fields["M"]).toMatch(/ended the connection unexpectedly \(WebSocket close 1011\)/);
  });

  it("an orderly close from the gateway (1000) closes the client without an error", async () => {
    const c = await loggedIn();
    c.gatewaySide.close(1000, "terminate");
    await c.closed;
    await c.settle();
    expect(c.frames.map((f) => String.fromCharCode(f[0]!))).not.toContain("E");
  });
});

describe("BackendKeyData pair taken in the gateway (limits.backendKeyAttemptsMax)", () => {
  /** Logs in against a gateway stub that answers 409 `taken` times before accepting. */
  async function loginWith(taken: number): Promise<{ attempts: string[]; frames: Uint8Array[]; closed: Promise<number>; settle: () => Promise<void> }> {
    const route = { tenantId: 78, name: "acme", ttlMs: 60_000 };
    const attempts: string[] = [];
    let issued = 0;
    const res = acceptPgWebSocket({
      host: undefined,
      credentials: async () => ({ route, verifier: { iterations: 1, salt: new Uint8Array(16), storedKey: new Uint8Array(32), serverKey: new Uint8Array(32) } }),
      loginFailed: async () => {},
      authenticate: async () => route,
      openGateway: async (_route, request) => {
        attempts.push(request.headers.get("warren-pg-backend-key") ?? "none");
        if (attempts.length <= taken) return new Response("taken", { status: 409 });
        const pair = new WebSocketPair();
        pair[1].accept();
        return new Response(null, { status: 101, webSocket: pair[0] });
      },
      admitSession: () => () => {},
      admitLogin: async () => () => {},
      issueBackendKey: async () => ({ processId: ++issued, secretKey: -issued }),
      cancel: async () => {},
    });
    const ws = res.webSocket!;
    const frames: Uint8Array[] = [];
    let pending: Promise<void> = Promise.resolve();
    ws.addEventListener("message", (e) => {
      const d = e.data as ArrayBuffer | Blob;
      pending = pending.then(async () => {
        frames.push(new Uint8Array(d instanceof Blob ? await d.arrayBuffer() : d));
      });
    });
    const closed = new Promise<number>((resolve) => ws.addEventListener("close", (e) => resolve(e.code)));
    ws.accept();
    const pw = new TextEncoder().encode("secret\0");
    const password = new Uint8Array(5 + pw.length);
    password[0] = 0x70;
    new DataView(password.buffer).setInt32(1, 4 + pw.length);
    password.set(pw, 5);
    ws.send(new Uint8Array([...startupMessage({ user: "app.acme", database: "db" }), ...password]));
    return { attempts, frames, closed, settle: () => pending };
  }

  it(`tries a fresh pair after each 409, up to ${limits.backendKeyAttemptsMax} attempts`, async () => {
    const ok = await loginWith(limits.backendKeyAttemptsMax - 1);
    await expect.poll(() => ok.attempts.length).toBe(limits.backendKeyAttemptsMax);
    expect(new Set(ok.attempts).size).toBe(limits.backendKeyAttemptsMax);
    await ok.settle();
    expect(ok.frames.map((f) => String.fromCharCode(f[0]!))).not.toContain("E");

    const refused = await loginWith(limits.backendKeyAttemptsMax);
    await refused.closed;
    await refused.settle();
    expect(refused.attempts.length).toBe(limits.backendKeyAttemptsMax);
    const fields = errorFields(refused.frames[refused.frames.length - 1]!);
    expect(fields["C"]).toBe("08006");
    expect(fields["M"]).toMatch(/refused the connection \(HTTP 409\)/);
  });
});
