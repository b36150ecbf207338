// Thompson construction: a fragment of the parsed regex → an NFA whose edges consume one code
// point, test a position (anchors, word boundaries, lookarounds) or do nothing (ε). Greediness
// is not represented: an NFA here only answers "which spans match", and the subexpression tree
// (subre.ts) decides among them. Counted repetition is expanded, so the state count is bounded
// by a limit (Postgres: "regular expression is too complex").

import type { Alternation, AssertTest, Item } from "./ast.ts";
import { INFINITE } from "./ast.ts";
import type { CharSet } from "./charset.ts";
import { RegexErrors, regexError } from "./parser.ts";

/** What a subexpression node matches, in terms the compiler understands. */
export type Fragment =
  | { readonly kind: "items"; readonly items: readonly Item[] }
  | { readonly kind: "seq"; readonly parts: readonly Fragment[] }
  | { readonly kind: "alt"; readonly parts: readonly Fragment[] }
  | { readonly kind: "repeat"; readonly body: Fragment; readonly min: number; readonly max: number }
  /** A back-reference, approximated as "any text its group could match" (checked exactly later). */
  | { readonly kind: "backref"; readonly group: number; readonly min: number; readonly max: number };

export const EdgeKind = { Epsilon: 0, Char: 1, Assert: 2, Look: 3 } as const;
export type EdgeKind = (typeof EdgeKind)[keyof typeof EdgeKind];

/** Position tests by number, for the simulation's inner loop. */
export const ASSERT_CODES: Readonly<Record<AssertTest, number>> = {
  bos: 0, eos: 1, bol: 2, eol: 3, wordStart: 4, wordEnd: 5, wordBoundary: 6, notWordBoundary: 7,
};

interface Edge {
  readonly kind: EdgeKind;
  readonly to: number;
  readonly set?: CharSet;
  readonly test?: AssertTest;
  readonly look?: number;
}

/**
 * The edges of an automaton in one direction, in flat arrays (the simulation's hot loop reads
 * nothing else). State s's zero-width edges are epsTo[epsStart[s] .. epsStart[s+1]) with their
 * kind (ε, position test, lookaround) and argument; its character edges likewise in ch*.
 */
export interface Graph {
  readonly epsStart: Int32Array;
  readonly epsTo: Int32Array;
  readonly epsKind: Uint8Array;
  readonly epsArg: Int32Array;
  readonly chStart: Int32Array;
  readonly chTo: Int32Array;
  readonly chSet: readonly CharSet[];
}

/** A compiled automaton, with its edges forward (fwd) and reversed (bwd). */
export interface Nfa {
  readonly size: number;
  readonly start: number;
  readonly accept: number;
  readonly fwd: Graph;
  readonly bwd: Graph;
  /**
   * The characters a match can begin with, when every match consumes one first and no position
   * test guards the start (null otherwise): searches skip ahead to such a character.
   */
  readonly first: CharSet | null;
}

function firstChars(size: number, start: number, accept: number, edges: ReadonlyArray<ReadonlyArray<Edge>>): CharSet | null {
  const seen = new Uint8Array(size);
  const stack = [start];
  seen[start] = 1;
  let first: CharSet | null = null;
  while (stack.length > 0) {
    const x = stack.pop()!;
    if (x === accept) return null;
    for (const e of edges[x]!) {
      if (e.kind === EdgeKind.Assert || e.kind === EdgeKind.Look) return null;
      if (e.kind === EdgeKind.Char) first = first === null ? e.set! : first.union(e.set!);
      else if (seen[e.to] === 0) {
        seen[e.to] = 1;
        stack.push(e.to);
      }
    }
  }
  return first;
}

function graph(size: number, edges: ReadonlyArray<ReadonlyArray<Edge>>): Graph {
  let eps = 0;
  let ch = 0;
  for (const es of edges) for (const e of es) e.kind === EdgeKind.Char ? ch++ : eps++;
  const g = {
    epsStart: new Int32Array(size + 1), epsTo: new Int32Array(eps), epsKind: new Uint8Array(eps), epsArg: new Int32Array(eps),
    chStart: new Int32Array(size + 1), chTo: new Int32Array(ch), chSet: new Array<CharSet>(ch),
  };
  let ei = 0;
  let ci = 0;
  for (let s = 0; s < size; s++) {
    g.epsStart[s] = ei;
    g.chStart[s] = ci;
    for (const e of edges[s]!) {
      if (e.kind === EdgeKind.Char) {
        g.chTo[ci] = e.to;
        g.chSet[ci++] = e.set!;
      } else {
        g.epsTo[ei] = e.to;
        g.epsKind[ei] = e.kind;
        g.epsArg[ei++] = e.kind === EdgeKind.Assert ? ASSERT_CODES[e.test!] : e.kind === EdgeKind.Look ? e.look! : 0;
      }
    }
  }
  g.epsStart[size] = ei;
  g.chStart[size] = ci;
  return g;
}

interface Context {
  readonly groupBodies: ReadonlyArray<Alternation | null>;
  /** States compiled so far for this regex, and the most it may have. */
  budget: StateBudget;
}

export interface StateBudget {
  states: number;
  max: number;
}

export function compileNfa(f: Fragment, groupBodies: ReadonlyArray<Alternation | null>, budget: StateBudget): Nfa {
  const b = new Builder({ groupBodies, budget });
  const start = b.state();
  const accept = b.state();
  b.fragment(f, start, accept, false);
  return b.finish(start, accept);
}

class Builder {
  private readonly edges: Array<Array<{ kind: EdgeKind; to: number; set?: CharSet; test?: AssertTest; look?: number }>> = [];

  private readonly ctx: Context;

  constructor(ctx: Context) {
    this.ctx = ctx;
  }

  state(): number {
    if (++this.ctx.budget.states > this.ctx.budget.max) throw regexError(RegexErrors.ETOOBIG);
    this.edges.push([]);
    return this.edges.length - 1;
  }

  private eps(from: number, to: number): void {
    this.edges[from]!.push({ kind: EdgeKind.Epsilon, to });
  }

  finish(start: number, accept: number): Nfa {
    const out = this.edges as Edge[][];
    const inn: Edge[][] = out.map(() => []);
    out.forEach((es, from) => {
      for (const e of es) inn[e.to]!.push({ ...e, to: from });
    });
    return { size: out.length, start, accept, fwd: graph(out.length, out), bwd: graph(out.length, inn), first: firstChars(out.length, start, accept, out) };
  }

  /** Strings fragment f between states `from` and `to`. `noConstraints` turns tests into ε. */
  fragment(f: Fragment, from: number, to: number, noConstraints: boolean): void {
    switch (f.kind) {
      case "items":
        this.items(f.items, from, to, noConstraints);
        return;
      case "seq": {
        let cur = from;
        f.parts.forEach((part, i) => {
          const next = i === f.parts.length - 1 ? to : this.state();
          this.fragment(part, cur, next, noConstraints);
          cur = next;
        });
        if (f.parts.length === 0) this.eps(from, to);
        return;
      }
      case "alt":
        for (const part of f.parts) {
          const s = this.state();
          const e = this.state();
          this.eps(from, s);
          this.eps(e, to);
          this.fragment(part, s, e, noConstraints);
        }
        return;
      case "repeat":
        this.repeat((a, z) => this.fragment(f.body, a, z, noConstraints), f.min, f.max, from, to);
        return;
      case "backref": {
        const body = this.ctx.groupBodies[f.group];
        if (body == null) {
          // The group was quantified away with {0}: the reference can only match by repeating 0 times.
          if (f.min === 0) this.eps(from, to);
          return;
        }
        this.repeat((a, z) => this.alternation(body, a, z, true), f.min, f.max, from, to);
        return;
      }
    }
  }

  private alternation(alt: Alternation, from: number, to: number, noConstraints: boolean): void {
    if (alt.branches.length === 1) {
      this.items(alt.branches[0]!, from, to, noConstraints);
      return;
    }
    for (const branch of alt.branches) {
      const s = this.state();
      const e = this.state();
      this.eps(from, s);
      this.eps(e, to);
      this.items(branch, s, e, noConstraints);
    }
  }

  private items(items: readonly Item[], from: number, to: number, noConstraints: boolean): void {
    if (items.length === 0) {
      this.eps(from, to);
      return;
    }
    let cur = from;
    items.forEach((item, i) => {
      const next = i === items.length - 1 ? to : this.state();
      this.item(item, cur, next, noConstraints);
      cur = next;
    });
  }

  private item(item: Item, from: number, to: number, noConstraints: boolean): void {
    if (item.kind === "assert") {
      this.edges[from]!.push(noConstraints ? { kind: EdgeKind.Epsilon, to } : { kind: EdgeKind.Assert, to, test: item.test });
      return;
    }
    if (item.kind === "lookaround") {
      this.edges[from]!.push(noConstraints ? { kind: EdgeKind.Epsilon, to } : { kind: EdgeKind.Look, to, look: item.index });
      return;
    }
    const atom = item.atom;
    const one = (a: number, z: number): void => {
      if (atom.kind === "char") this.edges[a]!.push({ kind: EdgeKind.Char, to: z, set: atom.set });
      else if (atom.kind === "group") this.alternation(atom.body, a, z, noConstraints);
      else this.fragment({ kind: "backref", group: atom.group, min: 1, max: 1 }, a, z, noConstraints);
    };
    if (item.min === 0 && item.max === 0) {
      this.eps(from, to);
      return;
    }
    this.repeat(one, item.min, item.max, from, to);
  }

  /** min..max copies of `one` (max INFINITE: a loop after the min copies). */
  private repeat(one: (from: number, to: number) => void, min: number, max: number, from: number, to: number): void {
    if (min === 1 && max === 1) {
      one(from, to);
      return;
    }
    let cur = from;
    for (let i = 0; i < min; i++) {
      const next = this.state();
      one(cur, next);
      cur = next;
    }
    if (max === INFINITE) {
      // cur -ε-> loop; loop -one-> loop; loop -ε-> to. Separate states keep the loop's entry
      // and exit from being shared with neighbouring fragments.
      const loopStart = this.state();
      const loopEnd = this.state();
      this.eps(cur, loopStart);
      one(loopStart, loopEnd);
      this.eps(loopEnd, loopStart);
      this.eps(loopStart, to);
      return;
    }
    for (let i = min; i < max; i++) {
      const next = this.state();
      this.eps(cur, to);
      one(cur, next);
      cur = next;
    }
    this.eps(cur, to);
  }
}
