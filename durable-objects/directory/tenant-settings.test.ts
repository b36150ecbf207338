import { describe, expect, it } from "vitest";
import { FREE_TIER } from "../../common/request-units.ts";
import { limits } from "../limits.ts";
import { formatCidr, parseCidr, cidrContains } from "./cidr.ts";
import { originAllowed } from "./origin.ts";
import { applySettingsPatch, DEFAULT_SETTINGS, parseSettingsPatch, settingsOf } from "./tenant-settings.ts";

function refused(body: Record<string, unknown>): string {
  const r = parseSettingsPatch(body);
  if (r.ok) throw new Error(`accepted ${JSON.stringify(body)}`);
  expect(r.error.condition).toBe("invalid_parameter_value");
  return r.error.message;
}

describe("tenant settings", () => {
  it("defaults to the free tier with no limits (entries stored before settings existed read as {})", () => {
    expect(settingsOf({})).toEqual({ ruPerSecond: FREE_TIER.refillRuPerSecond, burstRu: FREE_TIER.burstRu, spendLimitRu: null, atSpendLimit: "throttle", maxConnections: null, allowedCidrs: [], allowedOrigins: [] });
    expect(settingsOf(undefined)).toEqual(DEFAULT_SETTINGS);
  });

  it("accepts every setting at its bounds", () => {
    const r = parseSettingsPatch({
      ruPerSecond: limits.tenantRuPerSecondMax,
      burstRu: 0,
      spendLimitRu: limits.tenantSpendLimitRuMax,
      atSpendLimit: "refuse",
      maxConnections: limits.tenantConnectionsMax,
      allowedCidrs: ["10.0.0.0/8", "2001:DB8::/32", "192.168.1.7"],
    });
    expect(r).toEqual({
      ok: true,
      value: {
        ruPerSecond: limits.tenantRuPerSecondMax,
        burstRu: 0,
        spendLimitRu: limits.tenantSpendLimitRuMax,
        atSpendLimit: "refuse",
        maxConnections: limits.tenantConnectionsMax,
        allowedCidrs: ["10.0.0.0/8", "2001:db8::/32", "192.168.1.7/32"],
      },
    });
    expect(parseSettingsPatch({ ruPerSecond: 0, spendLimitRu: 1, maxConnections: 1 }).ok).toBe(true);
    expect(parseSettingsPatch({ spendLimitRu: null, maxConnections: null, allowedCidrs: [] }).ok).toBe(true);
    expect(parseSettingsPatch({ allowedCidrs: Array.from({ length: limits.tenantAllowedCidrsMax }, (_, i) => `10.${i}.0.0/16`) }).ok).toBe(true);
  });

  it("refuses each setting just past its bounds, naming the field and the bound", () => {
    expect(refused({ ruPerSecond: -0.001 })).toMatch(/"ruPerSecond" must be between 0 and 1000000/);
    expect(refused({ ruPerSecond: limits.tenantRuPerSecondMax + 1 })).toMatch(/"ruPerSecond"/);
    expect(refused({ ruPerSecond: "100" })).toMatch(/"ruPerSecond" must be a number/);
    expect(refused({ ruPerSecond: Number.POSITIVE_INFINITY })).toMatch(/must be a number/);
    expect(refused({ burstRu: -1 })).toMatch(/"burstRu"/);
    expect(refused({ burstRu: limits.tenantBurstRuMax * 2 })).toMatch(/"burstRu"/);
    expect(refused({ spendLimitRu: 0 })).toMatch(/"spendLimitRu" must be between 1/);
    expect(refused({ spendLimitRu: limits.tenantSpendLimitRuMax + 1e6 })).toMatch(/"spendLimitRu"/);
    expect(refused({ atSpendLimit: "block" })).toMatch(/"throttle" or "refuse"/);
    expect(refused({ maxConnections: 0 })).toMatch(/"maxConnections"/);
    expect(refused({ maxConnections: limits.tenantConnectionsMax + 1 })).toMatch(/"maxConnections"/);
    expect(refused({ maxConnections: 2.5 })).toMatch(/whole number/);
    expect(refused({ allowedCidrs: "10.0.0.0/8" })).toMatch(/array/);
    expect(refused({ allowedCidrs: Array.from({ length: limits.tenantAllowedCidrsMax + 1 }, () => "10.0.0.0/8") })).toMatch(/at most 64/);
    expect(refused({ allowedCidrs: ["10.0.0.1/8"] })).toMatch(/bits set to right of the mask \(the network is 10.0.0.0\/8\)/);
    expect(refused({ allowedCidrs: ["300.0.0.0/8"] })).toMatch(/not an IPv4 or IPv6 address/);
    expect(refused({ allowedCidrs: ["10.0.0.0/33"] })).toMatch(/prefix length "33" must be 0 to 32/);
    expect(refused({ allowedCidrs: [7] })).toMatch(/CIDR/);
    expect(refused({ maxconnections: 5 })).toMatch(/unknown setting "maxconnections"/);
  });

  it("stores allowed origins canonical and once, at most tenantAllowedOriginsMax of them", () => {
    expect(parseSettingsPatch({ allowedOrigins: ["HTTPS://App.Example.com:443", "https://app.example.com", "http://127.0.0.1:5173/"] })).toEqual({
      ok: true,
      value: { allowedOrigins: ["https://app.example.com", "http://127.0.0.1:5173"] },
    });
    expect(parseSettingsPatch({ allowedOrigins: Array.from({ length: limits.tenantAllowedOriginsMax }, (_, i) => `https://a${i}.example`) }).ok).toBe(true);
    expect(refused({ allowedOrigins: Array.from({ length: limits.tenantAllowedOriginsMax + 1 }, (_, i) => `https://a${i}.example`) })).toMatch(/at most 32/);
    expect(refused({ allowedOrigins: "https://a.example" })).toMatch(/"allowedOrigins" must be an array/);
    expect(refused({ allowedOrigins: ["https://a.example/app"] })).toMatch(/no path, query or user/);
    expect(refused({ allowedOrigins: ["https://user@a.example"] })).toMatch(/no path, query or user/);
    expect(refused({ allowedOrigins: ["ftp://a.example"] })).toMatch(/only http and https/);
    expect(refused({ allowedOrigins: ["a.example"] })).toMatch(/not an origin/);
    expect(refused({ allowedOrigins: [null] })).toMatch(/must be a string/);
  });

  it("matches a browser's Origin header against the allowed origins (empty: any)", () => {
    expect(originAllowed([], "https://anything.example")).toBe(true);
    expect(originAllowed(["https://app.example.com"], "https://app.example.com")).toBe(true);
    expect(originAllowed(["https://app.example.com"], "https://APP.example.com:443")).toBe(true);
    expect(originAllowed(["https://app.example.com"], "http://app.example.com")).toBe(false);
    expect(originAllowed(["https://app.example.com"], "https://evil.example")).toBe(false);
    expect(originAllowed(["https://app.example.com"], "null")).toBe(false);
  });

  it("applies a patch over the current settings without touching the rest", () => {
    const now = applySettingsPatch(settingsOf({}), { ruPerSecond: 5, allowedCidrs: ["10.0.0.0/8"] });
    expect(now).toMatchObject({ ruPerSecond: 5, burstRu: FREE_TIER.burstRu, allowedCidrs: ["10.0.0.0/8"] });
    expect(applySettingsPatch(now, { spendLimitRu: 9 })).toMatchObject({ ruPerSecond: 5, spendLimitRu: 9, allowedCidrs: ["10.0.0.0/8"] });
  });
});

describe("CIDR blocks", () => {
  it("parses IPv4 and IPv6 as PostgreSQL's cidr does, and prints them canonically", () => {
    const cases: Array<[string, string]> = [
      ["0.0.0.0/0", "0.0.0.0/0"],
      ["10.1.2.3", "10.1.2.3/32"],
      ["::/0", "::/0"],
      ["::1", "::1/128"],
      ["2001:0db8:0000:0000:0000:0000:0000:0000/32", "2001:db8::/32"],
      ["fe80::/10", "fe80::/10"],
      ["::ffff:10.0.0.0/104", "::ffff:a00:0/104"],
      ["1:0:0:2:0:0:0:3", "1:0:0:2::3/128"],
    ];
    for (const [input, canonical] of cases) {
      const c = parseCidr(input);
      if ("problem" in c) throw new Error(`${input}: ${c.problem}`);
      expect(formatCidr(c)).toBe(canonical);
    }
    for (const bad of ["", "10.0.0", "10.0.0.0.0/8", "010.0.0.0/8", "1::2::3/64", "1:2:3:4:5:6:7:8:9/64", "g::/8", "::/129", "10.0.0.0/8/9", "10.0.0.0/-1", "::ffff:10.0.0/104"]) {
      expect("problem" in parseCidr(bad), bad).toBe(true);
    }
  });

  it("tells whether an address is inside", () => {
    const c = parseCidr("192.168.0.0/16") as Exclude<ReturnType<typeof parseCidr>, { problem: string }>;
    expect(cidrContains(c, new Uint8Array([192, 168, 200, 1]))).toBe(true);
    expect(cidrContains(c, new Uint8Array([192, 169, 0, 1]))).toBe(false);
    expect(cidrContains(c, new Uint8Array(16))).toBe(false);
  });
});
