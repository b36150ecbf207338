// The KV conformance suite (kv-conformance.ts) over the in-memory KV, through the wire codec.
// The in-memory KV is a stand-in for tests of the layers above: it does not check tenant spans or
// key/value limits, and a malformed frame makes it throw (the codec's KvProtocolError) instead of
// answering malformed_request; those cases are skipped here and run against the storage node.
import { kvConformanceSuite } from "./kv-conformance.ts";
import { MemoryKv, memoryCapability } from "./memory-kv.ts";

const mem = new MemoryKv();

kvConformanceSuite(
  "in-memory KV",
  () => ({
    capability: async () => memoryCapability(mem),
    enforces: { limits: false, tenantSpans: false, malformedAnswered: false },
  }),
  100,
);
