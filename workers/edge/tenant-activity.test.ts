// TenantActivity: idleness counts from the end of the last live work; open work is never idle;
// end() and endFrom() reach exactly the work they name, through each work's own timer.
import { afterEach, describe, expect, it, vi } from "vitest";
import { PgError } from "../../common/errors.ts";
import { limits } from "./limits.ts";
import { TenantActivity } from "./tenant-activity.ts";

const a = { tenantId: 2, name: "a" };
const b = { tenantId: 3, name: "b" };

afterEach(() => {
  vi.useRealTimers();
});

describe("TenantActivity", () => {
  it("finds a tenant idle only after idleMs without live work", () => {
    let now = 1_000;
    const act = new TenantActivity(() => now);
    const leave = act.enter(a, "session", "", () => {});
    now += 10_000;
    expect(act.idleTenants(5_000)).toEqual([]); // an open session is activity
    expect(act.nextIdleInMs(5_000)).toBe(null);
    leave();
    expect(act.nextIdleInMs(5_000)).toBe(5_000);
    now += 4_999;
    expect(act.idleTenants(5_000)).toEqual([]);
    now += 1;
    expect(act.idleTenants(5_000)).toEqual([a]);
    act.forget(a.tenantId);
    expect(act.idleTenants(5_000)).toEqual([]);
  });

  it("ends all work of one tenant, or only the work from one address, within liveWorkPollMs", () => {
    vi.useFakeTimers();
    const act = new TenantActivity();
    const ended: string[] = [];
    const mk = (t: typeof a, addr: string, label: string) => act.enter(t, "session", addr, (e) => ended.push(`${label}:${e.code}`));
    mk(a, "10.0.0.1", "a1");
    mk(a, "10.0.0.2", "a2");
    mk(b, "10.0.0.1", "b1");
    const keep = mk(b, "10.0.0.3", "b3");
    expect(act.endFrom("10.0.0.1", new PgError("insufficient_privilege", "denied"))).toBe(2);
    expect(ended).toEqual([]);
    vi.advanceTimersByTime(limits.liveWorkPollMs);
    expect(ended.sort()).toEqual(["a1:42501", "b1:42501"]);
    expect(act.end(a.tenantId, new PgError("admin_shutdown", "suspended"))).toBe(1);
    vi.advanceTimersByTime(limits.liveWorkPollMs);
    expect(ended).toContain("a2:57P01");
    expect(act.live(b.tenantId)).toEqual({ sessions: 1, requests: 0 });
    keep();
    expect(act.live(b.tenantId)).toEqual({ sessions: 0, requests: 0 });
  });
});
