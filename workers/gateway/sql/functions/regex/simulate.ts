// The Pike VM: an NFA run over the text with the set of live states kept per position (Thompson's
// simulation), so each position costs at most one visit per state and no input can make it
// backtrack. A run goes forward (edges consume text[p]) or backward over the reversed automaton
// (edges consume text[p-1]); each live state may carry one number (a start or origin position)
// and, when two threads reach one state, the preferred number survives. Every state visit counts
// one step on the Meter, which tests use to check linear growth and the back-reference matcher
// uses as its budget.

import { isWordChar } from "./charset.ts";
import { EdgeKind, type Graph, type Nfa } from "./nfa.ts";
import { PgError } from "../../../../../common/errors.ts";

/** Counts matcher work; throws once `limit` is passed (how depends on `backtracking`). */
export class Meter {
  steps = 0;
  limit: number;
  /** Whether the work is a back-reference search (Postgres's "too complex") or linear matching. */
  backtracking = false;

  constructor(limit = Number.POSITIVE_INFINITY) {
    this.limit = limit;
  }

  tick(n: number): void {
    this.steps += n;
    if (this.steps > this.limit) throw this.exceeded();
  }

  private exceeded(): PgError {
    if (this.backtracking) {
      return new PgError("invalid_regular_expression", "regular expression failed: regular expression is too complex", {
        detail: `The match needed more than ${this.limit} steps; patterns with back-references are matched by backtracking, which is bounded.`,
        hint: "Simplify the pattern or remove the back-reference.",
      });
    }
    return new PgError("program_limit_exceeded", `regular expression search needs more than ${this.limit} steps`, {
      detail: "Matching costs about the text length times the pattern's size; this search is too large for one call.",
      hint: "Match against shorter text or a simpler pattern.",
    });
  }
}

/** One text being matched: its code points, lookaround tables (built on first use) and the meter. */
export class Subject {
  private readonly lookTables: Array<Uint8Array | undefined> = [];
  /** The text as given, its code points, and the UTF-16 offset of each code point (null: same index). */
  readonly source: string;
  readonly text: Int32Array;
  private readonly offsets: Int32Array | null;
  readonly meter: Meter;
  private readonly lookarounds: ReadonlyArray<{ readonly nfa: Nfa; readonly ahead: boolean; readonly negate: boolean }>;

  constructor(
    source: string,
    text: Int32Array,
    offsets: Int32Array | null,
    lookarounds: ReadonlyArray<{ readonly nfa: Nfa; readonly ahead: boolean; readonly negate: boolean }>,
    meter: Meter,
  ) {
    this.source = source;
    this.text = text;
    this.offsets = offsets;
    this.lookarounds = lookarounds;
    this.meter = meter;
  }

  /** The text between code point positions start and end. */
  slice(start: number, end: number): string {
    const o = this.offsets;
    return o === null ? this.source.slice(start, end) : this.source.slice(o[start]!, o[end]!);
  }

  get length(): number {
    return this.text.length;
  }

  private wordAt(p: number): boolean {
    return p >= 0 && p < this.text.length && isWordChar(this.text[p]!);
  }

  /** Position test by its code (nfa.ts ASSERT_CODES). */
  test(code: number, p: number): boolean {
    const n = this.text.length;
    switch (code) {
      case 0: return p === 0;
      case 1: return p === n;
      case 2: return p === 0 || this.text[p - 1] === 10;
      case 3: return p === n || this.text[p] === 10;
      case 4: return !this.wordAt(p - 1) && this.wordAt(p);
      case 5: return this.wordAt(p - 1) && !this.wordAt(p);
      case 6: return this.wordAt(p - 1) !== this.wordAt(p);
      default: return this.wordAt(p - 1) === this.wordAt(p);
    }
  }

  /**
   * Whether lookaround `i` holds at p. The first question about a lookaround answers it for every
   * position in one pass (lookahead: the reversed body run from the end, started afresh at each
   * position; lookbehind: the body run forward likewise), so lookarounds stay linear too.
   */
  look(i: number, p: number): boolean {
    let t = this.lookTables[i];
    if (t === undefined) {
      const la = this.lookarounds[i]!;
      t = anywhereTable(la.nfa, this, la.ahead);
      this.lookTables[i] = t;
    }
    return (t[p] === 1) !== this.lookarounds[i]!.negate;
  }
}

/** The live states at one position, in priority order, with one number each. */
class Threads {
  readonly states: Int32Array;
  readonly pay: Int32Array;
  size = 0;
  /** Where state s sits in `states` (valid while seen[s] === gen). */
  private readonly index: Int32Array;
  private readonly seen: Int32Array;
  private gen = 1;
  private readonly stack: Int32Array;

  constructor(n: number) {
    this.states = new Int32Array(n);
    this.pay = new Int32Array(n);
    this.index = new Int32Array(n);
    this.seen = new Int32Array(n);
    this.stack = new Int32Array(n + 1);
  }

  clear(): void {
    this.size = 0;
    this.gen++;
  }

  has(s: number): boolean {
    return this.seen[s] === this.gen;
  }

  /** The number carried by state s (which must be present). */
  payOf(s: number): number {
    return this.pay[this.index[s]!]!;
  }

  /**
   * Adds s and everything reachable from it through ε edges and position tests that hold at p.
   * The first thread to reach a state keeps it, so callers add threads best first.
   */
  add(g: Graph, s: number, pay: number, p: number, subj: Subject): void {
    const seen = this.seen;
    const gen = this.gen;
    if (seen[s] === gen) return;
    const stack = this.stack;
    const { epsStart, epsTo, epsKind, epsArg } = g;
    let top = 0;
    seen[s] = gen;
    stack[top++] = s;
    let visits = 0;
    while (top > 0) {
      const x = stack[--top]!;
      visits++;
      this.index[x] = this.size;
      this.states[this.size] = x;
      this.pay[this.size++] = pay;
      for (let k = epsStart[x]!, end = epsStart[x + 1]!; k < end; k++) {
        const to = epsTo[k]!;
        if (seen[to] === gen) continue;
        const kind = epsKind[k]!;
        if (kind === EdgeKind.Assert && !subj.test(epsArg[k]!, p)) continue;
        if (kind === EdgeKind.Look && !subj.look(epsArg[k]!, p)) continue;
        seen[to] = gen;
        stack[top++] = to;
      }
    }
    subj.meter.tick(visits);
  }
}

const scratch = new WeakMap<Nfa, [Threads, Threads]>();

/**
 * Two thread lists for a pass over nfa, reused between passes (allocating typed arrays per
 * search dominated short searches). Passes over one automaton never nest, so one pair suffices.
 */
function threadsFor(nfa: Nfa): [Threads, Threads] {
  let t = scratch.get(nfa);
  if (t === undefined) {
    t = [new Threads(nfa.size), new Threads(nfa.size)];
    scratch.set(nfa, t);
  }
  return t;
}

/** Moves every thread across one character: forward consumes text[p-1] to reach p, backward text[p]. */
function step(g: Graph, cur: Threads, next: Threads, ch: number, p: number, subj: Subject): void {
  next.clear();
  const { chStart, chTo, chSet } = g;
  const states = cur.states;
  for (let i = 0; i < cur.size; i++) {
    const x = states[i]!;
    for (let k = chStart[x]!, end = chStart[x + 1]!; k < end; k++) {
      if (chSet[k]!.has(ch)) next.add(g, chTo[k]!, cur.pay[i]!, p, subj);
    }
  }
}

/**
 * The leftmost match at or after `from`: its start, and its longest end (or shortest when
 * `shortest`). Threads carry their start; the smaller start wins a state, which keeps the
 * answer leftmost while the run stays one pass.
 */
export function searchLeftmost(nfa: Nfa, subj: Subject, from: number, shortest: boolean): [number, number] | null {
  const n = subj.length;
  const text = subj.text;
  let [cur, next] = threadsFor(nfa);
  let bestStart = -1;
  let bestEnd = -1;
  cur.clear();
  const first = nfa.first;
  for (let p = from; p <= n; p++) {
    if (first !== null && bestStart < 0 && cur.size === 0) {
      // Nothing is in progress: skip to the next character a match can begin with.
      while (p < n && !first.has(text[p]!)) p++;
      if (p === n) break;
    }
    if (bestStart < 0) cur.add(nfa.fwd, nfa.start, p, p, subj);
    // An accept at p, from the leftmost start that reached it.
    if (cur.has(nfa.accept)) {
      const s = cur.payOf(nfa.accept);
      if (bestStart < 0 || s < bestStart) {
        bestStart = s;
        bestEnd = p;
      } else if (s === bestStart && !shortest) {
        bestEnd = p;
      }
    }
    if (bestStart >= 0) {
      // Only threads that started no later than the best start can still matter.
      let live = 0;
      for (let i = 0; i < cur.size; i++) {
        const s = cur.pay[i]!;
        if (s < bestStart || (s === bestStart && !shortest)) live++;
      }
      if (live === 0) break;
    }
    if (p === n) break;
    step(nfa.fwd, cur, next, text[p]!, p + 1, subj);
    { const t = cur; cur = next; next = t; }
    if (cur.size === 0 && bestStart >= 0) break;
  }
  return bestStart < 0 ? null : [bestStart, bestEnd];
}

/** ends[e - from] = 1 when the NFA matches text[from, e), for e in [from, limit]. */
export function matchEnds(nfa: Nfa, subj: Subject, from: number, limit: number): Uint8Array {
  const out = new Uint8Array(limit - from + 1);
  let [cur, next] = threadsFor(nfa);
  cur.clear();
  cur.add(nfa.fwd, nfa.start, 0, from, subj);
  for (let p = from; ; p++) {
    if (cur.has(nfa.accept)) out[p - from] = 1;
    if (p === limit || cur.size === 0) break;
    step(nfa.fwd, cur, next, subj.text[p]!, p + 1, subj);
    { const t = cur; cur = next; next = t; }
  }
  return out;
}

/** starts[s - limit] = 1 when the NFA matches text[s, to), for s in [limit, to]. */
export function matchStarts(nfa: Nfa, subj: Subject, to: number, limit: number): Uint8Array {
  const out = new Uint8Array(to - limit + 1);
  let [cur, next] = threadsFor(nfa);
  cur.clear();
  cur.add(nfa.bwd, nfa.accept, 0, to, subj);
  for (let p = to; ; p--) {
    if (cur.has(nfa.start)) out[p - limit] = 1;
    if (p === limit || cur.size === 0) break;
    step(nfa.bwd, cur, next, subj.text[p - 1]!, p - 1, subj);
    { const t = cur; cur = next; next = t; }
  }
  return out;
}

/** Whether the NFA matches exactly text[from, to). */
export function matchesSpan(nfa: Nfa, subj: Subject, from: number, to: number): boolean {
  return matchEnds(nfa, subj, from, to)[to - from] === 1;
}

/**
 * For the iteration x* over text[begin, end): next[p - begin] is the end of the first iteration
 * in Postgres's preferred split of text[p, end) into non-empty iterations of x (the longest
 * first iteration for a greedy x, the shortest for a non-greedy one), or -1 when text[p, end)
 * cannot be split so. One backward pass: a thread is started at every position q from which the
 * rest can be split, carrying q as its origin; reaching x's start at p means x matches
 * text[p, q), and the largest (or smallest) surviving origin is the preferred q.
 */
export function iterationSplits(nfa: Nfa, subj: Subject, begin: number, end: number, greedy: boolean): Int32Array {
  const next = new Int32Array(end - begin + 1).fill(-1);
  const feasible = new Uint8Array(end - begin + 1);
  feasible[end - begin] = 1;
  let [cur, nxt] = threadsFor(nfa);
  cur.clear();
  for (let p = end; ; p--) {
    // Threads that reached x's start here (their origin q > p, as each consumed a character).
    const best = cur.has(nfa.start) ? cur.payOf(nfa.start) : -1;
    if (best >= 0 && p < end) {
      next[p - begin] = best;
      feasible[p - begin] = 1;
    }
    if (feasible[p - begin] === 1) {
      // Origin p: for a greedy x it is the worst origin so far (goes last); for a non-greedy x
      // the best (goes first).
      if (greedy) cur.add(nfa.bwd, nfa.accept, p, p, subj);
      else {
        const old = cur;
        nxt.clear();
        nxt.add(nfa.bwd, nfa.accept, p, p, subj);
        for (let i = 0; i < old.size; i++) nxt.add(nfa.bwd, old.states[i]!, old.pay[i]!, p, subj);
        cur = nxt;
        nxt = old;
      }
    }
    if (p === begin) break;
    step(nfa.bwd, cur, nxt, subj.text[p - 1]!, p - 1, subj);
    { const t = cur; cur = nxt; nxt = t; }
  }
  return next;
}

/**
 * table[p] = 1 when the NFA matches some text starting at p (ahead) or ending at p (behind):
 * one pass with a fresh thread started at every position.
 */
function anywhereTable(nfa: Nfa, subj: Subject, ahead: boolean): Uint8Array {
  const n = subj.length;
  const table = new Uint8Array(n + 1);
  let [cur, next] = threadsFor(nfa);
  cur.clear();
  if (ahead) {
    for (let p = n; ; p--) {
      cur.add(nfa.bwd, nfa.accept, 0, p, subj);
      if (cur.has(nfa.start)) table[p] = 1;
      if (p === 0) break;
      step(nfa.bwd, cur, next, subj.text[p - 1]!, p - 1, subj);
      { const t = cur; cur = next; next = t; }
    }
  } else {
    for (let p = 0; ; p++) {
      cur.add(nfa.fwd, nfa.start, 0, p, subj);
      if (cur.has(nfa.accept)) table[p] = 1;
      if (p === n) break;
      step(nfa.fwd, cur, next, subj.text[p]!, p + 1, subj);
      { const t = cur; cur = next; next = t; }
    }
  }
  return table;
}

/** The smallest e such that the NFA matches some text[s, e) with s ≥ from, or -1. */
export function firstMatchEnd(nfa: Nfa, subj: Subject, from: number): number {
  const n = subj.length;
  let [cur, next] = threadsFor(nfa);
  cur.clear();
  const first = nfa.first;
  for (let p = from; ; p++) {
    if (first !== null && cur.size === 0) {
      while (p < n && !first.has(subj.text[p]!)) p++;
      if (p === n) return -1;
    }
    cur.add(nfa.fwd, nfa.start, 0, p, subj);
    if (cur.has(nfa.accept)) return p;
    if (p === n) return -1;
    step(nfa.fwd, cur, next, subj.text[p]!, p + 1, subj);
    { const t = cur; cur = next; next = t; }
  }
}
