// The isolate's per-tenant limits: limits.ts by default, the EDGE_* vars when set (tests reach the
// edges with them), and a malformed var refused rather than silently ignored.
import { describe, expect, it } from "vitest";
import { limits } from "./limits.ts";
import { isolateTenantLimits, limitsFor } from "./tenant-limits.ts";

describe("tenant limits", () => {
  it("defaults to limits.ts", () => {
    expect(isolateTenantLimits({})).toEqual({
      sqlRequestsMax: limits.sqlRequestsPerTenantMax,
      sqlQueueMax: limits.sqlQueuePerTenantMax,
      sqlQueueWaitMs: limits.sqlQueueWaitMsMax,
      refusalHoldMs: limits.sqlRefusalHoldMs,
      refusalsHeldMax: limits.sqlRefusalsHeldPerTenantMax,
      refusalsPerSecond: limits.sqlRefusalsPerTenantPerSecond,
      refusalHoldMsMax: limits.sqlRefusalHoldMsMax,
      pgSessionsMax: limits.pgSessionsPerTenantMax,
      loginsMax: limits.loginsPerTenantMax,
      loginQueueMax: limits.loginQueuePerTenantMax,
      loginQueueWaitMs: limits.loginQueueWaitMsMax,
      preStartupTotalMax: limits.preStartupWebSocketsMax,
      preStartupPerTenantMax: limits.preStartupWebSocketsPerTenantMax,
      preStartupTimeoutMs: limits.preStartupTimeoutMs,
    });
  });

  it("takes the EDGE_* vars (0 is a valid queue length and wait, not a valid running or session count)", () => {
    const l = isolateTenantLimits({
      EDGE_SQL_REQUESTS_PER_TENANT: "1",
      EDGE_SQL_QUEUE_PER_TENANT: "0",
      EDGE_SQL_QUEUE_WAIT_MS: "0",
      EDGE_SQL_REFUSAL_HOLD_MS: "0",
      EDGE_SQL_REFUSALS_HELD: "7",
      EDGE_SQL_REFUSALS_PER_SECOND: "0",
      EDGE_PG_SESSIONS_PER_TENANT: "3",
      EDGE_LOGINS_PER_TENANT: "2",
      EDGE_LOGIN_QUEUE_PER_TENANT: "0",
      EDGE_LOGIN_QUEUE_WAIT_MS: "0",
      EDGE_PRESTARTUP_TOTAL: "4",
      EDGE_PRESTARTUP_PER_TENANT: "2",
      EDGE_PRESTARTUP_TIMEOUT_MS: "300",
    });
    expect(l).toEqual({ sqlRequestsMax: 1, sqlQueueMax: 0, sqlQueueWaitMs: 0, refusalHoldMs: 0, refusalsHeldMax: 7, refusalsPerSecond: 0, refusalHoldMsMax: limits.sqlRefusalHoldMsMax, pgSessionsMax: 3, loginsMax: 2, loginQueueMax: 0, loginQueueWaitMs: 0, preStartupTotalMax: 4, preStartupPerTenantMax: 2, preStartupTimeoutMs: 300 });
    expect(() => isolateTenantLimits({ EDGE_LOGINS_PER_TENANT: "0" })).toThrow(/EDGE_LOGINS_PER_TENANT must be an integer of at least 1/);
    expect(() => isolateTenantLimits({ EDGE_SQL_REQUESTS_PER_TENANT: "0" })).toThrow(/EDGE_SQL_REQUESTS_PER_TENANT must be an integer of at least 1/);
    expect(() => isolateTenantLimits({ EDGE_PG_SESSIONS_PER_TENANT: "ten" })).toThrow(/EDGE_PG_SESSIONS_PER_TENANT/);
    expect(() => isolateTenantLimits({ EDGE_SQL_QUEUE_WAIT_MS: "-5" })).toThrow(/EDGE_SQL_QUEUE_WAIT_MS/);
  });

  it("gives every tenant the isolate's limits until the control plane sends per-tenant ones", () => {
    const isolate = isolateTenantLimits({});
    expect(limitsFor(isolate, { tenantId: 2, name: "acme" })).toEqual(isolate);
  });
});
