// Deep statements inside workerd, whose stack is smaller than Node's: each works or ends in
// 54001 / 42601, never a JavaScript stack overflow (XX000). The limits in limits.ts
// (nestingDepthMax, parseTreeDepthMax) were set from where these shapes overflowed here.
import { describe, it } from "vitest";
import { MemoryKv, memoryCapability } from "../kv/memory-kv.ts";
import { Session } from "./session.ts";
import { checkDepthCase, depthCases } from "./testing/depth-cases.ts";

describe("statement depth (workerd)", () => {
  const s = new Session({ kv: memoryCapability(new MemoryKv()), tenantId: 24, statementTimeoutMsDefault: 120_000 });
  for (const c of depthCases) it(c.name, () => checkDepthCase(s, c), 120_000);
});
