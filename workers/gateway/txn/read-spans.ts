// The read spans a commit sends. Storage validates written keys anyway, so point reads of keys
// the transaction also writes are dropped; the rest are sorted and merged where they overlap or
// touch. If that still exceeds what one request may carry, neighbouring spans are joined into
// covering spans: validation then checks more keys than were read (possibly a spurious conflict),
// never fewer, so serializability holds.
import type { Span, WriteOp } from "../../../common/kv-protocol/messages.ts";
import { compareBytes, keyNext, keyString } from "../../../common/bytes.ts";

export function compactSpans(spans: readonly Span[], writes: readonly WriteOp[], maxSpans: number): Span[] {
  const written = new Set<string>();
  for (const w of writes) if (w.op !== "deleteRange" && w.op !== "clearRange") written.add(keyString(w.key));
  const kept = spans.filter((s) => {
    // A point span is [k, k\0): exactly one key.
    const point = s.end.length === s.start.length + 1 && s.end[s.end.length - 1] === 0 && compareBytes(keyNext(s.start), s.end) === 0;
    return !(point && written.has(keyString(s.start)));
  });
  kept.sort((a, b) => compareBytes(a.start, b.start));
  const merged: Span[] = [];
  for (const s of kept) {
    const last = merged[merged.length - 1];
    if (last !== undefined && compareBytes(s.start, last.end) <= 0) {
      if (compareBytes(s.end, last.end) > 0) last.end = s.end;
    } else {
      merged.push({ start: s.start, end: s.end });
    }
  }
  let out = merged;
  while (out.length > maxSpans && out.length > 1) {
    const next: Span[] = [];
    for (let i = 0; i < out.length; i += 2) {
      const a = out[i]!;
      const b = out[i + 1];
      next.push(b === undefined ? a : { start: a.start, end: compareBytes(b.end, a.end) > 0 ? b.end : a.end });
    }
    out = next;
  }
  return out;
}
