// A PgConnection over the engine's real Session on the in-memory KV, for tests of what a client
// sees: send frontend messages, get the backend messages they caused. The session is wrapped only
// to record the SQL pgwire runs through it (every method the real one has is passed through).
import type { TenantKvCapability } from "../kv/capability.ts";
import { MemoryKv, memoryCapability } from "../kv/memory-kv.ts";
import { Session } from "../sql/session.ts";
import { PgConnection, type ConnectionIO, type ConnectionQuota } from "./connection.ts";
import { recordingSession } from "../sql/testing/recording-session.ts";
import { parseBackend, type BackendMsg } from "./wire-test-client.ts";

export interface TestConnection {
  conn: PgConnection;
  session: Session;
  /** Sends frontend messages (each its own chunk) and returns everything the server answered. */
  send(...chunks: Uint8Array[]): Promise<BackendMsg[]>;
  /** SQL the connection ran through the session, in order. */
  executed: string[];
  /** Frames sent to the client (one per flush). */
  frames: Uint8Array[];
}

/** Each connection gets its own tenant id: the SQL layer caches catalogs per tenant in the isolate. */
let nextTenantId = 5000;

export interface TestConnectionOptions {
  /** Transport overrides (bufferedBytes, a send that keeps nothing, …). */
  io?: Partial<ConnectionIO>;
  /** The tenant's KV (default: a fresh in-memory KV) and id. */
  kv?: TenantKvCapability;
  tenantId?: number;
  /** Keep what the server sends for send()'s answer (default true; false for huge outputs). */
  keepReceived?: boolean;
  /** Request-Unit admission (default: none, as without a quota). */
  quota?: ConnectionQuota;
}

export async function openTestConnection(opts: TestConnectionOptions = {}): Promise<TestConnection> {
  const session = new Session({ kv: opts.kv ?? memoryCapability(new MemoryKv()), tenantId: opts.tenantId ?? nextTenantId++, settings: { user: "app" } });
  const keep = opts.keepReceived ?? true;
  const recorded = recordingSession(session);
  const executed = recorded.executed;
  let received: Uint8Array[] = [];
  const frames: Uint8Array[] = [];
  const conn = new PgConnection({
    session: recorded,
    user: "app",
    ...(opts.quota ? { quota: opts.quota } : {}),
    io: {
      send: (b) => {
        if (!keep) return;
        received.push(b);
        frames.push(b);
      },
      close: () => {},
      ...opts.io,
    },
  });
  const take = () => {
    const msgs = received.flatMap((b) => parseBackend(b));
    received = [];
    return msgs;
  };
  await conn.start();
  take();
  frames.length = 0;
  return {
    conn,
    session,
    executed,
    frames,
    send: async (...chunks) => {
      for (const c of chunks) await conn.receive(c);
      return take();
    },
  };
}
