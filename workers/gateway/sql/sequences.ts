// nextval / currval / setval. As in Postgres, sequence increments are not transactional: they are
// written at once with a compare-and-put outside the caller's transaction, so concurrent sessions
// never hand out the same value and a rolled-back transaction leaves a gap. The last value seen
// is remembered, so a refill is usually one KV request; within one statement refills reserve
// growing blocks (like Postgres's sequence CACHE), so a bulk INSERT needs few requests.
import { PgError } from "../../../common/errors.ts";
import type { Catalog } from "../catalog/catalog.ts";
import { dataIdOf, type SequenceDesc } from "../catalog/descriptors.ts";
import { decodeI64, encodeI64, type Keyspace } from "../catalog/keyspace.ts";
import { encodeNotCalled, isNotCalled, lastHandedOut } from "./exec/sequence-value.ts";
import { KvRequestError, kvErrorToPgError, type KvClient } from "../kv/kv-client.ts";
import { parseQualifiedName } from "./bind/reg-catalog.ts";

/**
 * Most values one refill reserves for a session (a bulk INSERT into a serial column): one KV
 * request per 1,024 rows instead of one per row. Unused values become gaps, as with Postgres's
 * sequence CACHE.
 */
const SEQUENCE_BLOCK_MAX = 1024;

/** Bounded retries of the compare-and-put under contention before giving up with 40001. */
const CPUT_ATTEMPTS_MAX = 50;

export class Sequences {
  private readonly kv: KvClient;
  private readonly ks: Keyspace;
  /** Last stored value per sequence data id as this session last saw it (null: never used). */
  private readonly known = new Map<number, Uint8Array | null>();
  private readonly current = new Map<number, bigint>();
  private last: bigint | null = null;

  constructor(kv: KvClient, ks: Keyspace) {
    this.kv = kv;
    this.ks = ks;
  }

  resolve(catalog: Catalog, name: string, searchPath: readonly string[]): SequenceDesc {
    // As regclass input: quoted identifiers keep their case (a serial column of a mixed-case
    // table, 'public."User_id_seq"'), unquoted ones fold to lower case.
    const names = parseQualifiedName(name);
    const d = catalog.resolveRelation(names, searchPath);
    if (d === undefined) throw new PgError("undefined_table", `relation "${names.join(".")}" does not exist`);
    if (d.kind !== "sequence") throw new PgError("wrong_object_type", `"${d.name}" is not a sequence`);
    return d;
  }

  private async stored(id: number): Promise<Uint8Array | null> {
    if (this.known.has(id)) return this.known.get(id)!;
    const r = await this.kv.read(null, [{ op: "get", key: this.ks.sequenceKey(id) }]).catch((err: unknown) => {
      if (err instanceof KvRequestError) throw kvErrorToPgError(err.kvError);
      throw err;
    });
    const res = r.results[0]!;
    const v = res.op === "get" ? res.value : null;
    this.known.set(id, v);
    return v;
  }

  /**
   * Compare-and-put from `expected` to the value `next` computes; retries when another session
   * moved it. `next` gets the last value handed out (for a state setval(…, false) left, the value
   * one increment before the next one). `called: false` stores the value as the next to hand out.
   */
  private async advance(seq: SequenceDesc, next: (cur: bigint | null) => bigint, called = true): Promise<bigint> {
    // Values live under the sequence's data id: TRUNCATE … RESTART IDENTITY gives it a new one.
    const dataId = dataIdOf(seq);
    const key = this.ks.sequenceKey(dataId);
    let expected = await this.stored(dataId);
    for (let attempt = 0; attempt < CPUT_ATTEMPTS_MAX; attempt++) {
      const value = next(expected === null ? null : lastHandedOut(expected, BigInt(seq.increment)));
      const encoded = called ? encodeI64(value) : encodeNotCalled(value);
      try {
        await this.kv.batch([], [{ op: "cput", key, value: encoded, expected }]);
        this.known.set(dataId, encoded);
        return value;
      } catch (err) {
        if (err instanceof KvRequestError && err.kvError.code === "condition_failed") {
          expected = err.kvError.actual ?? null;
          if (err.kvError.actual === undefined) {
            this.known.delete(dataId);
            expected = await this.stored(dataId);
          }
          continue;
        }
        if (err instanceof KvRequestError) throw kvErrorToPgError(err.kvError);
        throw err;
      }
    }
    throw new PgError("serialization_failure", `sequence "${seq.name}" is too contended`, { hint: "retry the transaction" });
  }

  /** Values reserved by this session and not yet handed out: next … end (inclusive, by increment). */
  private readonly reserved = new Map<number, { next: bigint; end: bigint }>();
  /** Values to reserve at the next refill, per sequence; doubles on each refill within a statement. */
  private readonly blockSize = new Map<number, number>();

  /** A new statement: refills start small again (a bulk INSERT grows them, single calls stay cheap). */
  beginStatement(): void {
    this.blockSize.clear();
  }

  async nextval(seq: SequenceDesc): Promise<bigint> {
    const inc = BigInt(seq.increment);
    const r = this.reserved.get(dataIdOf(seq));
    if (r !== undefined && (inc > 0n ? r.next <= r.end : r.next >= r.end)) {
      const v = r.next;
      r.next += inc;
      return this.handOut(seq, v);
    }
    const min = BigInt(seq.min);
    const max = BigInt(seq.max);
    const block = BigInt(this.blockSize.get(dataIdOf(seq)) ?? 1);
    this.blockSize.set(dataIdOf(seq), Math.min(SEQUENCE_BLOCK_MAX, Number(block) * 2));
    let first = 0n;
    const end = await this.advance(seq, (cur) => {
      first = cur === null ? BigInt(seq.start) : cur + inc;
      if (first > max || first < min) {
        if (!seq.cycle) {
          throw new PgError("sequence_generator_limit_exceeded", `nextval: reached ${inc > 0n ? "maximum" : "minimum"} value of sequence "${seq.name}" (${inc > 0n ? max : min})`);
        }
        first = inc > 0n ? min : max;
      }
      let last = first + (block - 1n) * inc;
      if (last > max) last = max;
      if (last < min) last = min;
      return last;
    });
    this.reserved.set(dataIdOf(seq), { next: first + inc, end });
    return this.handOut(seq, first);
  }

  private handOut(seq: SequenceDesc, v: bigint): bigint {
    this.current.set(seq.id, v);
    this.last = v;
    return v;
  }

  /**
   * last_value and is_called as `SELECT … FROM seq` shows them, read afresh (another session may
   * have moved the sequence). With reserved blocks, last_value is the end of the last block any
   * session reserved, as in Postgres with a sequence CACHE.
   */
  async state(seq: SequenceDesc): Promise<{ lastValue: bigint; isCalled: boolean }> {
    const dataId = dataIdOf(seq);
    this.known.delete(dataId);
    const v = await this.stored(dataId);
    if (v === null) return { lastValue: BigInt(seq.start), isCalled: false };
    return { lastValue: decodeI64(v), isCalled: !isNotCalled(v) };
  }

  currval(seq: SequenceDesc): bigint {
    const v = this.current.get(seq.id);
    if (v === undefined) throw new PgError("object_not_in_prerequisite_state", `currval of sequence "${seq.name}" is not yet defined in this session`);
    return v;
  }

  lastval(): bigint {
    if (this.last === null) throw new PgError("object_not_in_prerequisite_state", "lastval is not yet defined in this session");
    return this.last;
  }

  /** setval(seq, v, isCalled): the next nextval returns v + increment (isCalled) or v. */
  async setval(seq: SequenceDesc, value: bigint, isCalled: boolean): Promise<bigint> {
    if (value < BigInt(seq.min) || value > BigInt(seq.max)) {
      throw new PgError("numeric_value_out_of_range", `setval: value ${value} is out of bounds for sequence "${seq.name}" (${seq.min}..${seq.max})`);
    }
    await this.advance(seq, () => value, isCalled);
    this.reserved.delete(dataIdOf(seq));
    if (isCalled) {
      this.current.set(seq.id, value);
      this.last = value;
    }
    return value;
  }
}
