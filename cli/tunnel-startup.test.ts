// The tunnel's own reading of a connection's first packets: 'N' to SSLRequest / GSSENCRequest, a
// StartupMessage (with the tenant it names, by the edge's rules) or a CancelRequest, split across
// reads or arriving together with what follows, and malformed input refused with a SQLSTATE.
import { describe, expect, it } from "vitest";
import { PgError } from "../common/errors.ts";
import { TunnelStartup } from "./tunnel-startup.ts";

function packet(code: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(code, 4);
  return Buffer.concat([head, body]);
}
const sslRequest = () => packet(80877103);
const gssencRequest = () => packet(80877104);
function startupMessage(params: Record<string, string>): Buffer {
  return packet(196608, Buffer.concat([...Object.entries(params).map(([k, v]) => Buffer.from(`${k}\0${v}\0`)), Buffer.from([0])]));
}
function cancelRequest(pid: number, key: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeInt32BE(pid, 0);
  b.writeInt32BE(key, 4);
  return packet(80877102, b);
}

describe("TunnelStartup", () => {
  it("answers SSLRequest and GSSENCRequest with N, then reads the StartupMessage and its tenant", () => {
    const s = new TunnelStartup(10_000, "127.0.0.1");
    const msg = startupMessage({ user: "app.acme", database: "db" });
    const step = s.push(Buffer.concat([gssencRequest(), sslRequest(), msg]));
    expect(step.kind).toBe("session");
    if (step.kind !== "session") return;
    expect(step.replies.map((r) => r.toString())).toEqual(["N", "N"]);
    expect(step.first.equals(msg)).toBe(true);
    expect(step.rest.length).toBe(0);
    expect(step.tenant).toBe("acme");
  });

  it("finds the tenant in every form the edge accepts, and none when the forms disagree or name none", () => {
    const tenant = (params: Record<string, string>, host?: string) => {
      const step = new TunnelStartup(10_000, host).push(startupMessage(params));
      return step.kind === "session" ? step.tenant : "not a session";
    };
    expect(tenant({ user: "app", options: "--cluster=acme" })).toBe("acme");
    expect(tenant({ user: "app", database: "acme.db" })).toBe("acme");
    expect(tenant({ user: "app" }, "acme.warren.example.com")).toBe("acme");
    expect(tenant({ user: "app.acme", database: "other.db" })).toBeNull();
    expect(tenant({ user: "postgres", database: "postgres" }, "127.0.0.1")).toBeNull();
  });

  it("waits for a packet split across reads, and keeps what follows it (a pipelined password)", () => {
    const s = new TunnelStartup(10_000, undefined);
    const msg = startupMessage({ user: "app.acme" });
    const password = Buffer.from([0x70, 0, 0, 0, 8, 0x61, 0x62, 0]);
    expect(s.push(msg.subarray(0, 3)).kind).toBe("more");
    expect(s.push(msg.subarray(3, 10)).kind).toBe("more");
    const step = s.push(Buffer.concat([msg.subarray(10), password]));
    expect(step.kind).toBe("session");
    if (step.kind !== "session") return;
    expect(step.first.equals(msg)).toBe(true);
    expect(step.rest.equals(password)).toBe(true);
  });

  it("passes a CancelRequest on whole", () => {
    const c = cancelRequest(12345, -7);
    const step = new TunnelStartup(10_000, undefined).push(c);
    expect(step.kind).toBe("cancel");
    if (step.kind === "cancel") expect(step.first.equals(c)).toBe(true);
  });

  it("refuses a startup packet longer than the bound (08P01) and accepts one exactly at it", () => {
    const msg = startupMessage({ user: "app.acme", application_name: "x".repeat(50) });
    expect(new TunnelStartup(msg.length, undefined).push(msg).kind).toBe("session");
    const err = (() => {
      try {
        new TunnelStartup(msg.length - 1, undefined).push(msg.subarray(0, 4));
      } catch (e) {
        return e as PgError;
      }
      return null;
    })();
    expect(err?.code).toBe("08P01");
    expect(err?.message).toMatch(/invalid length of startup packet/);
  });

  it("refuses an unknown protocol version with 0A000", () => {
    expect(() => new TunnelStartup(10_000, undefined).push(packet(2 << 16, Buffer.from([0])))).toThrow(/unsupported frontend protocol 2\.0/);
  });
});
