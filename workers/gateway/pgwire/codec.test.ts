// The message codec on its own: frames split across reads or merged into one, malformed lengths,
// unknown types, truncated and over-long bodies, and the backend encoders' byte layout.
import { describe, expect, it } from "vitest";
import { PgError } from "../../../common/errors.ts";
import { CommandComplete, DataRow, ErrorResponse, Outbox, RowDescription } from "./backend.ts";
import { commandTag } from "./command-tag.ts";
import { decodeFrontend } from "./frontend.ts";
import { pgwireLimits } from "./limits.ts";
import { MessageReader } from "./reader.ts";
import { fe, message, parseBackend, text } from "./wire-test-client.ts";

function all(reader: MessageReader) {
  const out = [];
  for (let f = reader.next(); f !== null; f = reader.next()) out.push(decodeFrontend(f));
  return out;
}

function code(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(PgError);
    return (err as PgError).code;
  }
  throw new Error("expected a PgError");
}

describe("MessageReader + decodeFrontend", () => {
  const stream = new Uint8Array([...fe.Parse("s1", "select $1::int", [23]), ...fe.Bind("", "s1", ["42"]), ...fe.Execute("", 10), ...fe.Sync(), ...fe.Query("select 'é'")]);
  const expected = [
    { kind: "Parse", name: "s1", sql: "select $1::int", paramTypes: [23] },
    { kind: "Bind", portal: "", statement: "s1", paramFormats: [], params: [new TextEncoder().encode("42")], resultFormats: [] },
    { kind: "Execute", portal: "", maxRows: 10 },
    { kind: "Sync" },
    { kind: "Query", sql: "select 'é'" },
  ];

  it("reads messages merged into one chunk", () => {
    const r = new MessageReader();
    r.push(stream);
    expect(all(r)).toEqual(expected);
    expect(r.pending).toBe(0);
  });

  it("reads messages split one byte at a time", () => {
    const r = new MessageReader();
    const seen = [];
    for (const b of stream) {
      r.push(Uint8Array.of(b));
      seen.push(...all(r));
    }
    expect(seen).toEqual(expected);
  });

  it("reads messages split at arbitrary points", () => {
    for (const cut of [1, 4, 5, 6, 17, stream.length - 1]) {
      const r = new MessageReader();
      r.push(stream.subarray(0, cut));
      const first = all(r);
      r.push(stream.subarray(cut));
      expect([...first, ...all(r)]).toEqual(expected);
    }
  });

  it("rejects a length below 4 and one above messageBytesMax from the header alone (08P01)", () => {
    const r = new MessageReader();
    r.push(Uint8Array.of(0x51, 0, 0, 0, 3));
    expect(code(() => r.next())).toBe("08P01");
    const big = new MessageReader();
    const len = pgwireLimits.messageBytesMax + 1;
    big.push(Uint8Array.of(0x51, len >>> 24, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff));
    expect(code(() => big.next())).toBe("08P01");
    // Exactly at the limit is accepted (it waits for the body).
    const edge = new MessageReader();
    const max = pgwireLimits.messageBytesMax;
    edge.push(Uint8Array.of(0x51, max >>> 24, (max >>> 16) & 0xff, (max >>> 8) & 0xff, max & 0xff));
    expect(edge.next()).toBeNull();
  });

  it("bounds the bytes held ahead of the server (pendingBytesMax)", () => {
    const r = new MessageReader(1024, 100);
    r.push(new Uint8Array(100));
    expect(code(() => r.push(new Uint8Array(1)))).toBe("54000");
  });

  it("rejects unknown types, truncated bodies, trailing bytes and bad format codes with 08P01", () => {
    const decode = (bytes: Uint8Array) => () => {
      const r = new MessageReader();
      r.push(bytes);
      return all(r);
    };
    expect(code(decode(message("y", [1, 2, 3])))).toBe("08P01");
    expect(code(decode(message("P", [0x61])))).toBe("08P01"); // unterminated name
    expect(code(decode(message("E", [0, 0, 0])))).toBe("08P01"); // portal then too few bytes for max rows
    expect(code(decode(message("S", [0])))).toBe("08P01"); // Sync with a body
    expect(code(decode(message("B", [0, 0, 0, 1, 0, 7, 0, 0, 0, 0])))).toBe("08P01"); // format code 7
    expect(code(decode(message("B", [0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe, 0, 0])))).toBe("08P01"); // length -2
    expect(code(decode(message("D", [0x58, 0])))).toBe("08P01"); // Describe 'X'
    expect(code(decode(message("Q", [0xff, 0xfe, 0])))).toBe("22021"); // not UTF-8
  });
});

describe("backend encoders", () => {
  it("DataRow counts UTF-8 bytes, NULL is -1", () => {
    const out = new Outbox();
    DataRow(out, ["é", null, ""]);
    const [m] = parseBackend(out.take());
    expect(m!.type).toBe("D");
    const values = (m as { values: Array<Uint8Array | null> }).values;
    expect(values.map(text)).toEqual(["é", null, ""]);
    expect(values[0]!.length).toBe(2);
  });

  it("RowDescription, CommandComplete and ErrorResponse round-trip through a client parser", () => {
    const out = new Outbox();
    RowDescription(out, [{ name: "id", tableID: 0, columnID: 0, dataTypeID: 23, dataTypeSize: 4, dataTypeModifier: -1 }], [1]);
    CommandComplete(out, "SELECT 1");
    ErrorResponse(out, new PgError("undefined_table", 'relation "x" does not exist', { position: 15, hint: "h" }));
    const [t, c, e] = parseBackend(out.take());
    expect(t).toEqual({ type: "T", fields: [{ name: "id", typeOid: 23, format: 1 }] });
    expect(c).toEqual({ type: "C", tag: "SELECT 1" });
    expect(e).toEqual({ type: "E", fields: { S: "ERROR", V: "ERROR", C: "42P01", M: 'relation "x" does not exist', H: "h", P: "15" } });
  });

  it("grows the outbox past its first buffer", () => {
    const out = new Outbox();
    const big = "x".repeat(100_000);
    DataRow(out, [big, big]);
    const [m] = parseBackend(out.take());
    expect((m as { values: Uint8Array[] }).values.map((v) => v.length)).toEqual([100_000, 100_000]);
  });

  it("writes command tags as Postgres does", () => {
    expect(commandTag("INSERT", 3)).toBe("INSERT 0 3");
    expect(commandTag("SELECT", 0)).toBe("SELECT 0");
    expect(commandTag("UPDATE", 2)).toBe("UPDATE 2");
    expect(commandTag("DELETE", 1)).toBe("DELETE 1");
    expect(commandTag("COPY", 10)).toBe("COPY 10");
    expect(commandTag("CREATE TABLE", null)).toBe("CREATE TABLE");
    expect(commandTag("BEGIN", null)).toBe("BEGIN");
  });
});
