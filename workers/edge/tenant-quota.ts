// TenantQuota: the gateway's handle on its tenant's QuotaBucket. Like TenantKV, the tenant comes
// from props only, so a gateway can neither spend nor inspect another tenant's quota.
import { WorkerEntrypoint } from "cloudflare:workers";
import { quotaBucketFor } from "../../durable-objects/env.ts";
import type { QuotaGrant, QuotaRequest, TenantQuotaCapability } from "../gateway/env.ts";
import type { EdgeEnv, TenantProps } from "./env.ts";
import { settleRpc } from "../../common/rpc.ts";

export class TenantQuota extends WorkerEntrypoint<EdgeEnv, TenantProps> implements TenantQuotaCapability {
  async acquire(request: QuotaRequest): Promise<QuotaGrant> {
    const tenantId = this.ctx.props.tenantId;
    const delayMs = Number(this.env.FAULT_QUOTA_GRANT_DELAY_MS ?? 0);
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    return settleRpc(quotaBucketFor(this.env, tenantId).acquire(request, tenantId));
  }
}
