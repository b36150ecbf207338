// The statements of the system virtual cluster (`psql …/system` with the admin token), parsed by
// hand: they are not PostgreSQL syntax, so the real parser the gateways use would refuse them.
//
//   CREATE VIRTUAL CLUSTER name [WITH option = value [, …]]
//   ALTER VIRTUAL CLUSTER name SET option = value [, …]
//   ALTER VIRTUAL CLUSTER name SUSPEND | RESUME
//   SHOW VIRTUAL CLUSTERS
//   SHOW VIRTUAL CLUSTER name [WITH USAGE]
//   DROP VIRTUAL CLUSTER [IF EXISTS] name
//
// Options (the admin API's settings, in SQL spelling): password 'text', ru_per_second n,
// burst n, spend_limit n | NULL, at_limit 'throttle' | 'refuse', max_connections n | NULL,
// allow 'cidr,cidr' | 'any'. Keywords are case-insensitive; a name is an identifier or a
// double-quoted identifier. A trailing semicolon is allowed. Anything else is 42601.
import { PgError } from "../../../common/errors.ts";

export type SystemStatement =
  | { kind: "create"; name: string; options: Record<string, unknown> }
  | { kind: "alter"; name: string; options: Record<string, unknown> }
  | { kind: "state"; name: string; state: "suspended" | "active" }
  | { kind: "list" }
  | { kind: "show"; name: string; usage: boolean }
  | { kind: "drop"; name: string; ifExists: boolean };

type Token = { kind: "word"; text: string } | { kind: "ident"; text: string } | { kind: "string"; text: string } | { kind: "number"; text: string } | { kind: "punct"; text: string };

/** SQL option → admin API field, and how its value is read. */
const OPTIONS: Record<string, { field: string; value: "string" | "number" | "number-or-null" | "cidrs" }> = {
  password: { field: "password", value: "string" },
  ru_per_second: { field: "ruPerSecond", value: "number" },
  burst: { field: "burstRu", value: "number" },
  spend_limit: { field: "spendLimitRu", value: "number-or-null" },
  at_limit: { field: "atSpendLimit", value: "string" },
  max_connections: { field: "maxConnections", value: "number-or-null" },
  allow: { field: "allowedCidrs", value: "cidrs" },
};

function syntax(message: string): PgError {
  return new PgError("syntax_error", message, {
    hint: "The system virtual cluster answers CREATE / ALTER / SHOW / DROP VIRTUAL CLUSTER (see workers/edge/system/statement.ts).",
  });
}

function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "-" && sql[i + 1] === "-") {
      while (i < sql.length && sql[i] !== "\n") i++;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_$-]*/.exec(sql.slice(i))!;
      out.push({ kind: "word", text: m[0] });
      i += m[0].length;
    } else if (/[0-9.]/.test(c) || (c === "-" && /[0-9.]/.test(sql[i + 1] ?? ""))) {
      // A sign belongs to the number: option values are the only place numbers appear.
      const m = /^-?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?/i.exec(sql.slice(i));
      if (!m) throw syntax(`syntax error at or near "${c}"`);
      out.push({ kind: "number", text: m[0] });
      i += m[0].length;
    } else if (c === "'" || c === '"') {
      let text = "";
      let j = i + 1;
      for (;;) {
        if (j >= sql.length) throw syntax(`unterminated ${c === "'" ? "quoted string" : "quoted identifier"}`);
        if (sql[j] === c) {
          if (sql[j + 1] === c) {
            text += c;
            j += 2;
            continue;
          }
          break;
        }
        text += sql[j++];
      }
      out.push({ kind: c === "'" ? "string" : "ident", text });
      i = j + 1;
    } else if ("=,;".includes(c)) {
      out.push({ kind: "punct", text: c });
      i++;
    } else {
      throw syntax(`syntax error at or near "${c}"`);
    }
  }
  return out;
}

class Parser {
  private at = 0;
  private readonly tokens: Token[];

  constructor(tokens: Token[]) {
    this.tokens = tokens;
  }

  private peek(): Token | undefined {
    return this.tokens[this.at];
  }

  private near(): string {
    const t = this.peek();
    return t === undefined ? "syntax error at end of input" : `syntax error at or near "${t.text}"`;
  }

  isWord(w: string): boolean {
    const t = this.peek();
    return t?.kind === "word" && t.text.toUpperCase() === w;
  }

  word(...ws: string[]): void {
    for (const w of ws) {
      if (!this.isWord(w)) throw syntax(this.near());
      this.at++;
    }
  }

  name(): string {
    const t = this.peek();
    if (t?.kind === "word") {
      this.at++;
      return t.text.toLowerCase();
    }
    if (t?.kind === "ident") {
      this.at++;
      return t.text;
    }
    throw syntax(this.near());
  }

  /** option = value [, …] */
  options(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (;;) {
      const t = this.peek();
      if (t?.kind !== "word") throw syntax(this.near());
      const opt = OPTIONS[t.text.toLowerCase()];
      if (opt === undefined) throw new PgError("invalid_parameter_value", `unknown virtual cluster option "${t.text}"`, { hint: `Options are ${Object.keys(OPTIONS).join(", ")}.` });
      this.at++;
      const eq = this.peek();
      if (eq?.kind !== "punct" || eq.text !== "=") throw syntax(this.near());
      this.at++;
      const v = this.peek();
      if (v === undefined) throw syntax(this.near());
      this.at++;
      if (v.kind === "word" && v.text.toUpperCase() === "NULL" && opt.value === "number-or-null") out[opt.field] = null;
      else if (v.kind === "number" && (opt.value === "number" || opt.value === "number-or-null")) out[opt.field] = Number(v.text);
      else if (v.kind === "string" && opt.value === "string") out[opt.field] = v.text;
      else if (v.kind === "string" && opt.value === "cidrs") out[opt.field] = v.text.trim().toLowerCase() === "any" ? [] : v.text.split(",").map((x) => x.trim());
      else throw new PgError("invalid_parameter_value", `invalid value for option "${t.text.toLowerCase()}": ${v.kind === "string" ? `'${v.text}'` : v.text}`);
      const comma = this.peek();
      if (comma?.kind === "punct" && comma.text === ",") {
        this.at++;
        continue;
      }
      return out;
    }
  }

  end(): void {
    const t = this.peek();
    if (t?.kind === "punct" && t.text === ";") this.at++;
    if (this.peek() !== undefined) throw syntax(this.near());
  }
}

/** The statement, or 42601 (22023 for a bad option). An empty query is null. */
export function parseSystemStatement(sql: string): SystemStatement | null {
  const tokens = tokenize(sql);
  if (tokens.length === 0 || (tokens.length === 1 && tokens[0]!.text === ";")) return null;
  const p = new Parser(tokens);
  let s: SystemStatement;
  if (p.isWord("CREATE")) {
    p.word("CREATE", "VIRTUAL", "CLUSTER");
    const name = p.name();
    let options: Record<string, unknown> = {};
    if (p.isWord("WITH")) {
      p.word("WITH");
      options = p.options();
    }
    s = { kind: "create", name, options };
  } else if (p.isWord("ALTER")) {
    p.word("ALTER", "VIRTUAL", "CLUSTER");
    const name = p.name();
    if (p.isWord("SUSPEND")) {
      p.word("SUSPEND");
      s = { kind: "state", name, state: "suspended" };
    } else if (p.isWord("RESUME")) {
      p.word("RESUME");
      s = { kind: "state", name, state: "active" };
    } else {
      p.word("SET");
      s = { kind: "alter", name, options: p.options() };
    }
  } else if (p.isWord("SHOW")) {
    p.word("SHOW", "VIRTUAL");
    if (p.isWord("CLUSTERS")) {
      p.word("CLUSTERS");
      s = { kind: "list" };
    } else {
      p.word("CLUSTER");
      const name = p.name();
      let usage = false;
      if (p.isWord("WITH")) {
        p.word("WITH", "USAGE");
        usage = true;
      }
      s = { kind: "show", name, usage };
    }
  } else if (p.isWord("DROP")) {
    p.word("DROP", "VIRTUAL", "CLUSTER");
    let ifExists = false;
    if (p.isWord("IF")) {
      p.word("IF", "EXISTS");
      ifExists = true;
    }
    s = { kind: "drop", name: p.name(), ifExists };
  } else {
    throw syntax(`${tokens[0]!.kind === "word" ? `syntax error at or near "${tokens[0]!.text}"` : "syntax error"}`);
  }
  p.end();
  return s;
}
