// Parser for PostgreSQL's regular expressions: AREs (the default), EREs, BREs and literal strings,
// the "***=" / "***:" director prefixes and the leading embedded options "(?flags)". It follows
// the lexical rules of Postgres's regex library (regc_lex.c) so that the same patterns are
// accepted and the same ones are refused with the same message; it works on code points.

import { PgError } from "../../../../../common/errors.ts";
import type { Alternation, AssertTest, Atom, Item, Lookaround, ParsedRegex, Prefer } from "./ast.ts";
import { INFINITE, LONGER, SHORTER } from "./ast.ts";
import { ANY, CHARACTER_NAMES, CharSet, CLASSES, NEWLINE_SET } from "./charset.ts";

/** Compile-time options (Postgres's cflags): syntax flavor, case and newline handling. */
export interface CompileOptions {
  /** REG_EXTENDED: ERE syntax (with `advanced` too: ARE). Neither: BRE. */
  extended: boolean;
  /** REG_ADVF: the ARE extensions (escapes, non-greedy quantifiers, lookarounds, (?:…)). */
  advanced: boolean;
  /** REG_QUOTE: the whole pattern is a literal string. */
  quote: boolean;
  icase: boolean;
  /** REG_EXPANDED (x): white space and #-comments in the pattern are ignored. */
  expanded: boolean;
  /** REG_NLSTOP: `.` and negated brackets do not match newline. */
  nlstop: boolean;
  /** REG_NLANCH: ^ and $ also match after and before a newline. */
  nlanch: boolean;
}

export function defaultOptions(): CompileOptions {
  return { extended: true, advanced: true, quote: false, icase: false, expanded: false, nlstop: false, nlanch: false };
}

/** Repetition counts above this are refused, as in Postgres (DUPMAX, POSIX's RE_DUP_MAX). */
const DUPMAX = 255;

/** Postgres's regerror() texts, by the error they stand for. */
export const RegexErrors = {
  BADPAT: "invalid regexp (reg version 0.8)",
  ECOLLATE: "invalid collating element",
  ECTYPE: "invalid character class",
  EESCAPE: "invalid escape \\ sequence",
  ESUBREG: "invalid backreference number",
  EBRACK: "brackets [] not balanced",
  EPAREN: "parentheses () not balanced",
  EBRACE: "braces {} not balanced",
  BADBR: "invalid repetition count(s)",
  ERANGE: "invalid character range",
  BADRPT: "quantifier operand invalid",
  INVARG: "invalid argument to regex function",
  BADOPT: "invalid embedded option",
  ETOOBIG: "regular expression is too complex",
} as const;

export function regexError(text: string): PgError {
  return new PgError("invalid_regular_expression", `invalid regular expression: ${text}`);
}

const c = (s: string): number => s.codePointAt(0)!;
const isDigit = (ch: number | undefined): boolean => ch !== undefined && ch >= 0x30 && ch <= 0x39;
const isAsciiAlpha = (ch: number): boolean => (ch >= 0x41 && ch <= 0x5a) || (ch >= 0x61 && ch <= 0x7a);
const isSpace = (ch: number): boolean => ch === 32 || (ch >= 9 && ch <= 13);

type Escape =
  | { kind: "char"; value: number }
  | { kind: "class"; set: CharSet; complement: boolean }
  | { kind: "assert"; test: AssertTest }
  | { kind: "backref"; group: number };

export function parseRegex(pattern: string, options: CompileOptions): ParsedRegex {
  return new Parser([...pattern].map((ch) => ch.codePointAt(0)!), { ...options }).parse();
}

class Parser {
  private i = 0;
  private groupCount = 0;
  private readonly lookarounds: Lookaround[] = [];
  private readonly groupBodies: Array<Alternation | null> = [null];
  private hasBackrefs = false;

  private readonly p: number[];
  private readonly o: CompileOptions;

  constructor(p: number[], o: CompileOptions) {
    this.p = p;
    this.o = o;
  }

  parse(): ParsedRegex {
    this.prefixes();
    let root: Alternation;
    if (this.o.quote) {
      const items: Item[] = this.p.slice(this.i).map((ch) => this.quant({ kind: "char", set: this.literal(ch) }, 1, 1, 0));
      root = { branches: [items] };
    } else {
      root = this.alternation(false, false);
      if (this.i < this.p.length) throw regexError(RegexErrors.EPAREN);
    }
    return { root, groups: this.groupCount, lookarounds: this.lookarounds, groupBodies: this.groupBodies, hasBackrefs: this.hasBackrefs };
  }

  // ---- prefixes: ***= ***: and (?flags) ----

  private prefixes(): void {
    const p = this.p;
    if (this.o.quote) return;
    if (p.length >= 4 && p[0] === c("*") && p[1] === c("*") && p[2] === c("*")) {
      const d = p[3];
      if (d === c("?")) throw regexError(RegexErrors.BADPAT);
      if (d === c("=")) {
        Object.assign(this.o, { quote: true, extended: false, advanced: false, expanded: false, nlstop: false, nlanch: false });
        this.i = 4;
        return;
      }
      if (d !== c(":")) throw regexError(RegexErrors.BADRPT);
      Object.assign(this.o, { extended: true, advanced: true });
      this.i = 4;
    }
    if (!(this.o.extended && this.o.advanced)) return;
    if (this.p.length - this.i >= 3 && p[this.i] === c("(") && p[this.i + 1] === c("?") && isAsciiAlpha(p[this.i + 2]!)) {
      this.i += 2;
      for (; this.i < p.length && isAsciiAlpha(p[this.i]!); this.i++) {
        switch (String.fromCodePoint(p[this.i]!)) {
          case "b": Object.assign(this.o, { extended: false, advanced: false, quote: false }); break;
          case "c": this.o.icase = false; break;
          case "e": Object.assign(this.o, { extended: true, advanced: false, quote: false }); break;
          case "i": this.o.icase = true; break;
          case "m": case "n": Object.assign(this.o, { nlstop: true, nlanch: true }); break;
          case "p": Object.assign(this.o, { nlstop: true, nlanch: false }); break;
          case "q": Object.assign(this.o, { quote: true, extended: false, advanced: false }); break;
          case "s": Object.assign(this.o, { nlstop: false, nlanch: false }); break;
          case "t": this.o.expanded = false; break;
          case "w": Object.assign(this.o, { nlstop: false, nlanch: true }); break;
          case "x": this.o.expanded = true; break;
          default: throw regexError(RegexErrors.BADOPT);
        }
      }
      if (p[this.i] !== c(")")) throw regexError(RegexErrors.BADOPT);
      this.i++;
      if (this.o.quote) Object.assign(this.o, { expanded: false, nlstop: false, nlanch: false });
    }
  }

  // ---- structure ----

  private get bre(): boolean {
    return !this.o.extended;
  }

  private get are(): boolean {
    return this.o.extended && this.o.advanced;
  }

  private peek(k = 0): number | undefined {
    return this.p[this.i + k];
  }

  /** White space and #-comments are skipped between tokens in expanded (x) mode. */
  private skip(): void {
    for (;;) {
      if (this.o.expanded) {
        while (this.i < this.p.length && isSpace(this.p[this.i]!)) this.i++;
        if (this.peek() === c("#")) {
          while (this.i < this.p.length && this.p[this.i] !== 10) this.i++;
          continue;
        }
      }
      // (?#…) comments vanish before any token of an ARE, as in Postgres's lexer.
      if (this.are && this.peek() === c("(") && this.peek(1) === c("?") && this.peek(2) === c("#")) {
        while (this.i < this.p.length && this.p[this.i] !== c(")")) this.i++;
        if (this.i < this.p.length) this.i++;
        continue;
      }
      return;
    }
  }

  /** branch ( '|' branch )*, up to the closing parenthesis (inGroup) or the end. */
  private alternation(inGroup: boolean, inLookaround: boolean): Alternation {
    const branches: Item[][] = [this.branch(inGroup, inLookaround)];
    while (!this.bre && this.peek() === c("|")) {
      this.i++;
      branches.push(this.branch(inGroup, inLookaround));
    }
    return { branches };
  }

  private atBranchEnd(inGroup: boolean): boolean {
    this.skip();
    const ch = this.peek();
    if (ch === undefined) return true;
    if (this.bre) return inGroup && ch === c("\\") && this.peek(1) === c(")");
    if (ch === c("|")) return true;
    if (ch === c(")")) {
      if (inGroup) return true;
      // An unmatched ")" is an ordinary character in EREs (a POSIX botch); an error in AREs.
      if (this.are) throw regexError(RegexErrors.EPAREN);
    }
    return false;
  }

  private branch(inGroup: boolean, inLookaround: boolean): Item[] {
    const items: Item[] = [];
    while (!this.atBranchEnd(inGroup)) items.push(this.item(items.length === 0, inGroup, inLookaround));
    return items;
  }

  private quant(atom: Atom, min: number, max: number, prefer: Prefer): Item {
    return { kind: "quant", atom, min, max, prefer };
  }

  private literal(ch: number): CharSet {
    const s = CharSet.single(ch);
    return this.o.icase ? s.withCases() : s;
  }

  /** One constraint, or one atom with its quantifier. */
  private item(first: boolean, inGroup: boolean, inLookaround: boolean): Item {
    const p = this.p;
    const ch = p[this.i]!;
    this.i++;
    let atom: Atom;
    if (this.bre) {
      const r = this.breAtom(ch, first, inGroup, inLookaround);
      if (r.kind !== "atom") return r.item;
      atom = r.atom;
    } else {
      switch (ch) {
        case c("^"):
          return { kind: "assert", test: this.o.nlanch ? "bol" : "bos" };
        case c("$"):
          return { kind: "assert", test: this.o.nlanch ? "eol" : "eos" };
        case c("*"): case c("+"): case c("?"):
          throw regexError(RegexErrors.BADRPT);
        case c("{"):
          this.skip();
          if (isDigit(this.peek())) throw regexError(RegexErrors.BADRPT);
          atom = { kind: "char", set: this.literal(ch) };
          break;
        case c("."):
          atom = { kind: "char", set: this.o.nlstop ? NEWLINE_SET.complement() : ANY };
          break;
        case c("["): {
          const w = this.wordBracket();
          if (w !== null) return { kind: "assert", test: w };
          atom = { kind: "char", set: this.bracket() };
          break;
        }
        case c("("):
          atom = this.group(inLookaround);
          if (atom.kind === "group" && atom.capture < 0) return { kind: "lookaround", index: -atom.capture - 1 };
          break;
        case c("\\"): {
          if (this.i >= p.length) throw regexError(RegexErrors.EESCAPE);
          if (!this.o.advanced) {
            atom = { kind: "char", set: this.literal(p[this.i++]!) };
            break;
          }
          const e = this.escape(false);
          if (e.kind === "assert") return { kind: "assert", test: e.test };
          atom = this.escapeAtom(e, inLookaround);
          break;
        }
        default:
          atom = { kind: "char", set: this.literal(ch) };
      }
    }
    return this.quantifier(atom);
  }

  private escapeAtom(e: Escape, inLookaround: boolean): Atom {
    if (e.kind === "char") return { kind: "char", set: this.literal(e.value) };
    if (e.kind === "class") {
      const s = this.o.icase ? e.set.withCases() : e.set;
      return { kind: "char", set: e.complement ? s.complement() : s };
    }
    if (e.kind === "backref") {
      if (inLookaround || e.group >= this.groupBodies.length || this.groupBodies[e.group] == null) throw regexError(RegexErrors.ESUBREG);
      this.hasBackrefs = true;
      return { kind: "backref", group: e.group };
    }
    throw new Error("unreachable: assertions are handled by the caller");
  }

  /** [[:<:]] and [[:>:]], the word-boundary brackets. */
  private wordBracket(): AssertTest | null {
    const p = this.p;
    const i = this.i;
    if (p[i] === c("[") && p[i + 1] === c(":") && (p[i + 2] === c("<") || p[i + 2] === c(">")) && p[i + 3] === c(":") && p[i + 4] === c("]") && p[i + 5] === c("]")) {
      this.i += 6;
      return p[i + 2] === c("<") ? "wordStart" : "wordEnd";
    }
    return null;
  }

  /** After "(": a group, or a lookaround (returned as capture -1 - index). */
  private group(inLookaround: boolean): Atom {
    let capture = 0;
    let look: { ahead: boolean; negate: boolean } | null = null;
    if (this.o.advanced && this.peek() === c("?")) {
      this.i++;
      const k = this.p[this.i++];
      if (k === c(":")) capture = 0;
      else if (k === c("=")) look = { ahead: true, negate: false };
      else if (k === c("!")) look = { ahead: true, negate: true };
      else if (k === c("<")) {
        const k2 = this.p[this.i++];
        if (k2 === c("=")) look = { ahead: false, negate: false };
        else if (k2 === c("!")) look = { ahead: false, negate: true };
        else throw regexError(RegexErrors.BADRPT);
      } else throw regexError(RegexErrors.BADRPT);
    } else if (!inLookaround) {
      capture = ++this.groupCount;
      this.groupBodies.push(null);
    }
    const body = this.alternation(true, inLookaround || look !== null);
    if (!this.closeGroup()) throw regexError(RegexErrors.EPAREN);
    if (look !== null) {
      this.lookarounds.push({ ...look, body });
      return { kind: "group", capture: -this.lookarounds.length, body };
    }
    if (capture > 0) this.groupBodies[capture] = body;
    return { kind: "group", capture, body };
  }

  private closeGroup(): boolean {
    if (this.bre) {
      if (this.peek() === c("\\") && this.peek(1) === c(")")) {
        this.i += 2;
        return true;
      }
      return false;
    }
    if (this.peek() === c(")")) {
      this.i++;
      return true;
    }
    return false;
  }

  private quantifier(atom: Atom): Item {
    this.skip();
    const ch = this.peek();
    const lazy = (): boolean => {
      if (this.are && this.peek() === c("?")) {
        this.i++;
        return true;
      }
      return false;
    };
    if (this.bre) {
      if (ch === c("*")) {
        this.i++;
        return this.quant(atom, 0, INFINITE, LONGER);
      }
      if (ch === c("\\") && this.peek(1) === c("{")) {
        this.i += 2;
        return this.bound(atom);
      }
      return this.quant(atom, 1, 1, 0);
    }
    if (ch === c("*") || ch === c("+") || ch === c("?")) {
      this.i++;
      const prefer = lazy() ? SHORTER : LONGER;
      return this.quant(atom, ch === c("+") ? 1 : 0, ch === c("?") ? 1 : INFINITE, prefer);
    }
    if (ch === c("{")) {
      const save = this.i;
      this.i++;
      this.skip();
      if (isDigit(this.peek())) return this.bound(atom);
      this.i = save;
    }
    return this.quant(atom, 1, 1, 0);
  }

  /** After "{" (or "\{" in BREs): m[,[n]] then "}" (or "\}"), and "?" for non-greedy in AREs. */
  private bound(atom: Atom): Item {
    const num = (): number => {
      let n = 0;
      let digits = 0;
      while (isDigit(this.peek()) && n <= DUPMAX) {
        n = n * 10 + (this.p[this.i++]! - 0x30);
        digits++;
      }
      if (digits === 0 || n > DUPMAX) throw regexError(RegexErrors.BADBR);
      return n;
    };
    const next = (): void => {
      if (!this.bre) this.skip();
      if (this.i >= this.p.length) throw regexError(RegexErrors.EBRACE);
    };
    next();
    const min = num();
    let max = min;
    let ranged = false;
    next();
    if (this.peek() === c(",")) {
      this.i++;
      ranged = true;
      next();
      max = isDigit(this.peek()) ? num() : INFINITE;
      next();
      if (max !== INFINITE && min > max) throw regexError(RegexErrors.BADBR);
    }
    if (this.bre) {
      if (!(this.peek() === c("\\") && this.peek(1) === c("}"))) throw regexError(RegexErrors.BADBR);
      this.i += 2;
      return this.quant(atom, min, max, ranged ? LONGER : 0);
    }
    if (this.peek() !== c("}")) throw regexError(RegexErrors.BADBR);
    this.i++;
    let prefer: Prefer = LONGER;
    if (this.are && this.peek() === c("?")) {
      this.i++;
      prefer = SHORTER;
    }
    // {m} passes the operand's own preference through; {m,n} (even {m,m}) has one of its own.
    return this.quant(atom, min, max, ranged ? prefer : 0);
  }

  private breAtom(ch: number, first: boolean, inGroup: boolean, inLookaround: boolean): { kind: "atom"; atom: Atom } | { kind: "item"; item: Item } {
    const p = this.p;
    const lit = (x: number): { kind: "atom"; atom: Atom } => ({ kind: "atom", atom: { kind: "char", set: this.literal(x) } });
    const afterAnchor = !first && this.i >= 2 && p[this.i - 2] === c("^") && this.isLeadingAnchor(this.i - 2);
    switch (ch) {
      case c("*"):
        // A leading * (or one right after "\(" or a leading ^) is an ordinary character.
        if (first || afterAnchor) return lit(ch);
        throw regexError(RegexErrors.BADRPT);
      case c("^"):
        if (first) return { kind: "item", item: { kind: "assert", test: this.o.nlanch ? "bol" : "bos" } };
        return lit(ch);
      case c("$"):
        this.skip();
        if (this.i >= p.length || (p[this.i] === c("\\") && p[this.i + 1] === c(")") && inGroup)) {
          return { kind: "item", item: { kind: "assert", test: this.o.nlanch ? "eol" : "eos" } };
        }
        return lit(ch);
      case c("."):
        return { kind: "atom", atom: { kind: "char", set: this.o.nlstop ? NEWLINE_SET.complement() : ANY } };
      case c("["): {
        const w = this.wordBracket();
        if (w !== null) return { kind: "item", item: { kind: "assert", test: w } };
        return { kind: "atom", atom: { kind: "char", set: this.bracket() } };
      }
      case c("\\"): {
        if (this.i >= p.length) throw regexError(RegexErrors.EESCAPE);
        const e = p[this.i++]!;
        if (e === c("(")) return { kind: "atom", atom: this.group(inLookaround) };
        if (e === c("{")) throw regexError(RegexErrors.BADRPT);
        if (e === c(")")) throw regexError(RegexErrors.EPAREN);
        if (e === c("<")) return { kind: "item", item: { kind: "assert", test: "wordStart" } };
        if (e === c(">")) return { kind: "item", item: { kind: "assert", test: "wordEnd" } };
        if (e >= c("1") && e <= c("9")) return { kind: "atom", atom: this.escapeAtom({ kind: "backref", group: e - 0x30 }, inLookaround) };
        return lit(e);
      }
      default:
        return lit(ch);
    }
  }

  /** Whether the ^ at index k was an anchor (first token of the RE or of a group). */
  private isLeadingAnchor(k: number): boolean {
    return k === 0 || (k >= 2 && this.p[k - 2] === c("\\") && this.p[k - 1] === c("("));
  }

  // ---- escapes (AREs) ----

  /** After a backslash: one escape. `inBracket` limits what is allowed. */
  private escape(inBracket: boolean): Escape {
    const p = this.p;
    const ch = p[this.i++]!;
    const isAlnum = (ch >= 0x30 && ch <= 0x39) || isAsciiAlpha(ch);
    if (!isAlnum) return { kind: "char", value: ch };
    const name = String.fromCodePoint(ch);
    const cls = (k: string, complement: boolean): Escape => ({ kind: "class", set: CLASSES[k]!, complement });
    const inRange = (v: number): number => {
      if (v > 0x7ffffffe) throw regexError(RegexErrors.EESCAPE);
      return v;
    };
    switch (name) {
      case "a": return { kind: "char", value: 7 };
      case "A": return { kind: "assert", test: "bos" };
      case "b": return { kind: "char", value: 8 };
      case "B": return { kind: "char", value: c("\\") };
      case "c":
        if (this.i >= p.length) throw regexError(RegexErrors.EESCAPE);
        return { kind: "char", value: p[this.i++]! & 0o37 };
      case "d": return cls("digit", false);
      case "D": return cls("digit", true);
      case "e": return { kind: "char", value: 27 };
      case "f": return { kind: "char", value: 12 };
      case "m": return { kind: "assert", test: "wordStart" };
      case "M": return { kind: "assert", test: "wordEnd" };
      case "n": return { kind: "char", value: 10 };
      case "r": return { kind: "char", value: 13 };
      case "s": return cls("space", false);
      case "S": return cls("space", true);
      case "t": return { kind: "char", value: 9 };
      case "u": return { kind: "char", value: inRange(this.digits(16, 4, 4)) };
      case "U": return { kind: "char", value: inRange(this.digits(16, 8, 8)) };
      case "v": return { kind: "char", value: 11 };
      case "w": return cls("word", false);
      case "W": return cls("word", true);
      case "x": return { kind: "char", value: inRange(this.digits(16, 1, 255)) };
      case "y": return { kind: "assert", test: "wordBoundary" };
      case "Y": return { kind: "assert", test: "notWordBoundary" };
      case "Z": return { kind: "assert", test: "eos" };
      case "0": return this.octal();
    }
    if (ch >= c("1") && ch <= c("9")) {
      const save = this.i;
      this.i--;
      const n = this.digits(10, 1, 255);
      // Postgres's heuristic: one digit, or a number no larger than the groups opened so far,
      // is a back-reference; anything else is read again as an octal escape.
      if (this.i === save || (n > 0 && n <= this.groupCount)) {
        if (inBracket) throw regexError(RegexErrors.EESCAPE);
        return { kind: "backref", group: n };
      }
      this.i = save;
      return this.octal();
    }
    throw regexError(RegexErrors.EESCAPE);
  }

  /** Octal escape starting at the digit before the cursor (up to three digits, at most 0377). */
  private octal(): Escape {
    this.i--;
    let v = this.digits(8, 1, 3);
    if (v > 0xff) {
      this.i--;
      v >>= 3;
    }
    return { kind: "char", value: v };
  }

  private digits(base: number, minLen: number, maxLen: number): number {
    let n = 0;
    let len = 0;
    for (; len < maxLen && this.i < this.p.length; len++) {
      const d = parseInt(String.fromCodePoint(this.p[this.i]!), 16);
      if (Number.isNaN(d) || d >= base) break;
      n = n * base + d;
      this.i++;
    }
    if (len < minLen) throw regexError(RegexErrors.EESCAPE);
    return n;
  }

  // ---- bracket expressions ----

  /** After "[": the set, negated with "[^"; newline excluded from negations under NLSTOP. */
  private bracket(): CharSet {
    const p = this.p;
    let negate = false;
    if (p[this.i] === c("^")) {
      negate = true;
      this.i++;
    }
    const ranges: Array<[number, number]> = [];
    const complements: CharSet[] = [];
    let first = true;
    for (;;) {
      if (this.i >= p.length) throw regexError(RegexErrors.EBRACK);
      const ch = p[this.i]!;
      if (ch === c("]") && !first) {
        this.i++;
        break;
      }
      const start = this.bracketElement(first);
      first = false;
      if (start.kind === "class") {
        if (start.complement) complements.push(start.set);
        else ranges.push(...pairsOf(start.set));
        continue;
      }
      if (start.kind === "range-dash") throw regexError(RegexErrors.ERANGE);
      if (start.kind === "equiv") {
        ranges.push([start.value, start.value]);
        continue;
      }
      // A "-" that is neither first nor right before "]" makes a range.
      if (p[this.i] === c("-") && p[this.i + 1] !== c("]")) {
        this.i++;
        if (this.i >= p.length) throw regexError(RegexErrors.EBRACK);
        const end = this.bracketElement(false);
        let hi: number;
        if (end.kind === "char" || end.kind === "range-dash") hi = end.value;
        else if (end.kind === "collating") hi = end.value;
        else throw regexError(RegexErrors.ERANGE);
        if (hi < start.value) throw regexError(RegexErrors.ERANGE);
        ranges.push([start.value, hi]);
      } else {
        ranges.push([start.value, start.value]);
      }
    }
    let set = CharSet.of(ranges);
    if (this.o.icase) set = set.withCases();
    for (const cset of complements) set = set.union((this.o.icase ? cset.withCases() : cset).complement());
    if (!negate) return set;
    if (this.o.nlstop) set = set.union(NEWLINE_SET);
    return set.complement();
  }

  private bracketElement(first: boolean):
    | { kind: "char" | "collating" | "equiv" | "range-dash"; value: number }
    | { kind: "class"; set: CharSet; complement: boolean } {
    const p = this.p;
    const ch = p[this.i++]!;
    if (ch === c("[") && this.i < p.length) {
      const k = p[this.i];
      if (k === c(".") || k === c("=") || k === c(":")) {
        this.i++;
        const startAt = this.i;
        while (this.i < p.length && !(p[this.i] === k && p[this.i + 1] === c("]"))) this.i++;
        if (this.i >= p.length) throw regexError(RegexErrors.EBRACK);
        const name = String.fromCodePoint(...p.slice(startAt, this.i));
        this.i += 2;
        if (k === c(":")) {
          if (name.length === 0) throw regexError(RegexErrors.ECTYPE);
          let cls = CLASSES[name];
          if (cls === undefined) throw regexError(RegexErrors.ECTYPE);
          // Case-insensitive [[:upper:]] and [[:lower:]] mean letters of either case, as in Postgres.
          if (this.o.icase && (name === "upper" || name === "lower")) cls = CLASSES["alpha"]!;
          return { kind: "class", set: cls, complement: false };
        }
        if (name.length === 0) throw regexError(RegexErrors.ECOLLATE);
        const chars = [...name];
        const value = chars.length === 1 ? chars[0]!.codePointAt(0)! : CHARACTER_NAMES[name];
        if (value === undefined) throw regexError(RegexErrors.ECOLLATE);
        return { kind: k === c(".") ? "collating" : "equiv", value };
      }
    }
    if (ch === c("\\") && this.o.advanced) {
      if (this.i >= p.length) throw regexError(RegexErrors.EESCAPE);
      const e = this.escape(true);
      if (e.kind === "char") return { kind: "char", value: e.value };
      if (e.kind === "class") return { kind: "class", set: e.set, complement: e.complement };
      throw regexError(RegexErrors.EESCAPE);
    }
    if (ch === c("-") && !first && p[this.i] !== c("]")) return { kind: "range-dash", value: ch };
    return { kind: "char", value: ch };
  }
}

function pairsOf(s: CharSet): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < s.ranges.length; i += 2) out.push([s.ranges[i]!, s.ranges[i + 1]!]);
  return out;
}
