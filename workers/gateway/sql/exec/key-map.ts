// A map from string keys (rowHashKey's) to values, for an operator's hash table (GROUP BY's groups,
// a hash join's build side, INTERSECT / EXCEPT counts): the keys in a KeySet (key-set.ts), the
// values in a ChunkedList by the key's id. A JavaScript Map rehashes every entry in one step when it
// doubles (1.6–1.8 s at 2^21 entries measured in Node on a loaded machine; a GROUP BY over ~500 K
// groups held workerd's thread 529 ms at once), where neither of these ever moves more than a block.
// Values come back in the order their keys were first set, as a Map's do.
import { ChunkedList } from "./chunked-list.ts";
import { KeySet } from "./key-set.ts";

/** Bytes a value's slot costs beyond the key (a pointer in a block). */
const VALUE_SLOT_BYTES = 8;

export class KeyMap<V> {
  private readonly keys = new KeySet();
  private readonly vals = new ChunkedList<V>();

  get size(): number {
    return this.keys.size;
  }

  /** Bytes held by the keys and the value slots (not the values themselves: their owner charges those). */
  get heldBytes(): number {
    return this.keys.heldBytes + this.vals.length * VALUE_SLOT_BYTES;
  }

  get(key: string): V | undefined {
    const id = this.keys.idOf(key);
    return id < 0 ? undefined : this.vals.at(id);
  }

  set(key: string, v: V): void {
    const id = this.keys.intern(key);
    if (id >= 0) this.vals.set(id, v);
    else this.vals.push(v);
  }

  /** The value of `key`, made by `make()` and set when the key is new. */
  getOrSet(key: string, make: () => V): V {
    const id = this.keys.intern(key);
    if (id >= 0) return this.vals.at(id);
    const v = make();
    this.vals.push(v);
    return v;
  }

  values(): IterableIterator<V> {
    return this.vals[Symbol.iterator]();
  }
}
