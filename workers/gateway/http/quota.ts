// The gateway's local share of its tenant's Request-Unit bucket. It spends a granted batch
// locally and asks the QuotaBucket (through env.QUOTA) only when the batch is used up or expired,
// so there is no control-plane call per query. A tenant whose bucket is in debt gets trickle
// grants; when even those are spent, queries fail with 53400 until the bucket refills.
//
// Charged today: bytes sent to the client (egressRequestUnits). KV usage will be charged once the
// KV client reports it; the bucket's arithmetic does not change.
import { PgError } from "../../../common/errors.ts";
import type { TenantQuotaCapability } from "../env.ts";
import { quotaLimits } from "./limits.ts";
import { settleRpc } from "../../../common/rpc.ts";

export class LocalQuota {
  private cap: TenantQuotaCapability;
  private readonly nowMs: () => number;
  private balanceRu = 0;
  private validUntilMs = 0;
  private spentSinceGrantRu = 0;
  private refreshing: Promise<void> | null = null;
  /** QuotaBucket calls made (for tests and metrics). */
  grants = 0;

  constructor(cap: TenantQuotaCapability, nowMs: () => number = Date.now) {
    this.cap = cap;
    this.nowMs = nowMs;
  }

  /**
   * The capability the next grant request goes through. In inline mode (GATEWAY_MODE=inline) every
   * request brings its own QUOTA stub, and a stub may only be used from the request it came with
   * (workerd: "Cannot perform I/O on behalf of a different request"), so the LocalQuota shared by a
   * tenant's requests must ask through the current caller's stub, never the first request's.
   */
  useCapability(cap: TenantQuotaCapability): void {
    this.cap = cap;
  }

  /** Resolves when there is budget to run a request; throws 53400 when the tenant has none. */
  async admit(): Promise<void> {
    if (this.balanceRu > 0 && this.nowMs() < this.validUntilMs) return;
    this.refreshing ??= this.refresh().finally(() => {
      this.refreshing = null;
    });
    await this.refreshing;
    if (this.balanceRu <= 0) {
      throw new PgError("configuration_limit_exceeded", "request unit quota exhausted for this virtual cluster", {
        hint: "Wait for the quota to refill, or raise the tenant's quota.",
      });
    }
  }

  charge(ru: number): void {
    if (!(ru >= 0)) return;
    this.balanceRu -= ru;
    this.spentSinceGrantRu += ru;
  }

  private async refresh(): Promise<void> {
    const wantRu = Math.max(quotaLimits.grantRuMin, this.spentSinceGrantRu * quotaLimits.grantGrowthFactor);
    const grant = await settleRpc(this.cap.acquire(wantRu, this.spentSinceGrantRu));
    this.grants++;
    this.spentSinceGrantRu = 0;
    // An expired remainder is returned to nobody: grants are small and short-lived by design.
    this.balanceRu = Math.max(0, this.balanceRu) + grant.grantedRu;
    this.validUntilMs = this.nowMs() + grant.validForMs;
  }
}

const byTenant = new Map<string, LocalQuota>();

/**
 * One LocalQuota per tenant in this isolate (inline mode serves several tenants from one isolate),
 * asking through `cap`, the calling request's own capability (see useCapability).
 */
export function localQuotaFor(tenantId: string, cap: TenantQuotaCapability): LocalQuota {
  let q = byTenant.get(tenantId);
  if (!q) {
    q = new LocalQuota(cap);
    byTenant.set(tenantId, q);
  }
  q.useCapability(cap);
  return q;
}
