// Reads a byte stream to its end, but never more than a limit: past `bytesMax` the stream is
// cancelled and the caller's error is thrown, so a peer (a client's request body, a storage node's
// answer, a compressed state being inflated) cannot make the reader buffer without bound.
import { concatBytes } from "./bytes.ts";

export async function readCapped(stream: ReadableStream<Uint8Array> | null, bytesMax: number, tooLarge: (bytesSoFar: number) => Error): Promise<Uint8Array> {
  if (stream === null) return new Uint8Array(0);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > bytesMax) {
      await reader.cancel().catch(() => {});
      throw tooLarge(total);
    }
    chunks.push(value);
  }
  return chunks.length === 1 ? chunks[0]! : concatBytes(chunks);
}
