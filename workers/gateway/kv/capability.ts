// What the gateway isolate can call to reach storage: one capability, bound to its tenant by the
// edge Worker (a TenantKV RPC entrypoint whose props name the tenant). The gateway sends an encoded
// KvRequest (common/kv-protocol/codec.ts) and gets the encoded KvResponse back. It never sees the
// storage URL, the fleet secret or the token: TenantKV adds the token for its own tenant only.
export interface TenantKvCapability {
  batch(request: Uint8Array): Promise<Uint8Array>;
}
