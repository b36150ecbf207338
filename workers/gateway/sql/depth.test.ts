// Deep statements in Node: each works or ends in 54001 / 42601, never a stack overflow (XX000).
import { describe, it } from "vitest";
import { MemoryKv, memoryCapability } from "../kv/memory-kv.ts";
import { Session } from "./session.ts";
import { checkDepthCase, depthCases } from "./testing/depth-cases.ts";

describe("statement depth (Node)", () => {
  const s = new Session({ kv: memoryCapability(new MemoryKv()), tenantId: 23, statementTimeoutMsDefault: 120_000 });
  for (const c of depthCases) it(c.name, () => checkDepthCase(s, c), 120_000);
});
