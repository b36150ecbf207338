// A small Node client for the storage node's HTTP API, used by tests and the benchmark. It speaks
// exactly what the edge Worker's TenantKV sends: POST /v1/kv with a bearer token and a frame.
import { Agent, request } from "node:http";
import { decodeResponse, encodeRequest } from "../../common/kv-protocol/codec.ts";
import type { KvRequest, KvResponse } from "../../common/kv-protocol/messages.ts";
import { mintTenantToken } from "../../common/tenant-token.ts";
import { tenantPrefix } from "../../common/tenant-prefix.ts";

export class KvHttpClient {
  readonly url: URL;
  token: string;
  private readonly agent: Agent;

  constructor(url: string, token: string, maxSockets = 64) {
    this.url = new URL(url);
    this.token = token;
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  static async forTenant(url: string, secret: string, tenantId: number, ttlMs = 10 * 60_000): Promise<KvHttpClient> {
    return new KvHttpClient(url, await mintTenantToken(secret, { tenantId, expiresAtMs: Date.now() + ttlMs }));
  }

  /** Sends raw bytes; returns status and raw body. */
  raw(body: Uint8Array, headers: Record<string, string> = {}, path = "/v1/kv", method = "POST"): Promise<{ status: number; body: Uint8Array }> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.url.hostname,
          port: this.url.port,
          path,
          method,
          agent: this.agent,
          headers: { authorization: `Bearer ${this.token}`, "content-type": "application/x-warren-kv", "content-length": body.byteLength, ...headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const b = Buffer.concat(chunks);
            resolve({ status: res.statusCode ?? 0, body: new Uint8Array(b.buffer, b.byteOffset, b.byteLength) });
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  async send(req: KvRequest): Promise<KvResponse & { status: number }> {
    const { status, body } = await this.raw(encodeRequest(req));
    return { ...decodeResponse(body), status };
  }

  async json(path: string, method = "GET", body?: unknown): Promise<{ status: number; json: any }> {
    const bytes = body === undefined ? new Uint8Array(0) : new TextEncoder().encode(JSON.stringify(body));
    const { status, body: out } = await this.raw(bytes, { "content-type": "application/json" }, path, method);
    const text = new TextDecoder().decode(out);
    return { status, json: text.startsWith("{") ? JSON.parse(text) : text };
  }

  close(): void {
    this.agent.destroy();
  }
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** tenantPrefix(tenant) + UTF-8 of suffix. */
export function tkey(tenantId: number, suffix: string): Uint8Array {
  const p = tenantPrefix(tenantId);
  const s = enc.encode(suffix);
  const out = new Uint8Array(p.length + s.length);
  out.set(p);
  out.set(s, p.length);
  return out;
}

export function text(b: Uint8Array | null | undefined): string | null {
  return b == null ? null : dec.decode(b);
}

export function bytes(s: string): Uint8Array {
  return enc.encode(s);
}

export function randomTxnId(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(16));
}
