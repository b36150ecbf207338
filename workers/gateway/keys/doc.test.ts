import { describe, expect, it } from "vitest";
import { tenantSpan } from "../../../common/tenant-prefix.ts";
import { compareBytes, prefixEnd } from "../../../common/bytes.ts";
import {
  ADVISORY_LOCK_TABLE_ID, DESCRIPTOR_TABLE_ID, FIRST_USER_DESCRIPTOR_ID, PRIMARY_INDEX_ID, advisoryLockKey, decodeTableIndexKey, descriptorIdGeneratorKey,
  descriptorKey, namespaceKey, sequenceValueKey, tableIndexPrefix, tablePrefix,
  TEMP_TABLE_ID_END, TEMP_TABLE_ID_MIN, tempSpan,
} from "./doc.ts";

const lt = (a: Uint8Array, b: Uint8Array) => compareBytes(a, b) < 0;

describe("keyspace layout", () => {
  it("keeps every key of a tenant inside its span", () => {
    const { start, end } = tenantSpan(7);
    for (const k of [descriptorKey(7, 1), namespaceKey(7, 100, 101, "t"), descriptorIdGeneratorKey(7), sequenceValueKey(7, 123), tableIndexPrefix(7, 2 ** 40, 9)]) {
      expect(compareBytes(k, start) >= 0 && lt(k, end)).toBe(true);
    }
  });

  it("sorts system tables before user tables, tables by id, indexes by id", () => {
    expect(lt(descriptorKey(3, 999), tablePrefix(3, FIRST_USER_DESCRIPTOR_ID))).toBe(true);
    // Advisory-lock keys: inside the system tables, both key spaces, the extremes of a bigint.
    for (const k of [advisoryLockKey(3, 1, -(2n ** 63n)), advisoryLockKey(3, 2, 2n ** 63n - 1n)]) {
      expect(lt(tablePrefix(3, ADVISORY_LOCK_TABLE_ID), k) && lt(k, tablePrefix(3, FIRST_USER_DESCRIPTOR_ID))).toBe(true);
    }
    expect(lt(advisoryLockKey(3, 1, 5n), advisoryLockKey(3, 2, 5n))).toBe(true);
    expect(lt(prefixEnd(tablePrefix(3, 100)), prefixEnd(tablePrefix(3, 101)))).toBe(true);
    expect(compareBytes(prefixEnd(tableIndexPrefix(3, 100, 1)), tableIndexPrefix(3, 100, 2))).toBeLessThanOrEqual(0);
    expect(lt(tableIndexPrefix(3, 109, 1), tableIndexPrefix(3, 110, 1))).toBe(true);
    expect(lt(tableIndexPrefix(3, 255, 1), tableIndexPrefix(3, 256, 1))).toBe(true);
  });

  it("decodes a table key back into its parts", () => {
    const k = tableIndexPrefix(42, 12345, 3);
    const parts = decodeTableIndexKey(Uint8Array.of(...k, 0x99));
    expect(parts.tenantId).toBe(42);
    expect(parts.tableId).toBe(12345);
    expect(parts.indexId).toBe(3);
    expect(Array.from(parts.rest)).toEqual([0x99]);
    expect(decodeTableIndexKey(descriptorKey(1, 5)).tableId).toBe(DESCRIPTOR_TABLE_ID);
    expect(decodeTableIndexKey(descriptorKey(1, 5)).indexId).toBe(PRIMARY_INDEX_ID);
  });

  it("computes prefixEnd as the first key after the prefix", () => {
    expect(Array.from(prefixEnd(Uint8Array.of(1, 2, 3)))).toEqual([1, 2, 4]);
    expect(Array.from(prefixEnd(Uint8Array.of(1, 0xff, 0xff)))).toEqual([2]);
    expect(() => prefixEnd(Uint8Array.of(0xff))).toThrow(expect.objectContaining({ code: "XX000" }));
    const p = tableIndexPrefix(5, 100, 1);
    expect(lt(Uint8Array.of(...p, 0xff, 0xff, 0xff), prefixEnd(p))).toBe(true);
  });

  it("keeps every key of a temporary object inside the temporary span, and stored tables outside it", () => {
    const { start, end } = tempSpan(9);
    const inside = (k: Uint8Array) => compareBytes(k, start) >= 0 && lt(k, end);
    for (const id of [TEMP_TABLE_ID_MIN, TEMP_TABLE_ID_MIN + 1, TEMP_TABLE_ID_END - 1]) {
      expect(inside(tableIndexPrefix(9, id, 1))).toBe(true);
      expect(inside(sequenceValueKey(9, id))).toBe(true);
      expect(inside(Uint8Array.of(...tableIndexPrefix(9, id, 77), 0xff, 0xff))).toBe(true);
    }
    for (const id of [FIRST_USER_DESCRIPTOR_ID, TEMP_TABLE_ID_MIN - 1, TEMP_TABLE_ID_END]) expect(inside(tableIndexPrefix(9, id, 1))).toBe(false);
    expect(inside(descriptorKey(9, TEMP_TABLE_ID_MIN))).toBe(false);
    expect(inside(tableIndexPrefix(10, TEMP_TABLE_ID_MIN, 1))).toBe(false);
  });
});
