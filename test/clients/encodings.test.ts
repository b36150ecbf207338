// Client encodings against PostgreSQL 15 itself:
//   - the conversion tables: for every single-byte encoding, all 256 bytes through PostgreSQL's
//     convert_from and through Warren's codec give the same character or the same error (SQLSTATE
//     and message); every mapped character back through convert_to gives the same byte; characters
//     an encoding lacks give PostgreSQL's 22P05 message;
//   - the wire: psql with PGCLIENTENCODING (the startup parameter) and with SET client_encoding, on
//     Warren (the real local stack, through the tunnel) and on PostgreSQL, sends the same bytes and
//     gets the same bytes back: query text in, rows out, error messages (untranslatable ones
//     included), COPY TO / FROM STDIN in client_encoding and with ENCODING '…'.
// psql does not convert anything itself: it passes bytes through and only names the encoding.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresAvailable, startPostgres, type PostgresServer } from "../harness/postgres.ts";
import { startStack, type Stack } from "../harness/stack.ts";
import { runToolBytes, type ToolBytes } from "../harness/run-tool.ts";
import { SINGLE_BYTE_ENCODINGS } from "../../workers/gateway/sql/client-encoding.ts";
import { textCodec } from "../../workers/gateway/pgwire/encoding/codec.ts";

/** What happened to one input: the text (as code points) or the error. */
type Outcome = { text: number[] } | { code: string; message: string };

function ours(f: () => string | Uint8Array): Outcome {
  try {
    const r = f();
    return { text: typeof r === "string" ? [...r].map((c) => c.codePointAt(0)!) : [...r] };
  } catch (err) {
    const e = err as { code: string; message: string };
    return { code: e.code, message: e.message };
  }
}

/** Code points no single-byte encoding has, and some only a few have (each must match PostgreSQL). */
const PROBE_CODE_POINTS = [0x20ac, 0x0100, 0x0152, 0x0401, 0x0451, 0x05d0, 0x0627, 0x0e01, 0x2116, 0x2500, 0x4e00, 0xfffd, 0x1f600];

let pgServer: PostgresServer;
let client: pg.Client;

describe("conversion tables: every byte and character against PostgreSQL 15's own conversions", () => {
  beforeAll(async () => {
    if (!postgresAvailable()) throw new Error("PostgreSQL 15 is needed for the encoding comparison (install postgresql-15)");
    pgServer = await startPostgres();
    client = new pg.Client({ connectionString: pgServer.url });
    await client.connect();
    await client.query(`
      create function enc_dec(enc text) returns table(b int, cps int[], code text, message text) language plpgsql as $$
      begin
        for i in 0..255 loop
          b := i; cps := null; code := null; message := null;
          begin
            select array_agg(ascii(ch)) into cps from regexp_split_to_table(convert_from(decode(lpad(to_hex(i), 2, '0'), 'hex'), enc), '') ch;
            cps := coalesce(cps, '{}');
          exception when others then code := sqlstate; message := sqlerrm;
          end;
          return next;
        end loop;
      end $$;
      create function enc_enc(enc text, cp int) returns table(bytes int[], code text, message text) language plpgsql as $$
      declare x bytea;
      begin
        x := convert_to(chr(cp), enc);
        bytes := array(select get_byte(x, i) from generate_series(0, length(x) - 1) i);
        return next;
      exception when others then code := sqlstate; message := sqlerrm; return next;
      end $$;`);
  }, 120_000);

  afterAll(async () => {
    await client?.end().catch(() => undefined);
    await pgServer?.stop();
  });

  for (const name of SINGLE_BYTE_ENCODINGS) {
    it(`${name}: 256 bytes in, every mapped character and the probes out`, async () => {
      const codec = textCodec(name)!;
      const rows = (await client.query<{ b: number; cps: number[] | null; code: string | null; message: string | null }>("select * from enc_dec($1) order by b", [name])).rows;
      expect(rows).toHaveLength(256);
      const mapped: number[] = [];
      for (const r of rows) {
        const expected: Outcome = r.code === null ? { text: r.cps! } : { code: r.code, message: r.message! };
        expect({ byte: r.b, ...ours(() => codec.decode(Uint8Array.of(r.b))) }).toEqual({ byte: r.b, ...expected });
        if (r.code === null && r.b >= 0x80) mapped.push(r.cps![0]!);
      }
      const probes = [...mapped, ...PROBE_CODE_POINTS];
      const back = await client.query<{ cp: number; bytes: number[] | null; code: string | null; message: string | null }>(
        "select cp, e.* from unnest($2::int[]) cp, enc_enc($1, cp) e",
        [name, probes],
      );
      for (const r of back.rows) {
        const expected: Outcome = r.code === null ? { text: r.bytes! } : { code: r.code, message: r.message! };
        expect({ cp: r.cp, ...ours(() => codec.encode(String.fromCodePoint(r.cp))) }).toEqual({ cp: r.cp, ...expected });
      }
    });
  }
});

type Line = string | Buffer;

/**
 * psql -X -A -t -q running `lines` as a script from stdin (statements end with ";"; COPY FROM
 * STDIN data follows its statement up to "\\."), in a client encoding (PGCLIENTENCODING, the
 * startup parameter). A script, not -c: arguments cannot carry bytes that are not UTF-8.
 * PostgreSQL's source location (VERBOSITY verbose) is dropped from stderr.
 */
async function psql(url: string, encoding: string, lines: readonly Line[]): Promise<ToolBytes> {
  const script = Buffer.concat(lines.map((l) => Buffer.concat([typeof l === "string" ? Buffer.from(l) : l, Buffer.from("\n")])));
  const r = await runToolBytes("psql", [url, "-X", "-A", "-t", "-q", "-v", "VERBOSITY=verbose"], { stdin: script, env: { PGCLIENTENCODING: encoding, PGCONNECT_TIMEOUT: "20" }, timeoutMs: 60_000 });
  const kept = r.stderr.toString("latin1").split("\n").filter((l) => !/^(psql:<stdin>:\d+: )?LOCATION:/.test(l));
  return { ...r, stderr: Buffer.from(kept.join("\n"), "latin1") };
}

const latin1 = (s: string) => Buffer.from(s, "latin1");
const bytes = (...parts: Array<string | number>) => Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p) : Buffer.of(p))));

/** A psql script in a client encoding; strings are ASCII (or UTF-8 under UTF8), Buffers bytes in that encoding. */
const WIRE_CASES: Array<{ title: string; encoding: string; script: Line[] }> = [
  { title: "rows out in LATIN1 (startup parameter), SHOW and psql's \\encoding (ParameterStatus)", encoding: "LATIN1", script: ["select t from enc_t order by id;", "show client_encoding;", "\\encoding"] },
  { title: "a character LATIN1 lacks in a row: 22P05 and no row", encoding: "LATIN1", script: ["select t from enc_t where id = 4;", "select 1;"] },
  {
    title: "SET client_encoding to WIN1251, KOI8R and ISO_8859_7 by their aliases",
    encoding: "WIN1251",
    script: ["select t from enc_t where id in (2, 3) order by id;", "set client_encoding = 'koi8-r';", "select t from enc_t where id = 2;", "set client_encoding to 'ISO-8859-7';", "select t from enc_t where id = 3;", "show client_encoding;", "\\encoding"],
  },
  { title: "query text in LATIN1: a literal and a quoted identifier", encoding: "LATIN1", script: [latin1("select 'caf\u00e9' as \"\u00e9t\u00e9\", length('caf\u00e9');")] },
  {
    title: "query text in WIN1252: 0x80 is the euro sign; 0x81 has no character (22P05), and the session goes on",
    encoding: "WIN1252",
    script: [bytes("select '", 0x80, "'::text, ascii('", 0x80, "');"), bytes("select '", 0x81, "';"), "select 2;"],
  },
  {
    title: "query text that is not UTF-8 under UTF8: 22021 naming the bytes, an ERROR (the session goes on)",
    encoding: "UTF8",
    script: [bytes("select '", 0xff, "';"), "select 2;", bytes("select '", 0xc3, 0x28, "';")],
  },
  {
    title: "an error message in the client encoding, and one it cannot hold (PostgreSQL sends the conversion error instead)",
    encoding: "LATIN1",
    script: [latin1("select 'd\u00e9j\u00e0'::int;"), "select chr(8364)::int;", "select 3;"],
  },
  {
    title: "SET and RESET client_encoding inside a transaction",
    encoding: "UTF8",
    script: ["begin;", "set client_encoding = latin1;", "select t from enc_t where id = 1;", "reset client_encoding;", "select t from enc_t where id = 1;", "commit;"],
  },
  { title: "bad names: unknown (22023) and MULE_INTERNAL", encoding: "UTF8", script: ["set client_encoding = 'klingon';", "set client_encoding = 'mule_internal';", "show client_encoding;"] },
  {
    title: "COPY TO STDOUT in client_encoding, text and CSV",
    encoding: "WIN1251",
    script: ["copy (select id, t from enc_t where id in (1, 2) order by id) to stdout;", "copy (select id, t from enc_t where id = 2) to stdout (format csv, header);"],
  },
  {
    title: "COPY TO STDOUT with ENCODING under a UTF8 client",
    encoding: "UTF8",
    script: [
      "copy (select id, t from enc_t where id in (1, 2) order by id) to stdout (encoding 'windows-1251');",
      "copy (select id, t from enc_t where id = 3) to stdout (format csv, encoding 'iso_8859_7');",
      "copy (select id, t from enc_t where id = 1) to stdout (encoding 'sql_ascii');",
    ],
  },
  { title: "COPY TO a character the encoding lacks: 22P05 without CONTEXT", encoding: "UTF8", script: ["copy (select id, t from enc_t order by id) to stdout (encoding 'latin1');", "select 4;"] },
  {
    title: "COPY FROM STDIN in client_encoding (LATIN1), read back in UTF8",
    encoding: "LATIN1",
    script: ["create temp table l (id int, t text);", "copy l from stdin;", bytes("1\tcaf", 0xe9, "!"), "\\.", "set client_encoding = utf8;", "select id, t, length(t) from l order by id;"],
  },
  {
    title: "COPY FROM STDIN with ENCODING 'WIN1252', CSV",
    encoding: "UTF8",
    script: ["create temp table w (id int, t text);", "copy w from stdin (format csv, encoding 'WIN1252');", bytes('1,"', 0x80, " ", 0xe9, '"'), "2,x", "\\.", "select id, t from w order by id;"],
  },
  {
    title: "COPY FROM STDIN: a byte with no character is 22P05 naming its line",
    encoding: "UTF8",
    script: ["create temp table w2 (id int, t text);", "copy w2 from stdin (encoding 'win1252');", "1\ta", bytes("2\tb", 0x81), "\\.", "select count(*) from w2;"],
  },
  {
    title: "COPY FROM STDIN: an escape's byte is checked as UTF-8 after conversion (\\351 alone is not UTF-8)",
    encoding: "UTF8",
    script: ["create temp table w3 (id int, t text);", "copy w3 from stdin (encoding 'latin1');", "1\t\\351", "\\."],
  },
];

describe("the wire: psql in a client encoding gets the same bytes from Warren as from PostgreSQL 15", () => {
  let stack: Stack;
  let pgUrl: string;
  let pgOracle: PostgresServer;
  const SETUP = [
    "create table enc_t (id int primary key, t text)",
    // 1: Latin-1; 2: Cyrillic; 3: Greek; 4: the euro sign, which LATIN1 lacks.
    "insert into enc_t values (1, 'caf\u00e9 \u00fcber'), (2, '\u0416\u0443\u043a'), (3, '\u03b1\u03b2\u03b3'), (4, 'price \u20ac5')",
    "create table enc_latin (id int primary key, t text)",
    "insert into enc_latin values (1, 'caf\u00e9 \u00fcber'), (2, 'na\u00efve')",
  ];

  beforeAll(async () => {
    if (!postgresAvailable()) throw new Error("PostgreSQL 15 is needed for the encoding comparison (install postgresql-15)");
    [stack, pgOracle] = await Promise.all([startStack(), startPostgres()]);
    pgUrl = pgOracle.url;
    for (const url of [stack.demo.pg, pgUrl]) {
      const r = await psql(url, "UTF8", SETUP.map((l) => l + ";"));
      if (r.code !== 0 || r.stderr.length > 0) throw new Error(`setup failed: ${r.stderr.toString()}`);
    }
  }, 240_000);

  afterAll(async () => {
    await Promise.all([stack?.stop(), pgOracle?.stop()]);
  });

  for (const c of WIRE_CASES) {
    it(c.title, async () => {
      const [fromPg, fromWarren] = await Promise.all([psql(pgUrl, c.encoding, c.script), psql(stack.demo.pg, c.encoding, c.script)]);
      expect(fromPg.stdout.length + fromPg.stderr.length).toBeGreaterThan(0);
      expect({ stdout: fromWarren.stdout.toString("hex"), stderr: fromWarren.stderr.toString("latin1") }).toEqual({
        stdout: fromPg.stdout.toString("hex"),
        stderr: fromPg.stderr.toString("latin1"),
      });
    });
  }

  it("pg_dump -E LATIN1 writes what PostgreSQL's writes, and psql -f restores it", async () => {
    const dump = async (url: string): Promise<string> => {
      const r = await runToolBytes("pg_dump", ["-E", "LATIN1", "-t", "enc_latin", url]);
      if (r.code !== 0) throw new Error(`pg_dump ${r.code}: ${r.stderr.toString()}`);
      return r.stdout.toString("latin1");
    };
    // The \restrict key is random per dump; owners and the server version differ by design (pg-dump.test.ts).
    const comparable = (d: string) =>
      d
        .split("\n")
        .filter((l) => !/^\\(un)?restrict |^-- Dumped (from|by) |OWNER TO/.test(l))
        .map((l) => l.replace(/; Owner: \S+$/, "; Owner: -"))
        .join("\n");
    const [fromPg, fromWarren] = await Promise.all([dump(pgUrl), dump(stack.demo.pg)]);
    expect(fromWarren).toContain("SET client_encoding = 'LATIN1';");
    expect(fromWarren).toContain("1\tcaf\u00e9 \u00fcber"); // one byte per character: LATIN1
    expect(comparable(fromWarren)).toBe(comparable(fromPg));
    const restore = await psql(stack.demo.pg, "UTF8", ["drop table enc_latin;", latin1(fromWarren), "set client_encoding = utf8;", "select t, length(t) from public.enc_latin order by id;"]);
    expect(restore.stderr.toString()).toBe("");
    // (the dump's own set_config() prints an empty line first)
    expect(restore.stdout.toString().trim()).toBe("caf\u00e9 \u00fcber|9\nna\u00efve|5");
  });

  it("a multi-byte encoding PostgreSQL converts but Warren does not: 0A000 naming what is supported (startup and SET)", async () => {
    const set = await psql(stack.demo.pg, "UTF8", ["set client_encoding = 'EUC_JP';", "show client_encoding;"]);
    expect(set.stderr.toString()).toContain("ERROR:  0A000: client_encoding 'EUC_JP' is not supported");
    expect(set.stderr.toString()).toContain("HINT:  Warren converts UTF8, SQL_ASCII and the single-byte encodings (LATIN1,");
    expect(set.stdout.toString()).toBe("UTF8\n");
    const startup = await psql(stack.demo.pg, "SJIS", ["select 1;"]);
    expect(startup.code).not.toBe(0);
    expect(startup.stderr.toString()).toContain("client_encoding 'SJIS' is not supported");
  });
});
