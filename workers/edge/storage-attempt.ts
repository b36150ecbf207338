// One attempt of a KV request at one storage node, bounded. A leaseholder that is killed closes its
// connections and the attempt fails at once; one that is stopped (SIGSTOP, a stalled VM) or cut off
// from its shard (a network partition that still lets the edge through) keeps the connection open
// and never answers. So an attempt that has waited `checkEveryMs` asks the fleet view whether the
// shard moved on (a newer epoch led by another node: the old leaseholder can acknowledge nothing any
// more, storage-node/replication/README.md "Leases and fencing"), and asks again every
// `checkEveryMs` while it waits; once it has, the attempt is abandoned as `moved`. Independently of
// the fleet, no attempt outlives `attemptMsMax`: a live node answers every request well within it
// (its own waits are bounded: lock waits, rate-limit waits), so past it the node is wedged.
//
// What the caller does with each outcome (resend, 40001, 08006) is storage-retry.ts's decision.
import type { StorageRoute } from "./shard-routes.ts";

export type AttemptOutcome =
  /** `movedToShard`: a tenant_moved answer's TENANT_SHARD_HEADER, the shard the tenant went to. */
  | { readonly kind: "answered"; readonly status: number; readonly body: Uint8Array; readonly movedToShard?: number }
  /** The connection failed (refused, reset, broken mid-answer). */
  | { readonly kind: "unreachable"; readonly error: unknown }
  /** The node never answered and the directory now names `to` as the shard's leaseholder. */
  | { readonly kind: "moved"; readonly to: StorageRoute; readonly afterMs: number }
  /** No answer within attemptMsMax, and the directory still names the same leaseholder. */
  | { readonly kind: "timedOut"; readonly afterMs: number };

export interface AttemptOptions {
  /** Sends the request and reads the whole answer; must stop when `signal` aborts. */
  readonly send: (signal: AbortSignal) => Promise<{ status: number; body: Uint8Array; movedToShard?: number }>;
  /** The route that replaced this one, if the directory names another leaseholder now. */
  readonly movedFrom: () => Promise<StorageRoute | undefined>;
  readonly checkEveryMs: number;
  readonly attemptMsMax: number;
}

export function attemptOnce(o: AttemptOptions): Promise<AttemptOutcome> {
  const startedMs = Date.now();
  const abort = new AbortController();
  return new Promise<AttemptOutcome>((resolve) => {
    let settled = false;
    let checkTimer: ReturnType<typeof setTimeout> | undefined;
    const settle = (outcome: AttemptOutcome) => {
      if (settled) return;
      settled = true;
      if (checkTimer !== undefined) clearTimeout(checkTimer);
      clearTimeout(deadline);
      if (outcome.kind === "moved" || outcome.kind === "timedOut") abort.abort(new Error(`storage attempt abandoned (${outcome.kind})`));
      resolve(outcome);
    };
    const deadline = setTimeout(() => settle({ kind: "timedOut", afterMs: Date.now() - startedMs }), o.attemptMsMax);
    const check = () => {
      o.movedFrom().then(
        (to) => {
          if (settled) return;
          if (to !== undefined) settle({ kind: "moved", to, afterMs: Date.now() - startedMs });
          else checkTimer = setTimeout(check, o.checkEveryMs);
        },
        // The directory did not answer: keep waiting on the node and try again later.
        () => {
          if (!settled) checkTimer = setTimeout(check, o.checkEveryMs);
        },
      );
    };
    checkTimer = setTimeout(check, o.checkEveryMs);
    o.send(abort.signal).then(
      (r) => settle({ kind: "answered", status: r.status, body: r.body, movedToShard: r.movedToShard }),
      (error: unknown) => settle({ kind: "unreachable", error }),
    );
  });
}
