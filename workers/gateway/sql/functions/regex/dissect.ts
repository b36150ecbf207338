// Where the captures fall inside a match, by Postgres's rules (regexec.c's cdissect family):
// a concatenation splits where its left part prefers (longest unless it is non-greedy), an
// alternation takes its first branch that spans the text, an iteration splits greedily or
// lazily from the left and reports its last round.
//
// Without back-references every choice the automata allow is valid, so each choice is computed
// directly from match sets (one forward and one backward Pike-VM pass per node, one backward pass
// per unbounded iteration): linear in the text for each node. With back-references a choice may
// fail the exact check, and the matcher backtracks like Postgres's, counted by the Meter.

import { INFINITE, SHORTER } from "./ast.ts";
import type { Nfa } from "./nfa.ts";
import { iterationSplits, matchEnds, matchesSpan, matchStarts, type Subject } from "./simulate.ts";
import type { Subre } from "./subre.ts";

export interface TreeAutomata {
  /** The NFA of each tree node, by Subre.id (compiled on first use). */
  nfa(t: Subre): Nfa;
  readonly icase: boolean;
}

/** Capture positions: caps[2g], caps[2g+1] for group g (-1 when it did not participate). */
export type Captures = Int32Array;

function setCapture(t: Subre, caps: Captures, begin: number, end: number): void {
  if (t.capno > 0 && t.capno * 2 + 1 < caps.length) {
    caps[t.capno * 2] = begin;
    caps[t.capno * 2 + 1] = end;
  }
}

/** The linear dissection, for trees without back-references. */
export function dissect(t: Subre, begin: number, end: number, subj: Subject, at: TreeAutomata, caps: Captures): void {
  switch (t.op) {
    case "=":
    case "b":
      break;
    case "(":
      dissect(t.children[0]!, begin, end, subj, at, caps);
      break;
    case ".": {
      const [left, right] = t.children as [Subre, Subre];
      const ends = matchEnds(at.nfa(left), subj, begin, end);
      const starts = matchStarts(at.nfa(right), subj, end, begin);
      let mid = -1;
      if (left.flags & SHORTER) {
        for (let k = begin; k <= end && mid < 0; k++) if (ends[k - begin] && starts[k - begin]) mid = k;
      } else {
        for (let k = end; k >= begin && mid < 0; k--) if (ends[k - begin] && starts[k - begin]) mid = k;
      }
      if (mid < 0) return; // cannot happen when the caller's automaton matched text[begin, end)
      dissect(left, begin, mid, subj, at, caps);
      dissect(right, mid, end, subj, at, caps);
      break;
    }
    case "|":
      for (const c of t.children) {
        if (matchesSpan(at.nfa(c), subj, begin, end)) {
          dissect(c, begin, end, subj, at, caps);
          break;
        }
      }
      break;
    case "*":
      dissectIteration(t, begin, end, subj, at, caps);
      break;
  }
  setCapture(t, caps, begin, end);
}

function dissectIteration(t: Subre, begin: number, end: number, subj: Subject, at: TreeAutomata, caps: Captures): void {
  const child = t.children[0]!;
  const greedy = (child.flags & SHORTER) === 0;
  const nfa = at.nfa(child);
  if (begin === end) {
    // A greedy iteration prefers one empty round (so its groups are set) to none; a lazy one none.
    if (greedy && matchesSpan(nfa, subj, begin, end)) dissect(child, begin, end, subj, at, caps);
    return;
  }
  let last = -1;
  if (t.max === 1) last = begin;
  else if (t.max === INFINITE) {
    const next = iterationSplits(nfa, subj, begin, end, greedy);
    for (let p = begin; p >= 0 && p < end; p = next[p - begin]!) last = p;
  } else {
    last = lastRoundBounded(nfa, subj, begin, end, t.max, greedy);
  }
  if (last >= 0) dissect(child, last, end, subj, at, caps);
}

/**
 * Start of the last round when text[begin, end) is split into at most `max` non-empty rounds,
 * each as long (greedy) or as short as possible from the left: a depth-first search that
 * remembers dead ends, so each (position, rounds left) is explored once.
 */
function lastRoundBounded(nfa: Nfa, subj: Subject, begin: number, end: number, max: number, greedy: boolean): number {
  const dead = new Set<number>();
  const endsFrom = new Map<number, Uint8Array>();
  const search = (pos: number, left: number): number => {
    const key = pos * (max + 1) + left;
    if (dead.has(key)) return -1;
    let ends = endsFrom.get(pos);
    if (ends === undefined) {
      ends = matchEnds(nfa, subj, pos, end);
      endsFrom.set(pos, ends);
    }
    const n = end - pos;
    for (let i = 0; i < n; i++) {
      const k = greedy ? n - i : i + 1;
      if (ends[k] !== 1) continue;
      const e = pos + k;
      if (e === end) return pos;
      if (left > 1) {
        const r = search(e, left - 1);
        if (r >= 0) return r;
      }
    }
    dead.add(key);
    return -1;
  };
  return search(begin, max);
}

// ---- with back-references: Postgres's backtracking dissection, bounded by the Meter ----

export class BackrefDissector {
  private readonly endsCache = new Map<number, Uint8Array>();
  private readonly subj: Subject;
  private readonly at: TreeAutomata;
  private readonly caps: Captures;

  constructor(subj: Subject, at: TreeAutomata, caps: Captures) {
    this.subj = subj;
    this.at = at;
    this.caps = caps;
  }

  /** Positions e in [from, limit] where t's automaton matches text[from, e) (cached per node and start). */
  private ends(t: Subre, from: number, limit: number): (e: number) => boolean {
    const key = t.id * (this.subj.length + 1) + from;
    let ends = this.endsCache.get(key);
    if (ends === undefined) {
      ends = matchEnds(this.at.nfa(t), this.subj, from, this.subj.length);
      this.endsCache.set(key, ends);
    }
    const e2 = ends;
    return (e) => e >= from && e <= limit && e2[e - from] === 1;
  }

  /**
   * Does t's automaton match text[from, to)? For a back-reference whose group is already set the
   * check is exact; before that, like Postgres, the approximating automaton answers.
   */
  private spans(t: Subre, from: number, to: number): boolean {
    if (t.op === "b" && this.caps[t.backno * 2]! >= 0) return this.backrefMatches(t, from, to);
    return this.ends(t, from, to)(to);
  }

  private zap(t: Subre): void {
    if (t.capno > 0 && t.capno * 2 + 1 < this.caps.length) {
      this.caps[t.capno * 2] = -1;
      this.caps[t.capno * 2 + 1] = -1;
    }
    for (const c of t.children) this.zap(c);
  }

  dissect(t: Subre, begin: number, end: number): boolean {
    this.subj.meter.tick(1);
    let ok: boolean;
    switch (t.op) {
      case "=": ok = true; break;
      case "b": ok = this.backrefMatches(t, begin, end); break;
      case "(": ok = this.dissect(t.children[0]!, begin, end); break;
      case ".": ok = this.concat(t, begin, end); break;
      case "|": ok = t.children.some((c) => this.spans(c, begin, end) && this.dissect(c, begin, end)); break;
      case "*": ok = (t.children[0]!.flags & SHORTER) !== 0 ? this.iterateLazy(t, begin, end) : this.iterateGreedy(t, begin, end); break;
    }
    if (ok) setCapture(t, this.caps, begin, end);
    return ok;
  }

  private concat(t: Subre, begin: number, end: number): boolean {
    const [left, right] = t.children as [Subre, Subre];
    const leftEnds = this.ends(left, begin, end);
    const lazy = (left.flags & SHORTER) !== 0;
    for (let i = 0; i <= end - begin; i++) {
      const mid = lazy ? begin + i : end - i;
      this.subj.meter.tick(1);
      if (!leftEnds(mid) || !this.spans(right, mid, end)) continue;
      if (this.dissect(left, begin, mid)) {
        if (this.dissect(right, mid, end)) return true;
        this.zap(left);
      }
    }
    return false;
  }

  /** Postgres's cbrdissect: the text must be whole repetitions of the referenced capture. */
  private backrefMatches(t: Subre, begin: number, end: number): boolean {
    const so = this.caps[t.backno * 2]!;
    const eo = this.caps[t.backno * 2 + 1]!;
    if (so < 0) return false;
    const len = eo - so;
    if (len === 0) return begin === end && (t.max === INFINITE || t.min <= t.max);
    if (begin === end) return t.min === 0;
    const tlen = end - begin;
    if (tlen % len !== 0) return false;
    const reps = tlen / len;
    if (reps < t.min || (t.max !== INFINITE && reps > t.max)) return false;
    const text = this.subj.text;
    this.subj.meter.tick(tlen);
    for (let r = 0; r < reps; r++) {
      for (let k = 0; k < len; k++) {
        let a = text[so + k]!;
        let b = text[begin + r * len + k]!;
        if (this.at.icase) {
          if (a >= 0x41 && a <= 0x5a) a += 32;
          if (b >= 0x41 && b <= 0x5a) b += 32;
        }
        if (a !== b) return false;
      }
    }
    return true;
  }

  /** Postgres's citerdissect: longest rounds first, backtracking to shorter ones. */
  private iterateGreedy(t: Subre, begin: number, end: number): boolean {
    const child = t.children[0]!;
    const minMatches = Math.max(t.min, 1);
    let maxMatches = end - begin;
    if (t.max !== INFINITE && maxMatches > t.max) maxMatches = t.max;
    if (maxMatches < minMatches) maxMatches = minMatches;
    const endpts = new Int32Array(maxMatches + 1);
    endpts[0] = begin;
    let nverified = 0;
    let k = 1;
    let limit = end;
    const longest = (from: number, lim: number): number => {
      const ok = this.ends(child, from, lim);
      for (let e = lim; e >= from; e--) if (ok(e)) return e;
      return -1;
    };
    outer: while (k > 0) {
      this.subj.meter.tick(1);
      endpts[k] = longest(endpts[k - 1]!, limit);
      let backtrack = false;
      if (endpts[k]! < 0) {
        k--;
        backtrack = true;
      } else {
        if (nverified >= k) nverified = k - 1;
        if (endpts[k] !== end) {
          if (k >= maxMatches) {
            k--;
            backtrack = true;
          } else if (endpts[k] === endpts[k - 1] && (k >= minMatches || minMatches - k < end - endpts[k]!)) {
            backtrack = true;
          } else {
            k++;
            limit = end;
            continue;
          }
        } else if (k < minMatches) {
          backtrack = true;
        } else {
          let i = nverified + 1;
          for (; i <= k; i++) {
            this.zap(child);
            if (!this.dissect(child, endpts[i - 1]!, endpts[i]!)) break;
            nverified = i;
          }
          if (i > k) return true;
          k = i;
          backtrack = true;
        }
      }
      if (backtrack) {
        while (k > 0) {
          const prevEnd = endpts[k - 1]!;
          if (endpts[k]! > prevEnd) {
            limit = endpts[k]! - 1;
            if (limit > prevEnd || (k < minMatches && minMatches - k >= end - prevEnd)) continue outer;
          }
          k--;
        }
      }
    }
    return t.min === 0 && begin === end;
  }

  /** Postgres's creviterdissect: shortest rounds first, backtracking to longer ones. */
  private iterateLazy(t: Subre, begin: number, end: number): boolean {
    const child = t.children[0]!;
    let minMatches = t.min;
    if (minMatches <= 0) {
      if (begin === end) return true;
      minMatches = 1;
    }
    let maxMatches = end - begin;
    if (t.max !== INFINITE && maxMatches > t.max) maxMatches = t.max;
    if (maxMatches < minMatches) maxMatches = minMatches;
    const endpts = new Int32Array(maxMatches + 1);
    endpts[0] = begin;
    let nverified = 0;
    let k = 1;
    let limit = begin;
    const shortest = (from: number, lo: number): number => {
      const ok = this.ends(child, from, end);
      for (let e = Math.max(lo, from); e <= end; e++) if (ok(e)) return e;
      return -1;
    };
    outer: while (k > 0) {
      this.subj.meter.tick(1);
      if (limit === endpts[k - 1] && limit !== end && (k >= minMatches || minMatches - k < end - limit)) limit++;
      if (k >= maxMatches) limit = end;
      endpts[k] = shortest(endpts[k - 1]!, limit);
      let backtrack = false;
      if (endpts[k]! < 0) {
        k--;
        backtrack = true;
      } else {
        if (nverified >= k) nverified = k - 1;
        if (endpts[k] !== end) {
          if (k >= maxMatches) {
            k--;
            backtrack = true;
          } else {
            k++;
            limit = endpts[k - 1]!;
            continue;
          }
        } else if (k < minMatches) {
          backtrack = true;
        } else {
          let i = nverified + 1;
          for (; i <= k; i++) {
            this.zap(child);
            if (!this.dissect(child, endpts[i - 1]!, endpts[i]!)) break;
            nverified = i;
          }
          if (i > k) return true;
          k = i;
          backtrack = true;
        }
      }
      if (backtrack) {
        while (k > 0) {
          if (endpts[k]! < end) {
            limit = endpts[k]! + 1;
            continue outer;
          }
          k--;
        }
      }
    }
    return false;
  }
}
