import { describe, expect, it } from "vitest";
import { SYSTEM_TENANT_ID } from "../../common/tenant-prefix.ts";
import { MemoryKv, memoryCapability } from "./kv/memory-kv.ts";
import { createSession } from "./sql/session.ts";
import { warmUp } from "./warm-up.ts";
import { WARM_STEPS } from "./edge-contract.ts";

describe("gateway warm-up", () => {
  it("runs its statements end to end and leaves no catalog behind", async () => {
    await warmUp(); // throws if any statement fails
    // A session of the same id over other storage does not see the warm-up's table.
    const s = createSession({ kv: memoryCapability(new MemoryKv()), tenantId: SYSTEM_TENANT_ID });
    try {
      const err = (await s.execute("select * from warm").catch((e: unknown) => e)) as { code?: string };
      expect(err.code).toBe("42P01");
    } finally {
      s.close();
    }
  });

  it("runs in steps, one request each (WARM_STEPS), with the same result", async () => {
    for (const step of WARM_STEPS) await warmUp(step);
    const s = createSession({ kv: memoryCapability(new MemoryKv()), tenantId: SYSTEM_TENANT_ID });
    try {
      const err = (await s.execute("select * from warm").catch((e: unknown) => e)) as { code?: string };
      expect(err.code).toBe("42P01");
    } finally {
      s.close();
    }
  });
});
