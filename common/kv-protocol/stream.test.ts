// The KV stream's framing: frames cut at every possible chunk boundary come out whole and in order;
// a header naming more than the bound is refused with the request id it named.
import { describe, expect, it } from "vitest";
import { encodeStreamFrame, StreamFrameError, StreamFrameReader } from "./stream.ts";

describe("StreamFrameReader", () => {
  const frames = [
    encodeStreamFrame(1, new Uint8Array([1, 2, 3])),
    encodeStreamFrame(0xffffffff, new Uint8Array(0)),
    encodeStreamFrame(7, new Uint8Array(300).fill(9), new Uint8Array([4, 5])),
  ];
  const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of frames) {
    all.set(f, at);
    at += f.length;
  }

  it("reassembles frames cut at every pair of boundaries", () => {
    for (let i = 0; i <= all.length; i++) {
      for (let j = i; j <= all.length; j += 7) {
        const r = new StreamFrameReader(1024);
        const out: Array<{ requestId: number; payload: number[] }> = [];
        for (const piece of [all.subarray(0, i), all.subarray(i, j), all.subarray(j)]) {
          r.push(piece);
          for (let f = r.next(); f !== null; f = r.next()) out.push({ requestId: f.requestId, payload: [...f.payload] });
        }
        expect(out.map((f) => f.requestId)).toEqual([1, 0xffffffff, 7]);
        expect(out[0]!.payload).toEqual([1, 2, 3]);
        expect(out[1]!.payload).toEqual([]);
        expect(out[2]!.payload).toEqual([...new Uint8Array(300).fill(9), 4, 5]);
        expect(r.bufferedBytes).toBe(0);
      }
    }
  });

  it("refuses a frame longer than the bound, naming its request id", () => {
    const r = new StreamFrameReader(299);
    r.push(frames[2]!.subarray(0, 8));
    let err: unknown;
    try {
      r.next();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StreamFrameError);
    expect((err as StreamFrameError).requestId).toBe(7);
  });
});
