import { describe, expect, it } from "vitest";
import { INFINITE, LONGER, SHORTER, type Item } from "./ast.ts";
import { defaultOptions, parseRegex, type CompileOptions } from "./parser.ts";
import { buildTree, CAP, MIXED, type Subre } from "./subre.ts";

const parse = (p: string, o: Partial<CompileOptions> = {}) => parseRegex(p, { ...defaultOptions(), ...o });
const items = (p: string, o: Partial<CompileOptions> = {}): readonly Item[] => parse(p, o).root.branches[0]!;
const tree = (p: string): Subre => buildTree(parse(p).root);
const shape = (t: Subre): string => (t.children.length === 0 ? t.op : `${t.op}(${t.children.map(shape).join(",")})`);

// Error texts are Postgres's (checked with `select 'a' ~ pattern` on PostgreSQL 15).
describe("parser errors", () => {
  const cases: Array<[string, string]> = [
    ["(", "parentheses () not balanced"],
    ["a)", "parentheses () not balanced"],
    ["[a", "brackets [] not balanced"],
    ["a[b-", "brackets [] not balanced"],
    ["a{1", "braces {} not balanced"],
    ["a{2,1}", "invalid repetition count(s)"],
    ["a{256}", "invalid repetition count(s)"],
    ["*a", "quantifier operand invalid"],
    ["a**", "quantifier operand invalid"],
    ["a(?", "quantifier operand invalid"],
    ["\\", "invalid escape \\ sequence"],
    ["a\\q", "invalid escape \\ sequence"],
    ["\\u12", "invalid escape \\ sequence"],
    ["[[:foo:]]", "invalid character class"],
    ["[[.foo.]]", "invalid collating element"],
    ["[z-a]", "invalid character range"],
    ["[\\w-z]", "invalid character range"],
    ["(?z)", "invalid embedded option"],
    ["***?", "invalid regexp (reg version 0.8)"],
    ["***x", "quantifier operand invalid"],
    ["\\1", "invalid backreference number"],
    ["(a)\\2", "invalid backreference number"],
    ["(a)(?=\\1)", "invalid backreference number"],
  ];
  for (const [pattern, text] of cases) {
    it(`${JSON.stringify(pattern)} → ${text}`, () => {
      expect(() => parse(pattern)).toThrow(expect.objectContaining({ code: "2201B", message: `invalid regular expression: ${text}` }));
    });
  }
});

describe("parser syntax", () => {
  it("reads quantifiers with their bounds and preference", () => {
    const q = items("a*b+?c{2}d{2,}e{1,3}?f?").map((i) => (i.kind === "quant" ? [i.min, i.max, i.prefer] : null));
    expect(q).toEqual([[0, INFINITE, LONGER], [1, INFINITE, SHORTER], [2, 2, 0], [2, INFINITE, LONGER], [1, 3, SHORTER], [0, 1, LONGER]]);
  });

  it("treats { without a digit as a literal and \\{ in BREs as a bound", () => {
    expect(items("a{x").length).toBe(3);
    expect(items("a\\{2\\}", { extended: false, advanced: false })).toMatchObject([{ kind: "quant", min: 2, max: 2 }]);
  });

  it("counts groups, keeps lookaround groups uncaptured and reads escapes", () => {
    const r = parse("(a)(?:b)(?=(c))(d)\\2");
    expect(r.groups).toBe(2);
    expect(r.lookarounds).toHaveLength(1);
    expect(r.hasBackrefs).toBe(true);
    const set = (p: string) => (items(p)[0] as Extract<Item, { kind: "quant" }>).atom;
    expect(set("\\x41")).toMatchObject({ kind: "char" });
    expect((set("\\x41") as { set: { has(c: number): boolean } }).set.has(65)).toBe(true);
    // \12 with one group is octal (Postgres's heuristic), \1 a back-reference.
    expect((set("\\12") as { set: { has(c: number): boolean } }).set.has(0o12)).toBe(true);
  });

  it("applies director prefixes and embedded options", () => {
    expect(items("***=a.b")).toHaveLength(3);
    expect(parse("(?i)a").root.branches[0]).toHaveLength(1);
    expect(() => parse("(?i)a", { extended: true, advanced: false })).toThrow(expect.objectContaining({ code: "2201B" }));
    expect(items("(?x) a  b # c")).toHaveLength(2);
  });
});

describe("subexpression tree (Postgres's regcomp shape and greediness)", () => {
  it("keeps capture-free patterns as one leaf with the first quantifier's preference", () => {
    expect(shape(tree("a*b+c"))).toBe("=");
    expect(tree("a*?b+").flags & (LONGER | SHORTER)).toBe(SHORTER);
    expect(tree("a|b*?").flags & (LONGER | SHORTER)).toBe(LONGER);
  });

  it("splits at captures and greediness clashes", () => {
    expect(shape(tree("x(a)y"))).toBe(".(=,.(=,=))");
    expect(tree("x(a)y").flags & CAP).toBe(CAP);
    const clash = tree("a*b*?");
    expect(clash.flags & MIXED).toBe(MIXED);
    expect(shape(clash)).toBe(".(=,=)");
  });

  it("turns x{m,n} with captures into x{m-1,n-1} then x, and x* into an iteration", () => {
    expect(shape(tree("(a){2,3}"))).toBe(".(=,=)");
    expect(shape(tree("(a)*"))).toBe("*(=)");
    const it = tree("(a)*");
    expect([it.min, it.max]).toEqual([0, INFINITE]);
  });

  it("wraps a group that is already captured, and keeps back-references as nodes", () => {
    expect(shape(tree("((a))"))).toBe("((=)");
    expect(shape(tree("(a)\\1"))).toBe(".(=,b)");
  });
});
