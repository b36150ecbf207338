import { expect, test } from "vitest";
import { compareBytes as compare } from "./bytes.ts";
import { tenantOfKey, tenantPrefix, tenantSpan } from "./tenant-prefix.ts";

test("prefix order equals tenant id order", () => {
  const ids = [1, 2, 255, 256, 65_535, 65_536, 2 ** 32, Number.MAX_SAFE_INTEGER - 1];
  for (let i = 1; i < ids.length; i++) expect(compare(tenantPrefix(ids[i - 1]!), tenantPrefix(ids[i]!))).toBeLessThan(0);
});

test("span contains exactly the tenant's keys", () => {
  const { start, end } = tenantSpan(5);
  const key = new Uint8Array([...tenantPrefix(5), 0xff, 0xff]);
  expect(compare(start, key)).toBeLessThan(0);
  expect(compare(key, end)).toBeLessThan(0);
  expect(compare(tenantPrefix(6), end)).toBe(0);
  expect(tenantOfKey(key)).toBe(5);
  expect(tenantOfKey(new Uint8Array([0x74, 0, 0]))).toBeNull();
  expect(tenantOfKey(new Uint8Array([0x73, ...tenantPrefix(5).slice(1)]))).toBeNull();
  expect(() => tenantPrefix(0)).toThrow(RangeError);
  expect(() => tenantPrefix(1.5)).toThrow(RangeError);
});
