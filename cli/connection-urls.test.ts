import { describe, expect, it } from "vitest";
import { httpSqlUrl, parseTunnelUrl, tenantPgUrl, tunnelUrl } from "./connection-urls.ts";

describe("connection URLs", () => {
  it("puts the tenant in the user name and escapes the password", () => {
    const url = tenantPgUrl("acme", "p@ss/w:rd", { host: "127.0.0.1", port: 26257 });
    expect(url).toBe("postgresql://warren.acme:p%40ss%2Fw%3Ard@127.0.0.1:26257/defaultdb?sslmode=disable");
    const parsed = new URL(url);
    expect(decodeURIComponent(parsed.username)).toBe("warren.acme");
    expect(decodeURIComponent(parsed.password)).toBe("p@ss/w:rd");
  });
  it("brackets IPv6 hosts", () => {
    expect(tenantPgUrl("a", "p", { host: "::1", port: 5 })).toContain("@[::1]:5/");
    expect(parseTunnelUrl(tunnelUrl({ host: "::1", port: 5 }))).toEqual({ host: "::1", port: 5 });
  });
  it("round-trips the tunnel address through ready.json's form", () => {
    expect(tunnelUrl({ host: "127.0.0.1", port: 26257 })).toBe("postgresql://127.0.0.1:26257");
    expect(parseTunnelUrl("postgresql://127.0.0.1:26257")).toEqual({ host: "127.0.0.1", port: 26257 });
  });
  it("builds the HTTP SQL endpoint from the edge origin", () => {
    expect(httpSqlUrl("http://127.0.0.1:8787/")).toBe("http://127.0.0.1:8787/sql");
  });
});
