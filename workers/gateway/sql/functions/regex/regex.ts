// A compiled PostgreSQL regular expression and its search: the entry point of this folder.
//
//   compileRegex(pattern, options) ── parser.ts → ast ── subre.ts → tree (+ flags)
//                                          └─ nfa.ts: one NFA per tree node / lookaround (lazily)
//   regex.exec(subject, from, captures) ── simulate.ts: leftmost start, longest/shortest end
//                                          └─ dissect.ts: capture positions (Postgres's rules)

import { PgError } from "../../../../../common/errors.ts";
import { REGEX_BACKREF_STEPS_MAX, REGEX_NFA_STATES_MAX, REGEX_NFA_TOTAL_STATES_MAX, REGEX_PATTERN_CHARS_MAX, REGEX_STEPS_MAX } from "../limits.ts";
import { SHORTER, type Alternation } from "./ast.ts";
import { BackrefDissector, dissect, type Captures, type TreeAutomata } from "./dissect.ts";
import { compileNfa, type Nfa, type StateBudget } from "./nfa.ts";
import { parseRegex, type CompileOptions } from "./parser.ts";
import { firstMatchEnd, Meter, searchLeftmost, matchEnds, Subject } from "./simulate.ts";
import { alternationFragment, buildTree, numberTree, type Subre } from "./subre.ts";

export { Meter, Subject } from "./simulate.ts";
export type { CompileOptions } from "./parser.ts";

export class Regex implements TreeAutomata {
  /** Number of capturing groups. */
  readonly groups: number;
  readonly icase: boolean;
  private readonly tree: Subre;
  private readonly nodes: Subre[];
  private readonly nfas: Array<Nfa | undefined>;
  private readonly lookarounds: Array<{ nfa: Nfa; ahead: boolean; negate: boolean }>;
  private readonly groupBodies: ReadonlyArray<Alternation | null>;
  private readonly hasBackrefs: boolean;
  private readonly stateBudget: StateBudget = { states: 0, max: REGEX_NFA_STATES_MAX };

  constructor(pattern: string, options: CompileOptions) {
    if (pattern.length > REGEX_PATTERN_CHARS_MAX) {
      throw new PgError("program_limit_exceeded", `regular expression is too long (${pattern.length} characters; at most ${REGEX_PATTERN_CHARS_MAX})`);
    }
    const parsed = parseRegex(pattern, options);
    this.groups = parsed.groups;
    this.icase = options.icase;
    this.groupBodies = parsed.groupBodies;
    this.hasBackrefs = parsed.hasBackrefs;
    this.tree = buildTree(parsed.root);
    this.nodes = numberTree(this.tree);
    this.nfas = new Array(this.nodes.length);
    // The whole-pattern automaton first, against its own bound; then every other automaton, so
    // an over-large pattern fails here and never in the middle of a query.
    this.nfa(this.tree);
    this.stateBudget.max = REGEX_NFA_TOTAL_STATES_MAX;
    for (const t of this.nodes) this.nfa(t);
    this.lookarounds = parsed.lookarounds.map((la) => ({
      nfa: compileNfa(alternationFragment(la.body), this.groupBodies, this.stateBudget),
      ahead: la.ahead,
      negate: la.negate,
    }));
  }

  nfa(t: Subre): Nfa {
    let n = this.nfas[t.id];
    if (n === undefined) {
      n = compileNfa(t.frag, this.groupBodies, this.stateBudget);
      this.nfas[t.id] = n;
    }
    return n;
  }

  /** Whether the whole RE prefers the shortest match (its first quantifier is non-greedy). */
  get prefersShortest(): boolean {
    return (this.tree.flags & SHORTER) !== 0;
  }

  /** Total NFA states compiled so far (for tests of the size limit). */
  get stateCount(): number {
    return this.stateBudget.states;
  }

  /**
   * The text to search, with its meter: a fresh meter gets this pattern's budget
   * (REGEX_BACKREF_STEPS_MAX with back-references, else REGEX_STEPS_MAX); tests pass their own.
   */
  subject(text: string, meter = new Meter()): Subject {
    const { cps, offsets } = toCodePoints(text);
    if (meter.limit === Number.POSITIVE_INFINITY) meter.limit = meter.steps + (this.hasBackrefs ? REGEX_BACKREF_STEPS_MAX : REGEX_STEPS_MAX);
    meter.backtracking = this.hasBackrefs;
    return new Subject(text, cps, offsets, this.lookarounds, meter);
  }

  /**
   * The first match starting at or after `from` (in code points): [start, end] of the match, then
   * [start, end] of each group (-1, -1 for a group that did not participate), or null. Captures
   * are computed only when `withCaptures`, as Postgres skips them when the caller needs none.
   */
  exec(subj: Subject, from: number, withCaptures: boolean): Captures | null {
    if (from > subj.length) return null;
    const caps = new Int32Array(withCaptures ? (this.groups + 1) * 2 : 2).fill(-1);
    if (this.hasBackrefs) return this.execBackrefs(subj, from, caps);
    const span = searchLeftmost(this.nfa(this.tree), subj, from, this.prefersShortest);
    if (span === null) return null;
    caps[0] = span[0];
    caps[1] = span[1];
    if (withCaptures && this.groups > 0) dissect(this.tree, span[0], span[1], subj, this, caps);
    return caps;
  }

  /**
   * With back-references the automaton only over-approximates; like Postgres's cfindloop, try
   * starts left to right and, for each, ends from the preferred one until the tree verifies.
   * Starts are taken in rounds up to the end of the nearest possible match, as cfindloop does;
   * that includes its quirk of never trying an empty match at the very end of the text once a
   * round has ended just before it ('a' ~ '$()|^\1' is false in Postgres).
   */
  private execBackrefs(subj: Subject, from: number, callerCaps: Captures): Captures | null {
    const caps = new Int32Array((this.groups + 1) * 2);
    const top = this.nfa(this.tree);
    const shortest = this.prefersShortest;
    const n = subj.length;
    let close = from;
    do {
      const roundEnd = firstMatchEnd(top, subj, close);
      if (roundEnd < 0) break;
      for (let begin = close; begin <= roundEnd; begin++) {
        const ends = matchEnds(top, subj, begin, n);
        const d = new BackrefDissector(subj, this, caps);
        const count = n - begin;
        for (let i = 0; i <= count; i++) {
          const k = shortest ? i : count - i;
          if (ends[k] !== 1) continue;
          caps.fill(-1);
          if (d.dissect(this.tree, begin, begin + k)) {
            caps[0] = begin;
            caps[1] = begin + k;
            callerCaps.set(caps.subarray(0, callerCaps.length));
            return callerCaps;
          }
        }
      }
      close = roundEnd + 1;
    } while (close < n);
    return null;
  }
}

/**
 * The code points of s, and (when s has characters outside the BMP) the UTF-16 offset of each
 * code point, so slices by code point index can be cut from the original string.
 */
export function toCodePoints(s: string): { cps: Int32Array; offsets: Int32Array | null } {
  const out = new Int32Array(s.length);
  let offsets: Int32Array | null = null;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        if (offsets === null) {
          offsets = new Int32Array(s.length + 1);
          for (let k = 0; k <= n; k++) offsets[k] = k;
        }
        offsets[n] = i;
        out[n++] = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
        i++;
        offsets[n] = i + 1;
        continue;
      }
    }
    if (offsets !== null) offsets[n] = i;
    out[n++] = c;
    if (offsets !== null) offsets[n] = i + 1;
  }
  return { cps: out.subarray(0, n), offsets: offsets === null ? null : offsets.subarray(0, n + 1) };
}
