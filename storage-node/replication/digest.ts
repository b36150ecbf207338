// A hash of a replica's state, to prove two replicas equal (a rebuilt one against the leaseholder):
// sha256 over (length, key, length, value) of every key in the chosen spans, in key order, read in
// one synchronous pass so it is the state at exactly the apply point reported with it (entries are
// applied on the same thread: replicated-node.ts).
//
//   store:     every key a snapshot carries (snapshot-stream.ts SNAPSHOT_SPANS): tenant versions and
//              the node metadata every replica applies identically; not the log (each its own)
//   versions:  every MVCC version of every tenant [0x74, 0x75)
//   tenant N:  the versions of the user keys in one tenant's span [prefix(N), prefix(N + 1)): the
//              version keys in [escape(start), escape(end)) (mvcc/version-key.ts) — a key range, so
//              a tenant moved or split later is compared the same way
//
// The pass is O(keys in the spans) on the node's event loop: an operator and test tool, not a path
// taken under load (a store of a million keys takes about a second here).
import { createHash } from "node:crypto";
import { tenantSpan } from "../../common/tenant-prefix.ts";
import type { EngineReader } from "../engine/engine.ts";
import { escapedBound } from "../mvcc/version-key.ts";
import { u64, VERSIONS_HIGH, VERSIONS_LOW } from "../node-keys.ts";
import { SNAPSHOT_SPANS } from "./snapshot-stream.ts";

export type DigestScope = { kind: "store" } | { kind: "versions" } | { kind: "tenant"; tenantId: number };

export interface Digest {
  keys: number;
  sha256: string;
}

function spansOf(scope: DigestScope): Array<{ low: Uint8Array; high: Uint8Array }> {
  switch (scope.kind) {
    case "store":
      return SNAPSHOT_SPANS;
    case "versions":
      return [{ low: VERSIONS_LOW, high: VERSIONS_HIGH }];
    case "tenant": {
      const s = tenantSpan(scope.tenantId);
      return [{ low: escapedBound(s.start), high: escapedBound(s.end) }];
    }
  }
}

export function digestOf(reader: EngineReader, scope: DigestScope): Digest {
  const h = createHash("sha256");
  let keys = 0;
  for (const span of spansOf(scope)) {
    for (const e of reader.range(span)) {
      h.update(u64(BigInt(e.key.length))).update(e.key).update(u64(BigInt(e.value.length))).update(e.value);
      keys++;
    }
  }
  return { keys, sha256: h.digest("hex") };
}
