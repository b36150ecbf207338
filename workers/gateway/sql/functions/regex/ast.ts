// The parsed form of a regular expression. It keeps the shape PostgreSQL's parser walks (an
// alternation of branches, each a sequence of quantified atoms and constraints), because the
// subexpression tree that decides capture positions (subre.ts) is built from that shape.

import type { CharSet } from "./charset.ts";

/** Greediness bits, with PostgreSQL's values so the flag algebra in subre.ts reads the same. */
export const LONGER = 1;
export const SHORTER = 2;
export type Prefer = 0 | typeof LONGER | typeof SHORTER;

/** Repetition bound meaning "no upper limit". */
export const INFINITE = -1;

export type Atom =
  | { readonly kind: "char"; readonly set: CharSet }
  /** `capture` is the group number, 0 for (?:…) and for parentheses inside a lookaround. */
  | { readonly kind: "group"; readonly capture: number; readonly body: Alternation }
  | { readonly kind: "backref"; readonly group: number };

/** Zero-width tests of the position between two characters. */
export type AssertTest =
  | "bos" // \A, and ^ without newline sensitivity
  | "eos" // \Z, and $ without newline sensitivity
  | "bol" // ^ with newline-sensitive anchors: start of string or after \n
  | "eol" // $ likewise: end of string or before \n
  | "wordStart" // \m, [[:<:]]
  | "wordEnd" // \M, [[:>:]]
  | "wordBoundary" // \y
  | "notWordBoundary"; // \Y

export type Item =
  | { readonly kind: "quant"; readonly atom: Atom; readonly min: number; readonly max: number; readonly prefer: Prefer }
  | { readonly kind: "assert"; readonly test: AssertTest }
  /** A lookahead/lookbehind constraint; `index` points into ParsedRegex.lookarounds. */
  | { readonly kind: "lookaround"; readonly index: number };

export interface Alternation {
  readonly branches: ReadonlyArray<readonly Item[]>;
}

export interface Lookaround {
  readonly ahead: boolean;
  readonly negate: boolean;
  readonly body: Alternation;
}

export interface ParsedRegex {
  readonly root: Alternation;
  /** Number of capturing groups (re_nsub). */
  readonly groups: number;
  readonly lookarounds: readonly Lookaround[];
  /** The body of each capturing group by number (index 0 unused), for back-references. */
  readonly groupBodies: ReadonlyArray<Alternation | null>;
  readonly hasBackrefs: boolean;
}
