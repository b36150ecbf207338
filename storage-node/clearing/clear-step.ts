// One step of deleting a cleared span, inside the writer's write transaction: removes the version
// entries at the low end of the span, about `keysMax` of them, and says how many bytes of the
// tenant's counters they held. There is no cursor to keep: what a step deletes is gone, so the
// next step (or the first step after a restart) starts at the span's start again and finds the
// rest. A step ends on a user-key boundary (it finishes the versions of the key it is in), so
// the newest version of each key is always met first and the live-byte count stays exact.
import type { EngineWriter } from "../engine/engine.ts";
import type { ClearRecord } from "./cleared-spans.ts";
import { escapedBound, TOMBSTONE_KIND, VERSION_SUFFIX_BYTES } from "../mvcc/version-key.ts";

export interface ClearStepResult {
  /** Version entries removed. */
  removed: number;
  /** Bytes the removed versions counted in the tenant's counters (apply.ts accounting). */
  liveBytes: number;
  mvccBytes: number;
  /** The span holds no version any more. */
  exhausted: boolean;
}

/** The length of the user key of a version key: its escaped part less one byte per escaped zero. */
function userKeyLength(versionKey: Uint8Array): number {
  const n = versionKey.length - VERSION_SUFFIX_BYTES;
  let zeros = 0;
  for (let i = 0; i < n; i++) if (versionKey[i] === 0) zeros++;
  return n - zeros;
}

function sameEscapedKey(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = a.length - VERSION_SUFFIX_BYTES - 1; i >= 0; i--) if (a[i] !== b[i]) return false;
  return true;
}

export function clearStep(w: EngineWriter, rec: ClearRecord, keysMax: number): ClearStepResult {
  const low = escapedBound(rec.start);
  const high = escapedBound(rec.end);
  const doomed: Uint8Array[] = [];
  let liveBytes = 0;
  let mvccBytes = 0;
  let current: Uint8Array | null = null;
  let exhausted = true;
  for (const e of w.range({ low, high })) {
    const sameKey = current !== null && sameEscapedKey(e.key, current);
    if (doomed.length >= keysMax && !sameKey) {
      exhausted = false;
      break;
    }
    const keyLen = userKeyLength(e.key);
    const valueLen = e.value[0] === TOMBSTONE_KIND ? 0 : e.value.length - 1;
    // Same accounting as apply.ts: every version counts key + 8 + value in MVCC bytes; the newest
    // version of a key, unless a tombstone, counts key + value in live bytes.
    mvccBytes += keyLen + 8 + valueLen;
    if (!sameKey && e.value[0] !== TOMBSTONE_KIND) liveBytes += keyLen + valueLen;
    if (!sameKey) current = e.key;
    doomed.push(e.key);
  }
  for (const k of doomed) w.remove(k);
  return { removed: doomed.length, liveBytes, mvccBytes, exhausted };
}
