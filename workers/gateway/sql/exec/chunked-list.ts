// A list that grows a block at a time, for the rows and entries an operator keeps (a hash join's
// build side, a GROUP BY's groups). A JavaScript array grows by copying all of it into a larger
// one, a single step that nothing interrupts, as long as the array (a 1 M-element array is 8 MB of
// pointers: milliseconds in workerd, which zeroes new memory at ~3 ms per MiB, see slot-table.ts);
// here no push copies or allocates more than one block of BLOCK elements.
const BLOCK_BITS = 14;
const BLOCK = 1 << BLOCK_BITS;

export class ChunkedList<T> {
  private readonly blocks: T[][] = [];
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(v: T): void {
    if ((this.count & (BLOCK - 1)) === 0) this.blocks.push([]);
    this.blocks[this.count >>> BLOCK_BITS]!.push(v);
    this.count++;
  }

  at(i: number): T {
    if (!(i >= 0 && i < this.count)) throw new RangeError(`index ${i} outside a list of ${this.count}`);
    return this.blocks[i >>> BLOCK_BITS]![i & (BLOCK - 1)]!;
  }

  set(i: number, v: T): void {
    if (!(i >= 0 && i < this.count)) throw new RangeError(`index ${i} outside a list of ${this.count}`);
    this.blocks[i >>> BLOCK_BITS]![i & (BLOCK - 1)] = v;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (const block of this.blocks) yield* block;
  }
}
