// What a replica process (log-node.ts, replicated-node.ts) needs to speak HTTP with its peers and
// the FleetDirectory: a bounded body reader, JSON answers, the system-token check on every peer
// request, and a cached system token for its own outgoing calls.
import type { IncomingMessage, ServerResponse } from "node:http";
import { SYSTEM_TENANT_ID } from "../../common/tenant-prefix.ts";
import { mintTenantToken, verifyTenantToken } from "../../common/tenant-token.ts";

/** Reads a request body of at most `bytesMax` bytes (larger: the request is destroyed, RangeError). */
export function readBody(req: IncomingMessage, bytesMax: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on("data", (c: Buffer) => {
      n += c.length;
      if (n > bytesMax) {
        req.destroy();
        reject(new RangeError("body too large"));
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export function json(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** Answers 401 and returns false unless the request carries a valid system token. */
export async function requireSystemToken(req: IncomingMessage, res: ServerResponse, secret: string): Promise<boolean> {
  const header = req.headers.authorization ?? "";
  try {
    const claims = await verifyTenantToken(secret, header.startsWith("Bearer ") ? header.slice(7) : "", Date.now());
    if (claims.tenantId === SYSTEM_TENANT_ID) return true;
    json(res, 401, { error: "the system token is required" });
  } catch (err) {
    json(res, 401, { error: `bad token: ${err instanceof Error ? err.message : String(err)}` });
  }
  return false;
}

/** A system token for this process's own calls, minted for 10 minutes and renewed a minute before it ends. */
export function systemTokenSource(secret: string): () => Promise<string> {
  let cached: { value: string; expiresAtMs: number } | undefined;
  return async () => {
    if (!cached || cached.expiresAtMs - 60_000 < Date.now()) {
      const expiresAtMs = Date.now() + 10 * 60_000;
      cached = { value: await mintTenantToken(secret, { tenantId: SYSTEM_TENANT_ID, expiresAtMs }), expiresAtMs };
    }
    return cached.value;
  };
}
