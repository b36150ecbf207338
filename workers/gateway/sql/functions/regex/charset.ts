// Sets of code points, and the character properties of PostgreSQL's "C" locale (the only locale
// Warren has: lc_ctype = C). In that locale Postgres's regex library classifies and case-folds
// ASCII only: [[:alpha:]], \w, \s and (?i) never apply to characters above U+007F.

/** A set of code points as sorted, disjoint, non-adjacent inclusive ranges [lo0, hi0, lo1, hi1, …]. */
export class CharSet {
  /** Membership of the ASCII range as a bit table, so the common case is one array read. */
  private readonly ascii: Uint8Array;

  readonly ranges: readonly number[];

  private constructor(ranges: readonly number[]) {
    this.ranges = ranges;
    this.ascii = new Uint8Array(128);
    for (let i = 0; i < ranges.length; i += 2) {
      for (let c = ranges[i]!; c <= ranges[i + 1]! && c < 128; c++) this.ascii[c] = 1;
    }
  }

  static of(ranges: ReadonlyArray<readonly [number, number]>): CharSet {
    const sorted = [...ranges].filter(([lo, hi]) => lo <= hi).sort((a, b) => a[0] - b[0]);
    const out: number[] = [];
    for (const [lo, hi] of sorted) {
      const n = out.length;
      if (n > 0 && lo <= out[n - 1]! + 1) out[n - 1] = Math.max(out[n - 1]!, hi);
      else out.push(lo, hi);
    }
    return new CharSet(out);
  }

  static single(c: number): CharSet {
    return CharSet.of([[c, c]]);
  }

  has(c: number): boolean {
    if (c < 128) return this.ascii[c] === 1;
    const r = this.ranges;
    let lo = 0;
    let hi = r.length / 2 - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (c < r[mid * 2]!) hi = mid - 1;
      else if (c > r[mid * 2 + 1]!) lo = mid + 1;
      else return true;
    }
    return false;
  }

  union(other: CharSet): CharSet {
    return CharSet.of([...pairs(this.ranges), ...pairs(other.ranges)]);
  }

  /** Every code point not in this set (up to U+10FFFF, the largest a text value can hold). */
  complement(): CharSet {
    const out: Array<[number, number]> = [];
    let next = 0;
    for (const [lo, hi] of pairs(this.ranges)) {
      if (lo > next) out.push([next, lo - 1]);
      next = hi + 1;
    }
    if (next <= CODE_POINT_MAX) out.push([next, CODE_POINT_MAX]);
    return CharSet.of(out);
  }

  /** This set plus the other ASCII case of each ASCII letter in it (case-insensitive matching). */
  withCases(): CharSet {
    const extra: Array<[number, number]> = [];
    for (const [lo, hi] of pairs(this.ranges)) {
      const a = Math.max(lo, 0x41);
      const b = Math.min(hi, 0x5a);
      if (a <= b) extra.push([a + 32, b + 32]);
      const c = Math.max(lo, 0x61);
      const d = Math.min(hi, 0x7a);
      if (c <= d) extra.push([c - 32, d - 32]);
    }
    return extra.length === 0 ? this : CharSet.of([...pairs(this.ranges), ...extra]);
  }
}

export const CODE_POINT_MAX = 0x10ffff;

function* pairs(r: readonly number[]): Generator<[number, number]> {
  for (let i = 0; i < r.length; i += 2) yield [r[i]!, r[i + 1]!];
}

const NEWLINE = 10;
export const NEWLINE_SET = CharSet.single(NEWLINE);
export const ANY = CharSet.of([[0, CODE_POINT_MAX]]);

/** The POSIX classes of the C locale, by the names [[:name:]] accepts. */
export const CLASSES: Readonly<Record<string, CharSet>> = {
  alnum: CharSet.of([[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]]),
  alpha: CharSet.of([[0x41, 0x5a], [0x61, 0x7a]]),
  ascii: CharSet.of([[0, 0x7f]]),
  blank: CharSet.of([[9, 9], [32, 32]]),
  cntrl: CharSet.of([[0, 0x1f], [0x7f, 0x7f]]),
  digit: CharSet.of([[0x30, 0x39]]),
  graph: CharSet.of([[0x21, 0x7e]]),
  lower: CharSet.of([[0x61, 0x7a]]),
  print: CharSet.of([[0x20, 0x7e]]),
  punct: CharSet.of([[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]]),
  space: CharSet.of([[9, 13], [32, 32]]),
  upper: CharSet.of([[0x41, 0x5a]]),
  xdigit: CharSet.of([[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]]),
  word: CharSet.of([[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]]),
};

export function isWordChar(c: number): boolean {
  return c < 128 && CLASSES["word"]!.has(c);
}

/**
 * POSIX's portable character names, which [[.name.]] and [[=name=]] accept besides a single
 * character (e.g. [[.hyphen.]] is "-").
 */
export const CHARACTER_NAMES: Readonly<Record<string, number>> = (() => {
  const names: Record<string, number> = {};
  const controls = ["NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF", "VT", "FF", "CR", "SO", "SI",
    "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB", "ESC"];
  controls.forEach((n, i) => (names[n] = i));
  Object.assign(names, {
    alert: 7, backspace: 8, tab: 9, newline: 10, "vertical-tab": 11, "form-feed": 12, "carriage-return": 13,
    IS4: 28, FS: 28, IS3: 29, GS: 29, IS2: 30, RS: 30, IS1: 31, US: 31, DEL: 127,
  });
  const printable: Array<[string, string]> = [
    ["space", " "], ["exclamation-mark", "!"], ["quotation-mark", '"'], ["number-sign", "#"], ["dollar-sign", "$"],
    ["percent-sign", "%"], ["ampersand", "&"], ["apostrophe", "'"], ["left-parenthesis", "("], ["right-parenthesis", ")"],
    ["asterisk", "*"], ["plus-sign", "+"], ["comma", ","], ["hyphen", "-"], ["hyphen-minus", "-"], ["period", "."],
    ["full-stop", "."], ["slash", "/"], ["solidus", "/"], ["zero", "0"], ["one", "1"], ["two", "2"], ["three", "3"],
    ["four", "4"], ["five", "5"], ["six", "6"], ["seven", "7"], ["eight", "8"], ["nine", "9"], ["colon", ":"],
    ["semicolon", ";"], ["less-than-sign", "<"], ["equals-sign", "="], ["greater-than-sign", ">"], ["question-mark", "?"],
    ["commercial-at", "@"], ["left-square-bracket", "["], ["backslash", "\\"], ["reverse-solidus", "\\"],
    ["right-square-bracket", "]"], ["circumflex", "^"], ["circumflex-accent", "^"], ["underscore", "_"], ["low-line", "_"],
    ["grave-accent", "`"], ["left-brace", "{"], ["left-curly-bracket", "{"], ["vertical-line", "|"], ["right-brace", "}"],
    ["right-curly-bracket", "}"], ["tilde", "~"],
  ];
  for (const [n, c] of printable) names[n] = c.codePointAt(0)!;
  return names;
})();
