// POST /sql for one tenant: what the gateway runs for a /sql request, whether it came as a fetch
// (inline mode, and the fetch entry kept for callers that send one) or as an RPC call with the
// request's own KV channel (loader mode, sql-entrypoint.ts). `env.KV` is whatever capability the
// caller handed over: in loader mode the edge's per-request channel, else the TenantKV entrypoint.
import type { GatewayEnv } from "./env.ts";
import { newSessionFor } from "./http/engine.ts";
import { localQuotaFor } from "./quota/local-quota.ts";
import { handleSql } from "./http/sql-handler.ts";
import { InteractiveTxn } from "./http/interactive-txn.ts";
import { capabilityTransport, KvClient } from "./kv/kv-client.ts";
import { TimedKv } from "./http/kv-timing.ts";

export async function serveSql(request: Request, env: GatewayEnv, ctx: ExecutionContext | undefined): Promise<Response> {
  const quota = localQuotaFor(env.TENANT_ID, env.QUOTA);
  // The end records' reads and writes (interactive-txn.ts) are charged like the session's.
  const kv = new KvClient(capabilityTransport(env.KV));
  kv.onUsage = (u) => quota.chargeKv(u);
  // Grant requests go through this request's own capability (see LocalQuota.admit).
  const gate = { admit: () => quota.admit(env.QUOTA), chargeEgress: (bytes: number) => quota.chargeEgress(bytes), countHttpRequest: () => quota.countHttpRequest() };
  // The session's KV round trips are timed for the response's Server-Timing (`kv`).
  const timedKv = new TimedKv(env.KV);
  const res = await handleSql(request, () => newSessionFor({ ...env, KV: timedKv }, request, quota), gate, () => InteractiveTxn.fromRequest(request, kv, Number(env.TENANT_ID)));
  if (timedKv.calls > 0) res.headers.append("server-timing", `kv;dur=${timedKv.waitedMs}`);
  // The request's usage reaches the bucket even if the tenant sends nothing more (limits.ts usageFlushMs).
  const flush = quota.flushLater(env.QUOTA);
  if (flush !== null) ctx?.waitUntil(flush);
  return res;
}
