// Test helpers shared by the pgwire unit tests: frontend message encoders (what a client sends)
// and a backend message parser (what a client reads). Not used by the server code.

const enc = new TextEncoder();
const dec = new TextDecoder();

export function message(type: string, body: number[] | Uint8Array = []): Uint8Array {
  const b = body instanceof Uint8Array ? body : Uint8Array.from(body);
  const out = new Uint8Array(5 + b.length);
  out[0] = type.charCodeAt(0);
  new DataView(out.buffer).setInt32(1, 4 + b.length);
  out.set(b, 5);
  return out;
}

export function cstr(s: string): number[] {
  return [...enc.encode(s), 0];
}

export function i16(v: number): number[] {
  return [(v >> 8) & 0xff, v & 0xff];
}

export function i32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

export const fe = {
  Query: (sql: string) => message("Q", cstr(sql)),
  Parse: (name: string, sql: string, types: number[] = []) => message("P", [...cstr(name), ...cstr(sql), ...i16(types.length), ...types.flatMap(i32)]),
  Bind: (portal: string, stmt: string, params: Array<string | Uint8Array | null>, paramFormats: number[] = [], resultFormats: number[] = []) =>
    message("B", [
      ...cstr(portal),
      ...cstr(stmt),
      ...i16(paramFormats.length),
      ...paramFormats.flatMap(i16),
      ...i16(params.length),
      ...params.flatMap((p) => {
        if (p === null) return i32(-1);
        const b = typeof p === "string" ? enc.encode(p) : p;
        return [...i32(b.length), ...b];
      }),
      ...i16(resultFormats.length),
      ...resultFormats.flatMap(i16),
    ]),
  Describe: (t: "S" | "P", name: string) => message("D", [t.charCodeAt(0), ...cstr(name)]),
  Execute: (portal: string, maxRows = 0) => message("E", [...cstr(portal), ...i32(maxRows)]),
  Close: (t: "S" | "P", name: string) => message("C", [t.charCodeAt(0), ...cstr(name)]),
  Sync: () => message("S"),
  Flush: () => message("H"),
  Terminate: () => message("X"),
  CopyData: (text: string | Uint8Array) => message("d", typeof text === "string" ? enc.encode(text) : text),
  CopyDone: () => message("c"),
  CopyFail: (why: string) => message("f", cstr(why)),
};

export type BackendMsg =
  | { type: "R"; code: number }
  | { type: "S"; name: string; value: string }
  | { type: "K"; pid: number; key: number }
  | { type: "Z"; status: string }
  | { type: "T"; fields: Array<{ name: string; typeOid: number; format: number }> }
  | { type: "D"; values: Array<Uint8Array | null> }
  | { type: "C"; tag: string }
  | { type: "E" | "N"; fields: Record<string, string> }
  | { type: "t"; types: number[] }
  | { type: "G" | "H"; format: number; columns: number; columnFormats: number[] }
  | { type: "d"; data: Uint8Array }
  | { type: "I" | "1" | "2" | "3" | "n" | "s" | "c" };

/** Parses a stream of backend messages (all complete). */
export function parseBackend(bytes: Uint8Array): BackendMsg[] {
  const out: BackendMsg[] = [];
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at < bytes.length) {
    const type = String.fromCharCode(bytes[at]!);
    const len = v.getInt32(at + 1);
    const body = bytes.subarray(at + 5, at + 1 + len);
    const bv = new DataView(body.buffer, body.byteOffset, body.byteLength);
    let p = 0;
    const cs = () => {
      const end = body.indexOf(0, p);
      const s = dec.decode(body.subarray(p, end));
      p = end + 1;
      return s;
    };
    switch (type) {
      case "R":
        out.push({ type, code: bv.getInt32(0) });
        break;
      case "S":
        out.push({ type, name: cs(), value: cs() });
        break;
      case "K":
        out.push({ type, pid: bv.getInt32(0), key: bv.getInt32(4) });
        break;
      case "Z":
        out.push({ type, status: String.fromCharCode(body[0]!) });
        break;
      case "T": {
        const n = bv.getInt16(0);
        p = 2;
        const fields = [];
        for (let i = 0; i < n; i++) {
          const name = cs();
          fields.push({ name, typeOid: bv.getUint32(p + 6), format: bv.getInt16(p + 16) });
          p += 18;
        }
        out.push({ type, fields });
        break;
      }
      case "D": {
        const n = bv.getInt16(0);
        p = 2;
        const values: Array<Uint8Array | null> = [];
        for (let i = 0; i < n; i++) {
          const l = bv.getInt32(p);
          p += 4;
          if (l < 0) values.push(null);
          else {
            values.push(body.slice(p, p + l));
            p += l;
          }
        }
        out.push({ type, values });
        break;
      }
      case "C":
        out.push({ type, tag: cs() });
        break;
      case "E":
      case "N": {
        const fields: Record<string, string> = {};
        while (body[p] !== 0) {
          const t = String.fromCharCode(body[p++]!);
          fields[t] = cs();
        }
        out.push({ type, fields });
        break;
      }
      case "t": {
        const n = bv.getInt16(0);
        const types: number[] = [];
        for (let i = 0; i < n; i++) types.push(bv.getUint32(2 + 4 * i));
        out.push({ type, types });
        break;
      }
      case "G":
      case "H": {
        const columns = bv.getInt16(1);
        const columnFormats: number[] = [];
        for (let i = 0; i < columns; i++) columnFormats.push(bv.getInt16(3 + 2 * i));
        out.push({ type, format: body[0]!, columns, columnFormats });
        break;
      }
      case "d":
        out.push({ type, data: body.slice() });
        break;
      default:
        out.push({ type: type as "I" });
    }
    at += 1 + len;
  }
  return out;
}

/** The bytes of every CopyData in `msgs`, concatenated: what a client writes out for COPY TO. */
export function copyOutBytes(msgs: BackendMsg[]): Uint8Array {
  const parts = msgs.flatMap((m) => (m.type === "d" ? [m.data] : []));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function text(v: Uint8Array | null): string | null {
  return v === null ? null : dec.decode(v);
}

/** A compact picture of a response for assertions: "T", "D 1|a", "C INSERT 0 1", "E 42P01", "Z I", … */
export function summary(msgs: BackendMsg[]): string[] {
  return msgs.map((m) => {
    switch (m.type) {
      case "D":
        return `D ${m.values.map((x) => (x === null ? "NULL" : dec.decode(x))).join("|")}`;
      case "C":
        return `C ${m.tag}`;
      case "E":
      case "N":
        return `${m.type} ${m.fields["C"]}`;
      case "Z":
        return `Z ${m.status}`;
      case "T":
        return `T ${m.fields.map((f) => f.name).join(",")}`;
      case "t":
        return `t ${m.types.join(",")}`;
      case "G":
      case "H":
        return `${m.type} ${m.columns}${m.format === 1 ? " binary" : ""}`;
      case "d":
        return `d ${dec.decode(m.data)}`;
      case "R":
        return `R ${m.code}`;
      case "S":
        return `S ${m.name}`;
      case "K":
        return "K";
      default:
        return m.type;
    }
  });
}

