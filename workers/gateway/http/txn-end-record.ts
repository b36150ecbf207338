// The durable record that an interactive HTTP transaction ended (COMMIT or ROLLBACK), so that its
// sealed handle — or any earlier handle of the same transaction — cannot be used again.
//
//   /<tenant>/HTTP_TXN_END_TABLE_ID/1/<handle expiry ms: uvarint>/<txn id: 16 bytes>  →  0x01
//
// Why a key in the tenant's own keyspace on the storage node (and not the tenant's Durable Object):
// - It is checked on every request that carries a handle; a storage read is already on that path
//   (the transaction's own reads), while a Durable Object call would be a control-plane round trip
//   per query, which the design forbids.
// - It can be written in the SAME atomic commit as the transaction's own writes: every resumed
//   transaction carries a put of its record and a read span over it (interactive-txn.ts), so a
//   COMMIT writes the record atomically with the data, and two copies of one handle racing to
//   commit cannot both succeed (the second finds a version above its readTs in its read span: 40001).
//   A ROLLBACK (or a failed COMMIT) writes the record on its own afterwards.
// - It is inside the tenant's prefix, so it is dropped with the tenant and no other tenant can
//   reach it, and SQL cannot (system table ids are below FIRST_USER_DESCRIPTOR_ID).
// Keys sort by the handle's expiry, so records of handles that expired (and are refused for that
// reason anyway) are removed by one range deletion (collectExpired).
import type { ReadResult } from "../../../common/kv-protocol/messages.ts";
import { KeyWriter, encodeUvarintAscending } from "../keys/encoding.ts";
import { HTTP_TXN_END_TABLE_ID, PRIMARY_INDEX_ID, tableIndexPrefix } from "../keys/doc.ts";
import type { KvClient } from "../kv/kv-client.ts";

const ENDED = Uint8Array.of(1);

/** The record's key for a transaction whose handle expires at `expiresAtMs`. */
export function txnEndKey(tenantId: number, expiresAtMs: number, txnId: Uint8Array): Uint8Array {
  const w = new KeyWriter(64);
  w.bytes(tableIndexPrefix(tenantId, HTTP_TXN_END_TABLE_ID, PRIMARY_INDEX_ID));
  encodeUvarintAscending(w, expiresAtMs);
  w.bytes(txnId);
  return w.finish();
}

/** [key, key ‖ 0x00): the read span that covers exactly `key`. */
export function singleKeySpan(key: Uint8Array): [Uint8Array, Uint8Array] {
  const end = new Uint8Array(key.length + 1);
  end.set(key);
  return [key, end];
}

function getValue(r: ReadResult | undefined): Uint8Array | null {
  return r !== undefined && r.op === "get" ? r.value : null;
}

export class TxnEndRecords {
  private readonly kv: KvClient;
  private readonly tenantId: number;

  constructor(kv: KvClient, tenantId: number) {
    this.kv = kv;
    this.tenantId = tenantId;
  }

  /** Reads the record at a fresh snapshot: whether the transaction ended, and that snapshot's timestamp. */
  async read(key: Uint8Array): Promise<{ ended: boolean; readTs: bigint }> {
    const { readTs, results } = await this.kv.read(null, [{ op: "get", key }]);
    if (readTs === null) throw new Error("storage returned no read timestamp for a fresh read");
    return { ended: getValue(results[0]) !== null, readTs };
  }

  /** Records that the transaction ended (idempotent: a blind put in one single-shot batch). */
  async record(key: Uint8Array): Promise<void> {
    await this.kv.batch([], [{ op: "put", key, value: ENDED }]);
  }

  /**
   * Removes the records of handles that expired before `beforeMs`. Such handles are refused for
   * their expiry before their record is ever looked at, so the records are no longer needed.
   */
  async collectExpired(beforeMs: number): Promise<void> {
    const start = tableIndexPrefix(this.tenantId, HTTP_TXN_END_TABLE_ID, PRIMARY_INDEX_ID);
    const w = new KeyWriter(32);
    w.bytes(start);
    encodeUvarintAscending(w, Math.max(0, Math.floor(beforeMs)));
    await this.kv.batch([], [{ op: "deleteRange", start, end: w.finish() }]);
  }
}
