// A set of strings split over many JavaScript Sets by a hash of the string.
//
// Why: a Set grows by rehashing all of its entries in one synchronous step. At millions of entries
// (count(DISTINCT …) over 1e7 rows) one such step takes tens to hundreds of milliseconds that the
// statement budget cannot interrupt, and locally every tenant shares the thread (issue 7: the
// victim's p99 went to ~10× its solo figure under count(distinct) on a quiet machine). With
// SHARDS sets each rehash moves 1/SHARDS of the entries, so no single step is long.
const SHARDS = 256;

export class ShardedStringSet {
  private readonly shards: Array<Set<string>> = Array.from({ length: SHARDS }, () => new Set<string>());
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds `s`; returns false when it was already there. */
  add(s: string): boolean {
    const shard = this.shards[shardOf(s)]!;
    if (shard.has(s)) return false;
    shard.add(s);
    this.count++;
    return true;
  }

  has(s: string): boolean {
    return this.shards[shardOf(s)]!.has(s);
  }
}

/** FNV-1a over at most 32 code units (spread from both ends), folded to a shard index. */
function shardOf(s: string): number {
  let h = 0x811c9dc5;
  const n = s.length;
  const step = n <= 32 ? 1 : Math.floor(n / 32);
  for (let i = 0; i < n; i += step) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= s.charCodeAt(n - 1) | 0;
  h = Math.imul(h, 0x01000193);
  return (h >>> 0) % SHARDS;
}
