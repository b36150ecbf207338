// Frontend (client → server) messages after startup, one decoder per message, each named exactly
// as in the Postgres protocol documentation ("Message Formats"), dispatched from one table keyed by
// the type byte. A decoder reads the whole body and rejects trailing bytes, so a malformed message
// is a protocol violation (08P01), never a partly understood command.
import { PgError } from "../../../common/errors.ts";
import { pgwireLimits } from "./limits.ts";
import { BodyReader, type DecodeText, type FrontendFrame } from "./reader.ts";

/** Format codes of the protocol: 0 text, 1 binary. */
export type FormatCode = 0 | 1;

export type FrontendMessage =
  | { kind: "Query"; sql: string }
  | { kind: "Parse"; name: string; sql: string; paramTypes: number[] }
  | { kind: "Bind"; portal: string; statement: string; paramFormats: FormatCode[]; params: Array<Uint8Array | null>; resultFormats: FormatCode[] }
  | { kind: "Describe"; target: "S" | "P"; name: string }
  | { kind: "Execute"; portal: string; maxRows: number }
  | { kind: "Close"; target: "S" | "P"; name: string }
  | { kind: "Sync" }
  | { kind: "Flush" }
  | { kind: "Terminate" }
  | { kind: "CopyData"; data: Uint8Array }
  | { kind: "CopyDone" }
  | { kind: "CopyFail"; message: string }
  | { kind: "FunctionCall" }
  | { kind: "PasswordMessage" };

export type FrontendKind = FrontendMessage["kind"];
export type MessageOf<K extends FrontendKind> = Extract<FrontendMessage, { kind: K }>;

function formatCode(r: BodyReader, what: string): FormatCode {
  const f = r.int16();
  if (f !== 0 && f !== 1) throw new PgError("protocol_violation", `unsupported format code: ${f} (${what})`);
  return f;
}

export function Query(body: Uint8Array, decodeText?: DecodeText): MessageOf<"Query"> {
  const r = new BodyReader(body, "Query", decodeText);
  const sql = r.cstring();
  r.end();
  return { kind: "Query", sql };
}

export function Parse(body: Uint8Array, decodeText?: DecodeText): MessageOf<"Parse"> {
  const r = new BodyReader(body, "Parse", decodeText);
  const name = r.cstring();
  const sql = r.cstring();
  const n = r.int16();
  if (n < 0) throw new PgError("protocol_violation", `invalid Parse message: negative parameter type count ${n}`);
  const paramTypes: number[] = [];
  for (let i = 0; i < n; i++) paramTypes.push(r.uint32());
  r.end();
  return { kind: "Parse", name, sql, paramTypes };
}

export function Bind(body: Uint8Array, decodeText?: DecodeText): MessageOf<"Bind"> {
  const r = new BodyReader(body, "Bind", decodeText);
  const portal = r.cstring();
  const statement = r.cstring();
  const nFormats = r.int16();
  if (nFormats < 0) throw new PgError("protocol_violation", "invalid Bind message: negative format count");
  const paramFormats: FormatCode[] = [];
  for (let i = 0; i < nFormats; i++) paramFormats.push(formatCode(r, "parameter"));
  const nParams = r.int16() & 0xffff;
  if (nParams > pgwireLimits.bindParamsMax) throw new PgError("protocol_violation", `invalid Bind message: ${nParams} parameters`);
  const params: Array<Uint8Array | null> = [];
  for (let i = 0; i < nParams; i++) {
    const len = r.int32();
    if (len === -1) params.push(null);
    else if (len < 0) throw new PgError("protocol_violation", `invalid Bind message: parameter ${i + 1} has length ${len}`);
    else params.push(r.bytes(len));
  }
  const nResults = r.int16();
  if (nResults < 0) throw new PgError("protocol_violation", "invalid Bind message: negative result format count");
  const resultFormats: FormatCode[] = [];
  for (let i = 0; i < nResults; i++) resultFormats.push(formatCode(r, "result"));
  r.end();
  if (paramFormats.length > 1 && paramFormats.length !== params.length) {
    throw new PgError("protocol_violation", `bind message has ${paramFormats.length} parameter formats but ${params.length} parameters`);
  }
  return { kind: "Bind", portal, statement, paramFormats, params, resultFormats };
}

function target(r: BodyReader, message: string): "S" | "P" {
  const t = r.byte();
  if (t === 0x53) return "S";
  if (t === 0x50) return "P";
  throw new PgError("protocol_violation", `invalid ${message} message subtype ${t}`);
}

export function Describe(body: Uint8Array, decodeText?: DecodeText): MessageOf<"Describe"> {
  const r = new BodyReader(body, "Describe", decodeText);
  const t = target(r, "DESCRIBE");
  const name = r.cstring();
  r.end();
  return { kind: "Describe", target: t, name };
}

export function Execute(body: Uint8Array, decodeText?: DecodeText): MessageOf<"Execute"> {
  const r = new BodyReader(body, "Execute", decodeText);
  const portal = r.cstring();
  const maxRows = r.int32();
  r.end();
  // Postgres treats a zero or negative row count as "no limit".
  return { kind: "Execute", portal, maxRows: maxRows > 0 ? maxRows : 0 };
}

export function Close(body: Uint8Array, decodeText?: DecodeText): MessageOf<"Close"> {
  const r = new BodyReader(body, "Close", decodeText);
  const t = target(r, "CLOSE");
  const name = r.cstring();
  r.end();
  return { kind: "Close", target: t, name };
}

function empty<K extends "Sync" | "Flush" | "Terminate" | "CopyDone">(kind: K) {
  return (body: Uint8Array): { kind: K } => {
    new BodyReader(body, kind).end();
    return { kind };
  };
}

export const Sync = empty("Sync");
export const Flush = empty("Flush");
export const Terminate = empty("Terminate");
export const CopyDone = empty("CopyDone");

export function CopyData(body: Uint8Array): MessageOf<"CopyData"> {
  return { kind: "CopyData", data: body };
}

export function CopyFail(body: Uint8Array, decodeText?: DecodeText): MessageOf<"CopyFail"> {
  const r = new BodyReader(body, "CopyFail", decodeText);
  const message = r.cstring();
  r.end();
  return { kind: "CopyFail", message };
}

/** The fast-path function call interface (obsolete in Postgres; Warren does not serve it). */
export function FunctionCall(_body: Uint8Array): MessageOf<"FunctionCall"> {
  return { kind: "FunctionCall" };
}

/** 'p' after authentication finished (PasswordMessage / SASL responses belong to the edge). */
export function PasswordMessage(_body: Uint8Array): MessageOf<"PasswordMessage"> {
  return { kind: "PasswordMessage" };
}

/** The one dispatch table: type byte → decoder. */
export const FRONTEND_MESSAGES: Readonly<Record<string, (body: Uint8Array, decodeText?: DecodeText) => FrontendMessage>> = {
  Q: Query,
  P: Parse,
  B: Bind,
  D: Describe,
  E: Execute,
  C: Close,
  S: Sync,
  H: Flush,
  X: Terminate,
  d: CopyData,
  c: CopyDone,
  f: CopyFail,
  F: FunctionCall,
  p: PasswordMessage,
};

/** `decodeText`: the client encoding's decoder for the message's strings (UTF-8 when absent). */
export function decodeFrontend(frame: FrontendFrame, decodeText?: DecodeText): FrontendMessage {
  const decode = FRONTEND_MESSAGES[frame.type];
  if (decode === undefined) {
    throw new PgError("protocol_violation", `invalid frontend message type ${frame.type.charCodeAt(0)}`);
  }
  return decode(frame.body, decodeText);
}
