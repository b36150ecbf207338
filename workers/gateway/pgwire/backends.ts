// The live Postgres sessions ("backends") of one tenant in this gateway isolate, by process id: what
// a CancelRequest (forwarded by the edge as POST /cancel), pg_cancel_backend(pid) and
// pg_terminate_backend(pid) look up. Module scope, one registry per tenant id: in loader mode an
// isolate serves one tenant anyway; in inline mode the module is shared by every tenant, and the
// per-tenant map is what keeps one tenant's pg_cancel_backend from reaching another's sessions.
//
// The edge issues each session's BackendKeyData pair (workers/edge/pgwire/backend-key.ts) and passes
// it in PGWIRE_HEADERS.backendKey; the gateway only stores it and compares it. A process id is
// unique among a tenant's sessions here: a session whose id is taken is refused (HTTP 409 on the
// upgrade) and the edge retries with a fresh pair.

export interface BackendKey {
  /** Positive Int32, as Postgres's process ids; what pg_backend_pid() returns. */
  processId: number;
  /** Int32 (may be negative), as the protocol carries it. */
  secretKey: number;
}

/** One live session, as the registry sees it. */
export interface Backend {
  readonly key: BackendKey;
  /** Cancels the statement running now (57014 at its next check point); false when none runs. */
  cancel(): boolean;
  /** Ends the session with FATAL 57P01, cancelling what runs and rolling back its transaction. */
  terminate(): void;
}

export type BackendSignal = "cancel" | "terminate";

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

/** The header value that carries a pair from the edge to the gateway: "processId:secretKey", decimal. */
export function formatBackendKey(key: BackendKey): string {
  return `${key.processId}:${key.secretKey}`;
}

/** Parses formatBackendKey's text; null when absent or malformed (never trusts a half-valid value). */
export function parseBackendKey(text: string | null | undefined): BackendKey | null {
  if (text === null || text === undefined) return null;
  const m = /^([0-9]{1,10}):(-?[0-9]{1,10})$/.exec(text);
  if (m === null) return null;
  const processId = Number(m[1]);
  const secretKey = Number(m[2]);
  if (processId < 1 || processId > INT32_MAX || secretKey < INT32_MIN || secretKey > INT32_MAX) return null;
  return { processId, secretKey };
}

export class BackendRegistry {
  private readonly byProcessId = new Map<number, Backend>();

  /** Adds a session; false when its process id is already taken here (nothing changes). */
  add(backend: Backend): boolean {
    if (this.byProcessId.has(backend.key.processId)) return false;
    this.byProcessId.set(backend.key.processId, backend);
    return true;
  }

  /** Removes a session (only that one: a later session may reuse the id). */
  remove(backend: Backend): void {
    if (this.byProcessId.get(backend.key.processId) === backend) this.byProcessId.delete(backend.key.processId);
  }

  /**
   * A CancelRequest: cancels the statement of the session with exactly this pair. Returns whether a
   * statement was cancelled; a wrong key or an unknown process id changes nothing.
   */
  cancelRequest(key: BackendKey): boolean {
    const b = this.byProcessId.get(key.processId);
    if (b === undefined || b.key.secretKey !== key.secretKey) return false;
    return b.cancel();
  }

  /**
   * pg_cancel_backend / pg_terminate_backend from a session of the same tenant: true when a session
   * has this process id (the signal was sent, as Postgres reports it), false otherwise.
   */
  signal(processId: number, action: BackendSignal): boolean {
    const b = this.byProcessId.get(processId);
    if (b === undefined) return false;
    if (action === "cancel") b.cancel();
    else b.terminate();
    return true;
  }

  has(processId: number): boolean {
    return this.byProcessId.has(processId);
  }

  /** A random process id no session here uses (for sessions opened without an edge-issued pair). */
  unusedProcessId(): number {
    for (;;) {
      const id = crypto.getRandomValues(new Uint32Array(1))[0]! & INT32_MAX;
      if (id !== 0 && !this.byProcessId.has(id)) return id;
    }
  }

  get size(): number {
    return this.byProcessId.size;
  }
}

const registries = new Map<string, BackendRegistry>();

/** Forgets the tenant's registry when it holds no session (the isolate is released). */
export function forgetBackends(tenantId: string): void {
  if (registries.get(tenantId)?.size === 0) registries.delete(tenantId);
}

/** The registry of one tenant's sessions in this isolate. */
export function backendsOf(tenantId: string): BackendRegistry {
  let r = registries.get(tenantId);
  if (r === undefined) {
    r = new BackendRegistry();
    registries.set(tenantId, r);
  }
  return r;
}
