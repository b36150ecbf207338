// The tenant prefix: the first bytes of every key, fixed-form and order-preserving.
//
//   0x74 ('t')  tenant id as 8 bytes big-endian
//
// Fixed width makes byte order equal numeric order for every tenant id, so a tenant's keys form one
// contiguous span [prefix(id), prefix(id + 1)) and dropping a tenant is a single range deletion.
// Tenant 1 is the system tenant. Bytes below 0x74 are left free for node-local keys (the storage
// node may keep its own metadata there); no tenant can address them because every key a tenant
// sends is checked against its span.

export const TENANT_TAG = 0x74;
export const TENANT_PREFIX_BYTES = 9;
export const SYSTEM_TENANT_ID = 1;
/** Tenant ids are positive safe integers, so they survive JSON and JavaScript numbers. */
export const TENANT_ID_MAX = Number.MAX_SAFE_INTEGER;

export function assertTenantId(tenantId: number): void {
  if (!Number.isSafeInteger(tenantId) || tenantId < 1 || tenantId > TENANT_ID_MAX) {
    throw new RangeError(`invalid tenant id ${tenantId}: must be an integer in [1, ${TENANT_ID_MAX}]`);
  }
}

export function tenantPrefix(tenantId: number): Uint8Array {
  assertTenantId(tenantId);
  const out = new Uint8Array(TENANT_PREFIX_BYTES);
  out[0] = TENANT_TAG;
  new DataView(out.buffer).setBigUint64(1, BigInt(tenantId), false);
  return out;
}

/** The tenant's whole keyspace as a half-open span [start, end). */
export function tenantSpan(tenantId: number): { start: Uint8Array; end: Uint8Array } {
  const start = tenantPrefix(tenantId);
  const end = new Uint8Array(TENANT_PREFIX_BYTES);
  end[0] = TENANT_TAG;
  new DataView(end.buffer).setBigUint64(1, BigInt(tenantId) + 1n, false);
  return { start, end };
}

/** The tenant id a key belongs to, or null when the key is not in any tenant's span. */
export function tenantOfKey(key: Uint8Array): number | null {
  if (key.length < TENANT_PREFIX_BYTES || key[0] !== TENANT_TAG) return null;
  const id = new DataView(key.buffer, key.byteOffset, key.byteLength).getBigUint64(1, false);
  if (id < 1n || id > BigInt(TENANT_ID_MAX)) return null;
  return Number(id);
}
