// Fair admission under overload. Up to `slots` requests execute at once; beyond that the node is
// saturated and requests wait in per-tenant queues. When a slot frees, the tenant whose last
// admission is the oldest goes first (least recently served), so a tenant flooding the node gets
// one slot in turn like everyone else instead of filling the line ahead of a light tenant.
// Within one tenant requests stay in arrival order. A request that waits longer than its bound
// is refused with `overloaded`.

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class OverloadedError extends Error {
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number) {
    super(message);
    this.name = "OverloadedError";
    this.retryAfterMs = retryAfterMs;
  }
}

export class FairScheduler {
  private readonly slots: number;
  private readonly waitMsMax: number;
  private busy = 0;
  private readonly queues = new Map<number, Waiter[]>();
  private readonly lastAdmittedAt = new Map<number, number>();
  private seq = 0;

  constructor(slots: number, waitMsMax: number) {
    this.slots = slots;
    this.waitMsMax = waitMsMax;
  }

  get executing(): number {
    return this.busy;
  }

  queuedFor(tenantId: number): number {
    return this.queues.get(tenantId)?.length ?? 0;
  }

  /** Resolves when the request may execute; call release() exactly once afterwards. */
  acquire(tenantId: number): Promise<void> | null {
    if (this.busy < this.slots && this.queues.size === 0) {
      this.busy++;
      this.lastAdmittedAt.set(tenantId, ++this.seq);
      return null;
    }
    return new Promise<void>((resolve, reject) => {
      let q = this.queues.get(tenantId);
      if (!q) {
        q = [];
        this.queues.set(tenantId, q);
      }
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          const list = this.queues.get(tenantId);
          const i = list ? list.indexOf(waiter) : -1;
          if (list && i >= 0) {
            list.splice(i, 1);
            if (list.length === 0) this.queues.delete(tenantId);
          }
          reject(new OverloadedError(`storage node is overloaded: no execution slot within ${this.waitMsMax} ms; retry shortly`, 100));
        }, this.waitMsMax),
      };
      q.push(waiter);
      this.dispatch();
    });
  }

  release(): void {
    this.busy--;
    this.dispatch();
  }

  private dispatch(): void {
    while (this.busy < this.slots && this.queues.size > 0) {
      let pick: number | null = null;
      let pickSeq = Infinity;
      for (const tenant of this.queues.keys()) {
        const s = this.lastAdmittedAt.get(tenant) ?? 0;
        if (s < pickSeq) {
          pickSeq = s;
          pick = tenant;
        }
      }
      const q = this.queues.get(pick!)!;
      const w = q.shift()!;
      if (q.length === 0) this.queues.delete(pick!);
      clearTimeout(w.timer);
      this.busy++;
      this.lastAdmittedAt.set(pick!, ++this.seq);
      w.resolve();
    }
  }
}
