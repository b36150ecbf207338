// The hardened routing proxy against the real stack (issue 11, acceptance 3):
//   - failed logins slow the failing client address exponentially (after three free ones: 1 s,
//     2 s, 4 s …); the right
//     password from another address is never refused, nor from an address that logged in before;
//   - the client address comes from the tunnel's signed header (a forged one is ignored);
//   - the deny list refuses an address or a tenant and ends its live sessions (measured, < 1 s
//     expected: each session checks its mark every 250 ms);
//   - maxConnections refuses session N+1 with 53300; allowedCidrs refuses other networks (28000).
// Addresses other than the tunnel's own (127.0.0.1) are sent as a tunnel would send them, signed
// with the stack's TUNNEL_SECRET, on POST /sql.
import fs from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedClientAddressHeaders } from "../cli/client-address-signer.ts";
import { dataPaths } from "../cli/data-dir.ts";
import { CLIENT_ADDRESS_HEADER, CLIENT_SIGNATURE_HEADER } from "../common/client-address.ts";
import { startStack, type Stack, type TenantConnection } from "./harness/stack.ts";

let stack: Stack;
let secret: string;

beforeAll(async () => {
  stack = await startStack();
  secret = fs.readFileSync(dataPaths(stack.dataDir).tunnelSecret, "utf8").trim();
});
afterAll(async () => {
  await stack?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** POST /sql as a client at `address` behind a tunnel; the SQLSTATE, hint, or "ok". */
async function sqlFrom(t: TenantConnection, address: string | null, password = t.password, headers: Record<string, string> = {}): Promise<{ code: string; hint?: string }> {
  const url = t.pg.replace(`:${encodeURIComponent(t.password)}@`, `:${encodeURIComponent(password)}@`);
  const res = await fetch(t.http, {
    method: "POST",
    headers: { "content-type": "application/json", "neon-connection-string": url, ...(address ? signedClientAddressHeaders(address, secret) : {}), ...headers },
    body: JSON.stringify({ query: "select 1 as one", params: [] }),
  });
  const body = (await res.json()) as { code?: string; hint?: string };
  return res.ok ? { code: "ok" } : { code: body.code ?? `HTTP ${res.status}`, ...(body.hint ? { hint: body.hint } : {}) };
}

async function pgConnect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  c.on("error", () => {});
  await c.connect();
  return c;
}

async function pgCode(url: string): Promise<string> {
  try {
    const c = await pgConnect(url);
    await c.end();
    return "ok";
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

function waitOf(hint: string | undefined): number {
  const m = /Wait (\d+) s/.exec(hint ?? "");
  return m ? Number(m[1]) : -1;
}

describe("failed-login throttle per client address", () => {
  it("slows X exponentially; the right password from Y, and from an address that logged in before, is never refused", async () => {
    const t = await stack.createTenant("guarded", "the right password");
    const X = "203.0.113.10";
    const Y = "203.0.113.20";
    const W = "198.51.100.7";
    expect((await sqlFrom(t, W)).code).toBe("ok"); // W has logged in before

    // X guesses: three typos are free; from then on each wrong password doubles the wait before X
    // may try again.
    for (let k = 0; k < 2; k++) expect((await sqlFrom(t, X, `typo ${k}`)).code).toBe("28P01");
    const waits: number[] = [];
    for (let k = 1; k <= 3; k++) {
      expect((await sqlFrom(t, X, `wrong guess ${k}`)).code).toBe("28P01");
      const refused = await sqlFrom(t, X, `wrong guess ${k}b`);
      expect(refused.code).toBe("28000");
      waits.push(waitOf(refused.hint));
      // The right password from X is refused too while X backs off (the guess is never checked).
      expect((await sqlFrom(t, X)).code).toBe("28000");
      // Y is never affected, whatever X does.
      expect((await sqlFrom(t, Y)).code).toBe("ok");
      await sleep(1_000 * 2 ** (k - 1) + 200);
    }
    expect(waits).toEqual([1, 2, 4]);
    // W, which logged in before, is not slowed by failures from its address.
    for (let i = 0; i < 5; i++) expect((await sqlFrom(t, W, `wrong ${i}`)).code).toBe("28P01");
    expect((await sqlFrom(t, W)).code).toBe("ok");
    // After its backoff X gets in with the right password, and is then exempt itself.
    expect((await sqlFrom(t, X)).code).toBe("ok");
    expect((await sqlFrom(t, X, "one more wrong")).code).toBe("28P01");
    expect((await sqlFrom(t, X)).code).toBe("ok");
  });

  it("ignores an address header with a wrong signature (the request counts as the forger's own address)", async () => {
    const t = await stack.createTenant("forged", "the right password");
    const forged = { ...signedClientAddressHeaders("203.0.113.99", "not-the-tunnel-secret-0123456789abcdef") };
    expect(forged[CLIENT_ADDRESS_HEADER]).toBe("203.0.113.99");
    // Three free failures, then (after the 1 s wait) a fourth: the forger's own address now waits 2 s.
    for (let i = 0; i < 3; i++) expect((await sqlFrom(t, null, "wrong", forged)).code).toBe("28P01");
    await sleep(1_200);
    expect((await sqlFrom(t, null, "wrong", forged)).code).toBe("28P01");
    // They were charged to its real address: that one is refused, forged header or not…
    expect((await sqlFrom(t, null, "the right password", { [CLIENT_ADDRESS_HEADER]: "203.0.113.98", [CLIENT_SIGNATURE_HEADER]: "1.x" })).code).toBe("28000");
    // …while 203.0.113.99, which the forger named, was never charged.
    expect((await sqlFrom(t, "203.0.113.99")).code).toBe("ok");
  });

  it("throttles SCRAM logins through the tunnel by the tunnel's client address", async () => {
    const t = await stack.createTenant("scramthrottle", "the right password");
    const wrong = t.pg.replace(`:${encodeURIComponent(t.password)}@`, ":a wrong password@");
    for (let i = 0; i < 3; i++) expect(await pgCode(wrong)).toBe("28P01");
    expect(await pgCode(t.pg)).toBe("28000");
    await sleep(1_300);
    expect(await pgCode(t.pg)).toBe("ok");
    // Logged in now: later mistakes from this address do not lock it out.
    expect(await pgCode(wrong)).toBe("28P01");
    expect(await pgCode(t.pg)).toBe("ok");
  });
});

describe("deny list, connection limit, allowed networks", () => {
  it("ends a denied address's live session and refuses it until removed", async () => {
    const t = await stack.createTenant("denyme");
    const c = await pgConnect(t.pg);
    expect((await c.query("select 1 as x")).rows).toEqual([{ x: 1 }]);
    const ended = new Promise<number>((resolve) => c.once("end", () => resolve(Date.now())));
    const startedAt = Date.now();
    const added = await stack.warren(["deny", "add", "127.0.0.1"]);
    expect(added.code, added.stderr).toBe(0);
    const endedAt = await Promise.race([ended, sleep(10_000).then(() => -1)]);
    expect(endedAt).toBeGreaterThan(0);
    // Printed, not asserted: the CLI's own start-up (a Node process) is inside this figure.
    console.log(`deny list: live session ended ${endedAt - startedAt} ms after \`warren deny add\` started (CLI took ${Math.round(added.ms)} ms)`);
    expect(await pgCode(t.pg)).toBe("28000");
    expect((await sqlFrom(t, "127.0.0.1")).code).toBe("28000");
    expect((await sqlFrom(t, "127.0.0.2")).code).toBe("ok");
    expect((await stack.warren(["deny", "remove", "127.0.0.1"])).code).toBe(0);
    expect(await pgCode(t.pg)).toBe("ok");

    expect((await stack.warren(["deny", "add", "tenant:denyme"])).code).toBe(0);
    expect((await sqlFrom(t, "127.0.0.2")).code).toBe("28000");
    const list = await stack.warren(["deny", "list", "--json"]);
    expect(JSON.parse(list.stdout)).toEqual({ addresses: [], tenants: ["denyme"] });
    expect((await stack.warren(["deny", "remove", "tenant:denyme"])).code).toBe(0);
    expect((await sqlFrom(t, "127.0.0.2")).code).toBe("ok");
  });

  it("refuses connection N+1 with 53300 (maxConnections) and other networks with 28000 (allowedCidrs)", async () => {
    const t = await stack.createTenant("capped");
    expect((await stack.warren(["tenant", "alter", "capped", "--max-connections", "2"])).code).toBe(0);
    const a = await pgConnect(t.pg);
    const b = await pgConnect(t.pg);
    expect(await pgCode(t.pg)).toBe("53300");
    await a.end();
    await sleep(200);
    expect(await pgCode(t.pg)).toBe("ok");
    await b.end();

    expect((await stack.warren(["tenant", "alter", "capped", "--allow", "10.0.0.0/8"])).code).toBe(0);
    expect(await pgCode(t.pg)).toBe("28000"); // the tunnel's clients are 127.0.0.1
    expect((await sqlFrom(t, "10.1.2.3")).code).toBe("ok");
    expect((await sqlFrom(t, "192.0.2.1")).code).toBe("28000");
    expect((await stack.warren(["tenant", "alter", "capped", "--allow", "any"])).code).toBe(0);
    expect(await pgCode(t.pg)).toBe("ok");
  });
});

describe("POST /sql body limit", () => {
  it("answers 400 / 54000 for a body over the limit at any size, declared or streamed", async () => {
    const t = await stack.createTenant("bigbody");
    const post = async (body: BodyInit, extra: RequestInit = {}) => {
      const res = await fetch(t.http, { method: "POST", headers: { "content-type": "application/json", "neon-connection-string": t.pg }, body, ...extra });
      const text = await res.text();
      return { status: res.status, code: (JSON.parse(text) as { code?: string }).code };
    };
    const query = (n: number) => JSON.stringify({ query: `select '${"x".repeat(n)}' as s`, params: [] });
    expect(await post(query(1000))).toEqual({ status: 200, code: undefined });
    for (const bytes of [1024 * 1024 + 1, 8 * 1024 * 1024, 32 * 1024 * 1024]) {
      expect(await post(query(bytes))).toEqual({ status: 400, code: "54000" });
    }
    // Streamed without a Content-Length.
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 4 * 1024 * 1024) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    expect(await post(stream, { duplex: "half" } as RequestInit)).toEqual({ status: 400, code: "54000" });
    // And the stack still serves.
    expect(await post(query(10))).toEqual({ status: 200, code: undefined });
  });
});
