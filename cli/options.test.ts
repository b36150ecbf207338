import { describe, expect, it } from "vitest";
import { formatHelp, parseArgs, UsageError, type CommandSpec } from "./options.ts";

const spec: CommandSpec = {
  name: "demo",
  summary: "A command for tests.",
  positionals: [
    { name: "NAME", description: "a name", required: true },
    { name: "EXTRA", description: "optional", required: false },
  ],
  options: [
    { name: "port", kind: "port", env: "T_PORT", default: "8787", description: "a port" },
    { name: "count", kind: "integer", description: "a count" },
    { name: "dir", kind: "string", env: "T_DIR", default: ".warren", description: "a dir" },
    { name: "json", kind: "boolean", env: "T_JSON", description: "a switch" },
    { name: "listen", kind: "address", default: "127.0.0.1:26257", description: "an address" },
    { name: "token", kind: "string", env: "T_TOKEN", required: true, description: "required" },
  ],
};

const parse = (argv: string[], env: Record<string, string> = {}) => parseArgs(spec, argv, { T_TOKEN: "t", ...env });
const usageError = (argv: string[], env: Record<string, string> = {}) => {
  try {
    parse(argv, env);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`expected a usage error for ${argv.join(" ")}`);
};

describe("precedence: flag, then env, then default", () => {
  it("uses the default when neither flag nor env is given", () => {
    const a = parse(["n"]);
    expect(a.integer("port")).toBe(8787);
    expect(a.source("port")).toBe("default");
  });
  it("env beats the default", () => {
    const a = parse(["n"], { T_PORT: "9000" });
    expect(a.integer("port")).toBe(9000);
    expect(a.source("port")).toBe("env");
  });
  it("a flag beats env, in both spellings", () => {
    expect(parse(["n", "--port", "1"], { T_PORT: "9000" }).integer("port")).toBe(1);
    const a = parse(["n", "--port=2"], { T_PORT: "9000" });
    expect(a.integer("port")).toBe(2);
    expect(a.source("port")).toBe("flag");
  });
  it("an empty env variable counts as unset", () => {
    expect(parse(["n"], { T_DIR: "" }).string("dir")).toBe(".warren");
  });
  it("an option without flag, env or default is unset", () => {
    const a = parse(["n"]);
    expect(a.optionalInteger("count")).toBeUndefined();
    expect(a.source("count")).toBe("unset");
    expect(() => a.integer("count")).toThrow(UsageError);
  });
});

describe("values", () => {
  it("parses booleans from flags and env", () => {
    expect(parse(["n"]).flag("json")).toBe(false);
    expect(parse(["n", "--json"]).flag("json")).toBe(true);
    expect(parse(["n", "--json=false"], { T_JSON: "1" }).flag("json")).toBe(false);
    expect(parse(["n"], { T_JSON: "yes" }).flag("json")).toBe(true);
    expect(usageError(["n"], { T_JSON: "maybe" })).toMatch(/T_JSON must be true or false/);
  });
  it("parses addresses", () => {
    expect(parse(["n"]).address("listen")).toEqual({ host: "127.0.0.1", port: 26257 });
    expect(parse(["n", "--listen", "0.0.0.0:5432"]).address("listen")).toEqual({ host: "0.0.0.0", port: 5432 });
    expect(parse(["n", "--listen", "[::1]:5"]).address("listen")).toEqual({ host: "::1", port: 5 });
    expect(parse(["n", "--listen", "6543"]).address("listen")).toEqual({ host: "127.0.0.1", port: 6543 });
  });
  it("accepts negative integers as values", () => {
    expect(parse(["n", "--count", "-3"]).integer("count")).toBe(-3);
  });
  it("takes positionals in order, also after --", () => {
    expect(parse(["a", "b"]).positionals).toEqual(["a", "b"]);
    expect(parse(["--", "--odd"]).positional(0)).toBe("--odd");
  });
});

describe("argument errors", () => {
  it("rejects unknown options", () => {
    expect(usageError(["n", "--nope"])).toBe("unknown option --nope");
    expect(usageError(["n", "-x"])).toMatch(/unknown option -x/);
  });
  it("rejects a missing value", () => {
    expect(usageError(["n", "--port"])).toBe("--port needs a value");
    expect(usageError(["n", "--dir", "--json"])).toBe("--dir needs a value");
  });
  it("rejects bad ports and integers, naming where the value came from", () => {
    expect(usageError(["n", "--port", "abc"])).toMatch(/--port must be a port number/);
    expect(usageError(["n", "--port", "65536"])).toMatch(/--port must be a port number \(0-65535\), got 65536/);
    expect(usageError(["n"], { T_PORT: "x" })).toMatch(/^T_PORT must be a port number/);
    expect(usageError(["n", "--count", "1.5"])).toMatch(/--count must be an integer/);
    expect(usageError(["n", "--count", "99999999999999999999"])).toMatch(/out of range/);
  });
  it("rejects bad addresses", () => {
    expect(usageError(["n", "--listen", "host"])).toMatch(/--listen must be HOST:PORT/);
    expect(usageError(["n", "--listen", "::1:5"])).toMatch(/--listen must be HOST:PORT/);
    expect(usageError(["n", "--listen", "h:99999"])).toMatch(/port number/);
  });
  it("rejects an empty string value", () => {
    expect(usageError(["n", "--dir="])).toMatch(/--dir must not be empty/);
  });
  it("rejects repeated options", () => {
    expect(usageError(["n", "--port", "1", "--port", "2"])).toBe("--port given more than once");
  });
  it("rejects a value on a boolean switch", () => {
    expect(usageError(["n", "--json=yes"])).toMatch(/--json takes no value/);
  });
  it("rejects missing and extra positionals", () => {
    expect(usageError([])).toBe("missing NAME");
    expect(usageError(["a", "b", "c"])).toBe('unexpected argument "c"');
  });
  it("rejects a missing required option, naming its variable", () => {
    expect(() => parseArgs(spec, ["n"], {})).toThrow("missing --token (or T_TOKEN)");
  });
  it("treats a read of an undeclared option as a programming error, not a usage error", () => {
    const a = parse(["n"]);
    expect(() => a.string("nope")).toThrow(/internal/);
    expect(() => a.flag("port")).toThrow(/internal/);
  });
});

describe("help", () => {
  it("short-circuits validation so --help always works", () => {
    expect(parseArgs(spec, ["--port", "bad", "--help"], {}).help).toBe(true);
    expect(parseArgs(spec, ["-h"], {}).help).toBe(true);
  });
  it("lists every option with its env variable and default", () => {
    const text = formatHelp(spec);
    expect(text).toMatch(/^Usage: warren demo NAME \[EXTRA\] \[options\]/);
    expect(text).toContain("--port PORT");
    expect(text).toContain("env T_PORT, default 8787");
    expect(text).toContain("--json ");
    expect(text).toContain("--help");
  });
});
