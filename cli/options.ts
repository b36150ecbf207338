// The one options parser every `warren` command uses. A value comes from, in this order:
// an explicit flag (`--port 5` or `--port=5`), then the environment variable named in the spec,
// then the spec's default. Bad input is a UsageError (exit code 2, the usual convention for
// "you called me wrong"), raised before a command does anything.

export type OptionKind = "string" | "integer" | "port" | "boolean" | "address";

export interface OptionSpec {
  /** Flag name without dashes: "data-dir" is given as `--data-dir`. */
  readonly name: string;
  readonly kind: OptionKind;
  readonly description: string;
  /** Environment variable consulted when the flag is absent. */
  readonly env?: string;
  /** Used when neither flag nor environment gives a value. Strings are parsed like input. */
  readonly default?: string;
  readonly required?: boolean;
  /** Placeholder shown in help, e.g. DIR. */
  readonly valueName?: string;
}

export interface PositionalSpec {
  readonly name: string;
  readonly description: string;
  readonly required: boolean;
}

export interface CommandSpec {
  /** Full command path as typed, e.g. "tenant create". */
  readonly name: string;
  readonly summary: string;
  readonly positionals: readonly PositionalSpec[];
  readonly options: readonly OptionSpec[];
  /** Extra paragraphs shown at the end of --help. */
  readonly notes?: string;
}

export class UsageError extends Error {
  readonly command: string;
  constructor(command: string, message: string) {
    super(message);
    this.name = "UsageError";
    this.command = command;
  }
}

export type ValueSource = "flag" | "env" | "default" | "unset";

/** A host and a port, as given to `--listen 127.0.0.1:26257`. */
export interface Address {
  readonly host: string;
  readonly port: number;
}

type Value = string | number | boolean | Address;

export class ParsedArgs {
  readonly spec: CommandSpec;
  readonly positionals: readonly string[];
  readonly help: boolean;
  private readonly values: ReadonlyMap<string, { value: Value; source: ValueSource }>;

  constructor(
    spec: CommandSpec,
    positionals: readonly string[],
    values: ReadonlyMap<string, { value: Value; source: ValueSource }>,
    help: boolean,
  ) {
    this.spec = spec;
    this.positionals = positionals;
    this.values = values;
    this.help = help;
  }

  /** Where an option's value came from; "unset" when it has none. */
  source(name: string): ValueSource {
    this.optionSpec(name);
    return this.values.get(name)?.source ?? "unset";
  }

  string(name: string): string {
    const v = this.optionalString(name);
    if (v === undefined) throw new UsageError(this.spec.name, `missing --${name}`);
    return v;
  }

  optionalString(name: string): string | undefined {
    return this.get(name, ["string"]) as string | undefined;
  }

  integer(name: string): number {
    const v = this.optionalInteger(name);
    if (v === undefined) throw new UsageError(this.spec.name, `missing --${name}`);
    return v;
  }

  optionalInteger(name: string): number | undefined {
    return this.get(name, ["integer", "port"]) as number | undefined;
  }

  flag(name: string): boolean {
    return (this.get(name, ["boolean"]) as boolean | undefined) ?? false;
  }

  address(name: string): Address {
    const v = this.get(name, ["address"]) as Address | undefined;
    if (v === undefined) throw new UsageError(this.spec.name, `missing --${name}`);
    return v;
  }

  /** The positional at `index`, which the spec must declare. */
  positional(index: number): string {
    const p = this.spec.positionals[index];
    if (p === undefined) throw new Error(`internal: ${this.spec.name} declares no positional #${index}`);
    const v = this.positionals[index];
    if (v === undefined) throw new UsageError(this.spec.name, `missing ${p.name}`);
    return v;
  }

  private optionSpec(name: string): OptionSpec {
    const o = this.spec.options.find((s) => s.name === name);
    // A lookup of an undeclared option is a programming error in the command, not bad input.
    if (o === undefined) throw new Error(`internal: ${this.spec.name} declares no option --${name}`);
    return o;
  }

  private get(name: string, kinds: readonly OptionKind[]): Value | undefined {
    const o = this.optionSpec(name);
    if (!kinds.includes(o.kind)) throw new Error(`internal: --${name} is ${o.kind}, read as ${kinds.join("/")}`);
    return this.values.get(name)?.value;
  }
}

const helpSpec: OptionSpec = { name: "help", kind: "boolean", description: "show this help" };

/**
 * Parses `argv` (the words after the command name) against `spec`. `env` is consulted for options
 * that name a variable. Throws UsageError for unknown flags, missing values, bad numbers, extra or
 * missing positionals. `--help`/`-h` anywhere short-circuits validation so help always works.
 */
export function parseArgs(
  spec: CommandSpec,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ParsedArgs {
  const fail = (message: string): never => {
    throw new UsageError(spec.name, message);
  };
  if (argv.includes("--help") || argv.includes("-h")) {
    return new ParsedArgs(spec, [], new Map(), true);
  }
  const byName = new Map(spec.options.map((o) => [o.name, o]));
  const raw = new Map<string, string | true>();
  const positionals: string[] = [];
  let onlyPositionals = false;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    if (onlyPositionals || !word.startsWith("-") || word === "-") {
      positionals.push(word);
      continue;
    }
    if (word === "--") {
      onlyPositionals = true;
      continue;
    }
    if (!word.startsWith("--")) fail(`unknown option ${word} (options are spelled --name)`);
    const eq = word.indexOf("=");
    const name = eq === -1 ? word.slice(2) : word.slice(2, eq);
    const o = byName.get(name);
    if (o === undefined) fail(`unknown option --${name}`);
    if (raw.has(name)) fail(`--${name} given more than once`);
    if (o!.kind === "boolean") {
      if (eq !== -1) {
        const text = word.slice(eq + 1);
        if (text !== "true" && text !== "false") fail(`--${name} takes no value (or =true/=false), got "${text}"`);
        raw.set(name, text === "true" ? true : "false");
      } else {
        raw.set(name, true);
      }
      continue;
    }
    let text: string;
    if (eq !== -1) {
      text = word.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith("--") && next.length > 2)) fail(`--${name} needs a value`);
      text = next!;
      i++;
    }
    raw.set(name, text);
  }

  const required = spec.positionals.filter((p) => p.required).length;
  if (positionals.length < required) {
    const missing = spec.positionals.slice(positionals.length).filter((p) => p.required);
    fail(`missing ${missing.map((p) => p.name).join(" ")}`);
  }
  if (positionals.length > spec.positionals.length) {
    fail(`unexpected argument "${positionals[spec.positionals.length]}"`);
  }

  const values = new Map<string, { value: Value; source: ValueSource }>();
  for (const o of spec.options) {
    const given = raw.get(o.name);
    if (given === true) {
      values.set(o.name, { value: true, source: "flag" });
      continue;
    }
    if (o.kind === "boolean" && given === "false") {
      values.set(o.name, { value: false, source: "flag" });
      continue;
    }
    let text: string | undefined;
    let source: ValueSource;
    let origin: string;
    if (given !== undefined) {
      [text, source, origin] = [given, "flag", `--${o.name}`];
    } else if (o.env !== undefined && env[o.env] !== undefined && env[o.env] !== "") {
      [text, source, origin] = [env[o.env], "env", o.env];
    } else {
      [text, source, origin] = [o.default, "default", `default of --${o.name}`];
    }
    if (text === undefined) {
      if (o.required) fail(`missing --${o.name}${o.env ? ` (or ${o.env})` : ""}`);
      continue;
    }
    values.set(o.name, { value: parseValue(o, text, origin, fail), source });
  }
  return new ParsedArgs(spec, positionals, values, false);
}

function parseValue(o: OptionSpec, text: string, origin: string, fail: (m: string) => never): Value {
  switch (o.kind) {
    case "string":
      if (text === "") fail(`${origin} must not be empty`);
      return text;
    case "boolean":
      if (["1", "true", "yes"].includes(text)) return true;
      if (["0", "false", "no"].includes(text)) return false;
      return fail(`${origin} must be true or false, got "${text}"`);
    case "integer":
      return parseInteger(text, origin, fail);
    case "port":
      return parsePort(text, origin, fail);
    case "address":
      return parseAddress(text, origin, fail);
  }
}

function parseInteger(text: string, origin: string, fail: (m: string) => never): number {
  if (!/^-?\d+$/.test(text)) fail(`${origin} must be an integer, got "${text}"`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) fail(`${origin} is out of range: ${text}`);
  return n;
}

function parsePort(text: string, origin: string, fail: (m: string) => never): number {
  if (!/^\d+$/.test(text)) fail(`${origin} must be a port number (0-65535), got "${text}"`);
  const n = Number(text);
  if (n > 65535) fail(`${origin} must be a port number (0-65535), got ${text}`);
  return n;
}

/** Accepts `HOST:PORT`, `[IPv6]:PORT` or a bare `PORT` (host 127.0.0.1). */
export function parseAddress(text: string, origin: string, fail: (m: string) => never): Address {
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  if (bracketed) return { host: bracketed[1] as string, port: parsePort(bracketed[2] as string, origin, fail) };
  if (/^\d+$/.test(text)) return { host: "127.0.0.1", port: parsePort(text, origin, fail) };
  const colon = text.lastIndexOf(":");
  if (colon <= 0 || text.indexOf(":") !== colon) {
    fail(`${origin} must be HOST:PORT (IPv6 as [ADDR]:PORT), got "${text}"`);
  }
  return { host: text.slice(0, colon), port: parsePort(text.slice(colon + 1), origin, fail) };
}

/** The text of `warren <command> --help`. */
export function formatHelp(spec: CommandSpec): string {
  const usage = [`warren ${spec.name}`];
  for (const p of spec.positionals) usage.push(p.required ? p.name : `[${p.name}]`);
  if (spec.options.length > 0) usage.push("[options]");
  const lines = [`Usage: ${usage.join(" ")}`, "", spec.summary];
  if (spec.positionals.length > 0) {
    lines.push("", "Arguments:");
    for (const p of spec.positionals) lines.push(`  ${p.name.padEnd(26)} ${p.description}`);
  }
  lines.push("", "Options:");
  for (const o of [...spec.options, helpSpec]) {
    const flag = o.kind === "boolean" ? `--${o.name}` : `--${o.name} ${o.valueName ?? valueNameOf(o.kind)}`;
    const extras: string[] = [];
    if (o.env !== undefined) extras.push(`env ${o.env}`);
    if (o.default !== undefined) extras.push(`default ${o.default}`);
    if (o.required) extras.push("required");
    const suffix = extras.length > 0 ? ` (${extras.join(", ")})` : "";
    lines.push(`  ${flag.padEnd(26)} ${o.description}${suffix}`);
  }
  if (spec.notes !== undefined) lines.push("", spec.notes);
  return lines.join("\n") + "\n";
}

function valueNameOf(kind: OptionKind): string {
  switch (kind) {
    case "integer":
      return "N";
    case "port":
      return "PORT";
    case "address":
      return "HOST:PORT";
    default:
      return "VALUE";
  }
}
