// What a session's connection offers SQL functions: pg_backend_pid(), pg_cancel_backend(pid) and
// pg_terminate_backend(pid). The pgwire handler provides it (the tenant's live sessions in this
// isolate, workers/gateway/pgwire/backends.ts); a session without one (HTTP) reports process id 0
// and signals nothing.
import type { PgError } from "../../../common/errors.ts";

export interface SessionBackend {
  /** This session's process id (its BackendKeyData), as pg_backend_pid() returns it. */
  readonly processId: number;
  /**
   * Cancels the running statement of, or terminates, the tenant's session with this process id;
   * false when the tenant has no such session here.
   */
  signal(processId: number, action: "cancel" | "terminate"): boolean;
  /**
   * Ends this session's own connection with FATAL `reason` (once a running statement has
   * stopped): for what the session cannot carry on after, e.g. its advisory locks were lost.
   */
  terminateSelf(reason: PgError): void;
}
