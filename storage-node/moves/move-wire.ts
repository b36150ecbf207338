// The body of a tenant export or tail (the source's replication port → the mover): a JSON header and
// chunks, each chunk an encoded group entry (replication/group-entry.ts) that the target imports as
// one transaction.
//
//   u32 header length · header (UTF-8 JSON) · { u32 chunk length · chunk }*
//
// The mover checks the result by digest before it switches the placement, so this framing carries
// no checksum of its own.

export function encodeMoveBody(header: object, chunks: readonly Uint8Array[]): Uint8Array {
  const head = new TextEncoder().encode(JSON.stringify(header));
  let size = 4 + head.length;
  for (const c of chunks) size += 4 + c.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, head.length, false);
  out.set(head, 4);
  let at = 4 + head.length;
  for (const c of chunks) {
    view.setUint32(at, c.length, false);
    out.set(c, at + 4);
    at += 4 + c.length;
  }
  return out;
}

export function decodeMoveBody<H>(body: Uint8Array): { header: H; chunks: Uint8Array[] } {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const need = (at: number, n: number) => {
    if (at + n > body.length) throw new Error(`move body truncated at byte ${at}`);
  };
  need(0, 4);
  const headLen = view.getUint32(0, false);
  need(4, headLen);
  const header = JSON.parse(new TextDecoder().decode(body.subarray(4, 4 + headLen))) as H;
  const chunks: Uint8Array[] = [];
  let at = 4 + headLen;
  while (at < body.length) {
    need(at, 4);
    const len = view.getUint32(at, false);
    need(at + 4, len);
    chunks.push(body.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return { header, chunks };
}
