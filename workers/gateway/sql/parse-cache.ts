// A session's parsed statements by query text, so a text is parsed once per session however often
// it runs: a prepared statement executed again, the same simple Query sent in a loop, COPY FROM's
// batched INSERT of one shape. Bounded in entries and in the text it keeps (limits.ts); the least
// recently used text goes first. Parse errors are not kept (the next try reports them again).
import { deepFreeze } from "./parse/ast.ts";
import { sqlLimits } from "./limits.ts";
import type { Parsed } from "./parsed-statement.ts";

export class ParseCache {
  /** Map order is use order: the first key is the least recently used. */
  private readonly entries = new Map<string, readonly Parsed[]>();
  private textChars = 0;
  /** Texts parsed (cache misses) and texts answered from the cache, since the session began. */
  readonly stats = { parses: 0, hits: 0 };

  async get(sql: string, parse: (sql: string) => Promise<readonly Parsed[]>): Promise<readonly Parsed[]> {
    const found = this.entries.get(sql);
    if (found !== undefined) {
      this.stats.hits++;
      this.entries.delete(sql);
      this.entries.set(sql, found);
      return found;
    }
    this.stats.parses++;
    const parsed = await parse(sql);
    if (sql.length <= sqlLimits.parseCacheTextCharsMax) this.add(sql, parsed);
    return parsed;
  }

  private add(sql: string, parsed: readonly Parsed[]): void {
    // Another call may have parsed the same text meanwhile (the parser is asynchronous).
    if (this.entries.has(sql)) return;
    // Kept trees are shared by every later execution of the text: frozen, so a pass that wrote
    // into one (changing the next execution's statement) throws at once instead.
    for (const p of parsed) deepFreeze(p.tree);
    this.entries.set(sql, parsed);
    this.textChars += sql.length;
    while (this.entries.size > sqlLimits.parseCacheEntriesMax || this.textChars > sqlLimits.parseCacheTextCharsTotalMax) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
      this.textChars -= oldest.length;
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
