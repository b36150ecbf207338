import { describe, expect, it } from "vitest";
import { REGEX_BACKREF_STEPS_MAX, REGEX_NFA_STATES_MAX, REGEX_NFA_TOTAL_STATES_MAX, REGEX_PATTERN_CHARS_MAX, REGEX_STEPS_MAX } from "../limits.ts";
import { defaultOptions, type CompileOptions } from "./parser.ts";
import { Meter, Regex } from "./regex.ts";

const compile = (p: string, o: Partial<CompileOptions> = {}): Regex => new Regex(p, { ...defaultOptions(), ...o });

/** The match and groups as strings (null when unset), or null without a match. */
function match(p: string, s: string, o: Partial<CompileOptions> = {}): Array<string | null> | null {
  const re = compile(p, o);
  const cps = [...s];
  const m = re.exec(re.subject(s), 0, true);
  if (m === null) return null;
  const out: Array<string | null> = [];
  for (let i = 0; i < m.length; i += 2) out.push(m[i]! < 0 ? null : cps.slice(m[i]!, m[i + 1]!).join(""));
  return out;
}

/** Matcher steps for one search (captures included when asked). */
function steps(re: Regex, s: string, withCaptures: boolean): number {
  const meter = new Meter();
  re.exec(re.subject(s, meter), 0, withCaptures);
  return meter.steps;
}

// Expected values below were checked against PostgreSQL 15 (regexp_match / ~ with the same input).
describe("Postgres match semantics (not Perl's)", () => {
  it("makes the whole RE as greedy as its first quantified part", () => {
    expect(match("(a|ab)(c|bcd)(d*)", "abcd")).toEqual(["abcd", "ab", "c", "d"]);
    expect(match("a.*?b|c", "axbxb")).toEqual(["axbxb"]);
    expect(match("x*?y*", "xxyy")).toEqual([""]);
  });

  it("lets a quantifier on a group override the group's own greediness", () => {
    expect(match("^(l*){1,1}?(.*)(f*)$", "llmmmfff")).toEqual(["llmmmfff", "", "llmmmfff", ""]);
    expect(match("^(l*?){1,1}(.*)(f*)$", "llmmmfff")).toEqual(["llmmmfff", "ll", "mmmfff", ""]);
  });

  it("reports the last round of an iteration, and unset groups of other rounds", () => {
    expect(match("((a)|b)*", "ab")).toEqual(["ab", "b", null]);
    expect(match("(a*)*", "b")).toEqual(["", ""]);
    expect(match("(a*)+", "b")).toEqual(["", ""]);
  });

  it("works on code points, not UTF-16 units", () => {
    expect(match("^.$", "😀")).toEqual(["😀"]);
    expect(match("(.)(.)", "é😀x")).toEqual(["é😀", "é", "😀"]);
  });

  it("supports lookahead and lookbehind constraints", () => {
    expect(match("(?<=foo)b+", "foobbar")).toEqual(["bb"]);
    expect(match("a(?!b)", "abac")).toEqual(["a"]);
    expect(match("x(?=[xy])", "xz xy")).toEqual(["x"]);
  });

  it("matches back-references exactly", () => {
    expect(match("^(\\w+)( \\1)+$", "abc abc abc")).toEqual(["abc abc abc", "abc", " abc"]);
    expect(match("^(\\w+)( \\1)+$", "abc abd abc")).toBeNull();
    expect(match("(a)\\1", "xAa", { icase: true })).toEqual(["Aa", "A"]);
  });
});

describe("linear time on patterns that make backtracking engines explode", () => {
  // Each case: pattern, a text builder, whether captures are asked for.
  const cases: Array<[string, (n: number) => string]> = [
    ["^(a+)+$", (n) => "a".repeat(n) + "!"],
    ["^(a+)+$", (n) => "a".repeat(n)],
    ["(a|a)*b", (n) => "a".repeat(n)],
    ["(a*)*b", (n) => "a".repeat(n)],
    ["(x+x+)+y", (n) => "x".repeat(n)],
    ["(.*a){20}", (n) => "a".repeat(n)],
    ["(.*a){20}", (n) => "ab".repeat(n / 2)],
  ];
  for (const [pattern, text] of cases) {
    for (const withCaptures of [false, true]) {
      it(`${pattern} on ${JSON.stringify(text(8))}… ${withCaptures ? "with" : "without"} captures: doubling the text at most doubles the steps`, () => {
        const re = compile(pattern);
        const sizes = [1000, 2000, 4000, 8000, 16000];
        const counts = sizes.map((n) => steps(re, text(n), withCaptures));
        for (let i = 1; i < counts.length; i++) expect(counts[i]! / counts[i - 1]!).toBeLessThan(2.2);
      });
    }
  }

  it("finishes 10^5-character inputs quickly (generous smoke bound)", () => {
    const started = Date.now();
    for (const [pattern, text] of cases) {
      const re = compile(pattern);
      re.exec(re.subject(text(100_000)), 0, false);
    }
    // Captures on the classic ^(a+)+$ too (the dissection passes over the whole match).
    const re = compile("^(a+)+$");
    expect(re.exec(re.subject("a".repeat(100_000)), 0, true)?.slice(2)).toEqual(Int32Array.from([99_999, 100_000]));
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});

describe("regex limits", () => {
  it(`accepts patterns up to REGEX_PATTERN_CHARS_MAX (${REGEX_PATTERN_CHARS_MAX}) characters and refuses longer with 54000`, () => {
    const at = "(?x)a" + " ".repeat(REGEX_PATTERN_CHARS_MAX - 5);
    expect(at.length).toBe(REGEX_PATTERN_CHARS_MAX);
    expect(match(at, "a")).toEqual(["a"]);
    expect(() => compile(at + " ")).toThrow(expect.objectContaining({ code: "54000" }));
  });

  it(`allows REGEX_NFA_STATES_MAX (${REGEX_NFA_STATES_MAX}) states and refuses one more as too complex (2201B)`, () => {
    // k consecutive characters compile to k + 1 states.
    const at = compile(".".repeat(REGEX_NFA_STATES_MAX - 1));
    expect(at.stateCount).toBe(REGEX_NFA_STATES_MAX);
    expect(() => compile(".".repeat(REGEX_NFA_STATES_MAX))).toThrow(
      expect.objectContaining({ code: "2201B", message: "invalid regular expression: regular expression is too complex" }),
    );
  });

  it(`bounds all automata of one pattern together by REGEX_NFA_TOTAL_STATES_MAX (${REGEX_NFA_TOTAL_STATES_MAX})`, () => {
    // Nested groups repeat their contents in each enclosing node's automaton.
    const nested = (d: number): string => "(".repeat(d) + ".".repeat(4000) + ")".repeat(d);
    const states = (d: number): number => {
      try {
        return compile(nested(d)).stateCount;
      } catch {
        return Number.POSITIVE_INFINITY;
      }
    };
    let d = 1;
    while (states(d + 1) <= REGEX_NFA_TOTAL_STATES_MAX) d++;
    expect(compile(nested(d)).stateCount).toBeLessThanOrEqual(REGEX_NFA_TOTAL_STATES_MAX);
    expect(() => compile(nested(d + 1))).toThrow(expect.objectContaining({ code: "2201B" }));
  });

  it("bounds back-reference matching by its step budget, exactly at the edge", () => {
    const re = compile("(\\w+)*\\1x");
    const text = "a".repeat(20) + "bx";
    const needed = steps(re, text, true);
    expect(() => re.exec(re.subject(text, new Meter(needed)), 0, true)).not.toThrow();
    expect(() => re.exec(re.subject(text, new Meter(needed - 1)), 0, true)).toThrow(
      expect.objectContaining({ code: "2201B", message: "regular expression failed: regular expression is too complex" }),
    );
  });

  it(`stops a runaway back-reference search after REGEX_BACKREF_STEPS_MAX (${REGEX_BACKREF_STEPS_MAX}) steps`, () => {
    const re = compile("(\\w+)*\\1x");
    const started = Date.now();
    expect(() => re.exec(re.subject("a".repeat(2000) + "bx"), 0, true)).toThrow(expect.objectContaining({ code: "2201B" }));
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it(`gives linear matching a budget of REGEX_STEPS_MAX (${REGEX_STEPS_MAX}) steps per call, ending in 54000`, () => {
    const re = compile("(a|b)*c");
    const subj = re.subject("ab".repeat(50));
    expect(subj.meter.limit).toBe(REGEX_STEPS_MAX);
    expect(compile("(a)\\1").subject("aa").meter.limit).toBe(REGEX_BACKREF_STEPS_MAX);
    // At the edge, with a meter sized to what the search needs.
    const needed = steps(re, "ab".repeat(50), false);
    expect(re.exec(re.subject("ab".repeat(50), new Meter(needed)), 0, false)).toBeNull();
    expect(() => re.exec(re.subject("ab".repeat(50), new Meter(needed - 1)), 0, false)).toThrow(
      expect.objectContaining({ code: "54000", message: `regular expression search needs more than ${needed - 1} steps` }),
    );
  });
});
