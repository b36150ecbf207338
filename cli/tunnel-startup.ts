// The first bytes of a tunnelled Postgres connection, read by the tunnel itself before it opens a
// WebSocket: SSLRequest / GSSENCRequest are answered 'N' here (TLS, when there is any, is the
// WebSocket's: wss://), and the connection's first real packet decides what it is:
//
//   StartupMessage → a session: the tenant it names (same rules as the edge, tenant-identity.ts)
//                    decides which per-tenant cap it counts against; the packet and whatever
//                    followed it are sent to the edge first, then bytes flow unchanged
//   CancelRequest  → a cancel connection: the packet goes to the edge, which closes it
//
// The packet parsing and the tenant rules are the edge's own modules (pure: no Workers API), so
// the tunnel and the edge cannot disagree about them.
import { PgError } from "../common/errors.ts";
import { decodeStartupPacket } from "../workers/edge/pgwire/startup.ts";
import { identifyTenant } from "../workers/edge/tenant-identity.ts";

/** 'N': encryption not available here; the client continues in plaintext inside the tunnel. */
const NO_ENCRYPTION = Buffer.from("N");

export type StartupStep =
  /** More bytes are needed; send `replies` to the client meanwhile. */
  | { kind: "more"; replies: Buffer[] }
  /** A StartupMessage: `first` is the packet (sent to the edge first), `rest` what followed it. */
  | { kind: "session"; replies: Buffer[]; first: Buffer; rest: Buffer; tenant: string | null }
  /** A CancelRequest: `first` is the whole packet. */
  | { kind: "cancel"; replies: Buffer[]; first: Buffer };

export class TunnelStartup {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly bytesMax: number;
  /** The WebSocket URL's host, for the host-label form of naming a tenant. */
  private readonly host: string | undefined;

  constructor(bytesMax: number, host: string | undefined) {
    this.bytesMax = bytesMax;
    this.host = host;
  }

  /** Adds bytes from the client. Throws PgError (08P01, 0A000) on a malformed packet. */
  push(chunk: Buffer): StartupStep {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const replies: Buffer[] = [];
    for (;;) {
      if (this.buffer.length < 4) return { kind: "more", replies };
      const length = this.buffer.readInt32BE(0);
      if (length < 8 || length > this.bytesMax) throw new PgError("protocol_violation", `invalid length of startup packet: ${length}`);
      if (this.buffer.length < length) return { kind: "more", replies };
      const packet = this.buffer.subarray(0, length);
      const rest = this.buffer.subarray(length);
      const decoded = decodeStartupPacket(packet.subarray(4));
      switch (decoded.kind) {
        case "SSLRequest":
        case "GSSENCRequest":
          replies.push(NO_ENCRYPTION);
          this.buffer = rest;
          continue;
        case "CancelRequest":
          this.buffer = Buffer.alloc(0);
          return { kind: "cancel", replies, first: Buffer.from(packet) };
        case "StartupMessage": {
          this.buffer = Buffer.alloc(0);
          const p = decoded.parameters;
          return { kind: "session", replies, first: Buffer.from(packet), rest: Buffer.from(rest), tenant: this.tenantOf(p) };
        }
      }
    }
  }

  /** Bytes held so far (bounded by bytesMax plus one read). */
  get pendingBytes(): number {
    return this.buffer.length;
  }

  /** The tenant a StartupMessage names; null when it names none or two (the edge reports that). */
  private tenantOf(p: Record<string, string>): string | null {
    try {
      return identifyTenant({ user: p["user"], database: p["database"], options: p["options"], host: this.host }).tenant;
    } catch {
      return null;
    }
  }
}
