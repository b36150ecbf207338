import { describe, expect, it } from "vitest";
import { likeEscape, likeMatch, similarToEscape } from "./patterns.ts";
import { regexMatch, regexpReplace } from "./regexp.ts";

const similar = (s: string, p: string, esc?: string) => regexMatch(s, similarToEscape(p, esc), false);

// Expected results checked against PostgreSQL 15.
describe("LIKE", () => {
  it("matches with % and _ and backslash escapes", () => {
    expect(likeMatch("hello", "h%o", false)).toBe(true);
    expect(likeMatch("h_llo", "h\\_llo", false)).toBe(true);
    expect(likeMatch("hallo", "h\\_llo", false)).toBe(false);
    expect(likeMatch("AbC", "a_c", true)).toBe(true);
    expect(likeMatch("", "%", false)).toBe(true);
    expect(likeMatch("a\nb", "a_b", false)).toBe(true);
    expect(likeMatch("é", "_", false)).toBe(true);
  });

  it("supports ESCAPE through like_escape", () => {
    expect(likeEscape("a#_b%", "#")).toBe("a\\_b%");
    expect(likeMatch("a_c", "a#_c", false, "#")).toBe(true);
    expect(likeMatch("abc", "a#_c", false, "#")).toBe(false);
    expect(likeMatch("100%", "100!%", false, "!")).toBe(true);
    expect(likeMatch("a\\b", "a\\b", false, "")).toBe(true);
  });

  it("raises 22025 for a trailing escape only when the matcher reaches it", () => {
    expect(likeMatch("a", "a\\", false)).toBe(false);
    expect(() => likeMatch("a\\", "a\\", false)).toThrow(expect.objectContaining({ code: "22025" }));
    expect(likeMatch("a", "a#", false, "#")).toBe(false);
    expect(() => likeMatch("a#", "a#", false, "#")).toThrow(expect.objectContaining({ code: "22025" }));
  });
});

describe("SIMILAR TO and regular expressions", () => {
  it("translates SQL regular expressions", () => {
    expect(similarToEscape("a%b")).toBe("^(?:a.*b)$");
    expect(similar("abc", "a%")).toBe(true);
    expect(similar("abc", "(a|b)c")).toBe(false);
    expect(similar("abc", "%(b|x)%")).toBe(true);
    expect(similar("a.c", "a.c")).toBe(true);
    expect(similar("abc", "a.c")).toBe(false);
    expect(similar("abc", "[a-c]+")).toBe(true);
    expect(similar("ab", "a{2}")).toBe(false);
  });

  it("runs POSIX regexes with classes and replacement syntax", () => {
    expect(regexMatch("abc123", "^[a-z]+[0-9]+$", false)).toBe(true);
    expect(regexMatch("abc", "[[:digit:]]", false)).toBe(false);
    expect(regexMatch("ABC", "b", true)).toBe(true);
    expect(regexpReplace("foobarbaz", "b(..)", "X\\1Y")).toBe("fooXarYbaz");
    expect(regexpReplace("a$b", "\\$", "\\&\\&$")).toBe("a$$$b");
    expect(() => regexMatch("x", "(", false)).toThrow(expect.objectContaining({ code: "2201B" }));
  });
});
