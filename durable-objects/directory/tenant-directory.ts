// TenantDirectory: the one system object. It allocates tenant ids (1 is the system tenant, users
// start at 2), keeps every tenant's name, state and settings, and drives the two operations that
// span several parts:
//
//   create: allocate id → record "creating" → TenantRouter.initialize → record "active"
//   drop:   record "dropping" → TenantRouter "dropping" (the edge stops routing within one route
//           TTL) → storage node drops the tenant's key span (system token) → TenantRouter
//           "dropped" → record "dropped"
//
// Each step is idempotent and the record says how far an operation got, so a create or drop
// that failed midway is finished by simply repeating it. A drop also finishes by itself: while any
// entry is "dropping", the directory keeps an alarm that repeats the drop (with backoff), and a
// directory that starts (after a crash, say) sets that alarm if it finds one.
import { DurableObject } from "cloudflare:workers";
import { SYSTEM_TENANT_ID } from "../../common/tenant-prefix.ts";
import { mintTenantToken } from "../../common/tenant-token.ts";
import { quotaBucketFor, routerFor, secretOf, storageUrl, type ControlEnv } from "../env.ts";
import { applySettingsPatch, parseSettingsPatch, settingsOf, type TenantSettings } from "./tenant-settings.ts";
import { limits } from "../limits.ts";
import { EMPTY_DENY_LIST, parseDenyEntry, withEntry, withoutEntry, type DenyList } from "./deny-list.ts";
import { passwordProblem } from "../router/tenant-router.ts";
import { isTenantName } from "../tenant-name.ts";
import { fail, ok, type Result } from "../wire-error.ts";
import { settleRpc } from "../../common/rpc.ts";

export type DirectoryState = "creating" | "active" | "suspended" | "dropping" | "dropped";

export interface DirectoryEntry {
  name: string;
  id: number;
  state: DirectoryState;
  createdAtMs: number;
  /** Per-tenant settings as stored (tenant-settings.ts; settingsOf fills in the defaults); `{}` until one is set. */
  settings: Partial<TenantSettings>;
}

export interface CreatedTenant {
  name: string;
  id: number;
  password: string;
  /**
   * The SCRAM verifier the router stored (when this create initialized it), for the edge's
   * credential cache only: TenantOperations.create keeps it out of every answer to a client.
   */
  verifier?: string;
}

const NEXT_ID_KEY = "next-id";
const DENY_KEY = "deny-list";
const FIRST_USER_TENANT_ID = SYSTEM_TENANT_ID + 1;
const entryKey = (name: string) => `t:${name}`;

export class TenantDirectory extends DurableObject<ControlEnv> {
  /** Consecutive alarm runs that could not finish every drop (backoff of the next one). */
  private dropRetries = 0;

  constructor(ctx: DurableObjectState, env: ControlEnv) {
    super(ctx, env);
    // A drop left midway (the storage node was down, the object was evicted or crashed): make sure
    // an alarm will finish it, without waiting for an operator.
    void ctx.blockConcurrencyWhile(async () => {
      if ((await this.unfinishedDrops()).length > 0 && (await ctx.storage.getAlarm()) === null) {
        await ctx.storage.setAlarm(Date.now() + limits.dropRetryFirstMs);
      }
    });
  }

  private async unfinishedDrops(): Promise<DirectoryEntry[]> {
    const rows = await this.ctx.storage.list<DirectoryEntry>({ prefix: "t:", limit: limits.tenantsListedMax });
    return [...rows.values()].filter((e) => e.state === "dropping");
  }

  /** Finishes every drop left in "dropping"; reschedules itself (with backoff) while one fails. */
  override async alarm(): Promise<void> {
    let left = 0;
    for (const entry of await this.unfinishedDrops()) {
      const r = await this.finishDrop(entry);
      if (!r.ok) {
        left++;
        console.warn(`directory: drop of "${entry.name}" not finished yet: ${r.error.message}`);
      }
    }
    if (left === 0) {
      this.dropRetries = 0;
      return;
    }
    this.dropRetries++;
    const delayMs = Math.min(limits.dropRetryFirstMs * 2 ** Math.min(this.dropRetries, 16), limits.dropRetryMaxMs);
    await this.ctx.storage.setAlarm(Date.now() + delayMs);
  }
  async create(name: string, password?: string | null): Promise<Result<CreatedTenant>> {
    if (typeof name !== "string" || !isTenantName(name)) {
      return fail("invalid_name", `invalid virtual cluster name ${JSON.stringify(name)}`, {
        hint: "Use 1 to 63 characters: lowercase letters, digits and hyphens, starting with a letter.",
      });
    }
    const pw = password ?? generatePassword();
    const bad = passwordProblem(pw);
    if (bad) return fail("invalid_parameter_value", bad);

    const existing = await this.ctx.storage.get<DirectoryEntry>(entryKey(name));
    if (existing && existing.state !== "dropped" && existing.state !== "creating") {
      return fail("duplicate_database", `virtual cluster "${name}" already exists`);
    }
    // A "creating" entry is an earlier attempt that stopped midway: finish it with the same id.
    const id = existing?.state === "creating" ? existing.id : await this.allocateId();
    const entry: DirectoryEntry = { name, id, state: "creating", createdAtMs: Date.now(), settings: {} };
    await this.ctx.storage.put(entryKey(name), entry);

    const router = routerFor(this.env, name);
    // The QuotaBucket is not called: a bucket that has never been configured applies the defaults
    // (quota-config.ts defaultQuotaConfig), and the tenant's name only appears in refusals that the
    // defaults never make (a spend limit, a zero rate), so a new tenant's first query needs nothing
    // from it; the bucket object comes into being with the tenant's first grant request. Settings
    // other than the defaults reach it through alterSettings (configureBucket, with the name).
    // Measured on the local stack: configuring it here cost every create a second new Durable
    // Object (its SQLite file, a storage write) and ~4 ms of workerd CPU, for nothing a client sees.
    const init = await settleRpc(router.initialize(id, name, pw));
    if (!init.ok) {
      const info = init.error.condition === "duplicate_database" ? await settleRpc(router.describe()) : null;
      // The router already holds this very id: an earlier attempt got that far. Anything else is a real refusal.
      if (!info || info.tenantId !== id) return init;
      const again = await settleRpc(router.setPassword(pw));
      if (!again.ok) return again;
    }
    // A new tenant's connection limits are the defaults the route already has: nothing to push.
    entry.state = "active";
    await this.ctx.storage.put(entryKey(name), entry);
    return ok(init.ok ? { name, id, password: pw, verifier: init.value.verifier } : { name, id, password: pw });
  }

  /**
   * Changes a tenant's settings (tenant-settings.ts): the whole patch is validated first (22023,
   * nothing changed), then stored here, then applied by the QuotaBucket and the TenantRouter. If
   * applying fails midway the directory already holds the new settings; repeating the alter
   * applies them again.
   */
  async alterSettings(name: string, patch: Record<string, unknown>): Promise<Result<DirectoryEntry>> {
    const parsed = parseSettingsPatch(patch);
    if (!parsed.ok) return parsed;
    const found = await this.get(name);
    if (!found.ok) return found;
    const entry = found.value;
    if (entry.state === "creating" || entry.state === "dropping") {
      return fail("object_not_in_prerequisite_state", `virtual cluster "${name}" is ${entry.state}`, {
        hint: `Repeat the ${entry.state === "creating" ? "create" : "drop"} to finish it first.`,
      });
    }
    entry.settings = applySettingsPatch(settingsOf(entry.settings), parsed.value);
    await this.ctx.storage.put(entryKey(name), entry);
    const applied = await this.applySettings(entry);
    if (!applied.ok) return applied;
    return ok(entry);
  }

  /** Pushes the entry's settings to the parts that enforce them, both at once (idempotent). */
  private async applySettings(entry: DirectoryEntry): Promise<Result<null>> {
    const s = settingsOf(entry.settings);
    const [bucket, route] = await Promise.all([
      this.configureBucket(entry),
      settleRpc(routerFor(this.env, entry.name).setConnectionLimits({ maxConnections: s.maxConnections, allowedCidrs: s.allowedCidrs, allowedOrigins: s.allowedOrigins })),
    ]);
    if (!bucket.ok) return bucket;
    if (!route.ok) return route;
    return ok(null);
  }

  /** The QuotaBucket's part of the settings (rate, burst, spend limit) and the tenant's name. */
  private async configureBucket(entry: DirectoryEntry): Promise<Result<null>> {
    const s = settingsOf(entry.settings);
    try {
      await settleRpc(
        quotaBucketFor(this.env, entry.id).configure({
          tenantName: entry.name,
          ruPerSecond: s.ruPerSecond,
          burstRu: s.burstRu,
          spendLimitRu: s.spendLimitRu,
          atSpendLimit: s.atSpendLimit,
        }),
      );
      return ok(null);
    } catch (err) {
      return fail("system_error", `could not apply the quota settings of "${entry.name}": ${err instanceof Error ? err.message : String(err)}`, {
        hint: "Repeat the command to apply them.",
      });
    }
  }

  /** The deny list (deny-list.ts). */
  async denyList(): Promise<DenyList> {
    return (await this.ctx.storage.get<DenyList>(DENY_KEY)) ?? EMPTY_DENY_LIST;
  }

  /** Adds (`deny` true) or removes an entry; returns the new list. */
  async changeDenyList(body: Record<string, unknown>, deny: boolean): Promise<Result<DenyList>> {
    const entry = parseDenyEntry(body);
    if (!entry.ok) return entry;
    const current = await this.denyList();
    const next = deny ? withEntry(current, entry.value) : ok(withoutEntry(current, entry.value));
    if (!next.ok) return next;
    await this.ctx.storage.put(DENY_KEY, next.value);
    return next;
  }

  async get(name: string): Promise<Result<DirectoryEntry>> {
    const entry = typeof name === "string" ? await this.ctx.storage.get<DirectoryEntry>(entryKey(name)) : undefined;
    if (!entry || entry.state === "dropped") return fail("invalid_catalog_name", `virtual cluster "${name}" does not exist`);
    return ok(entry);
  }

  /** Every tenant that is not dropped, by name. */
  async list(): Promise<DirectoryEntry[]> {
    const rows = await this.ctx.storage.list<DirectoryEntry>({ prefix: "t:", limit: limits.tenantsListedMax });
    return [...rows.values()].filter((e) => e.state !== "dropped");
  }

  async setState(name: string, state: "active" | "suspended"): Promise<Result<DirectoryEntry>> {
    const found = await this.get(name);
    if (!found.ok) return found;
    const entry = found.value;
    if (entry.state === "creating" || entry.state === "dropping") {
      return fail("object_not_in_prerequisite_state", `virtual cluster "${name}" is ${entry.state}`, {
        hint: `Repeat the ${entry.state === "creating" ? "create" : "drop"} to finish it first.`,
      });
    }
    const r = await settleRpc(routerFor(this.env, name).setState(state));
    if (!r.ok) return r;
    entry.state = state;
    await this.ctx.storage.put(entryKey(name), entry);
    return ok(entry);
  }

  async drop(name: string): Promise<Result<DirectoryEntry>> {
    const found = await this.get(name);
    if (!found.ok) return found;
    const entry = found.value;
    if (entry.state !== "dropping") {
      entry.state = "dropping";
      await this.ctx.storage.put(entryKey(name), entry);
    }
    const done = await this.finishDrop(entry);
    if (!done.ok && (await this.ctx.storage.getAlarm()) === null) {
      // The alarm repeats the drop until the storage node has deleted the span.
      await this.ctx.storage.setAlarm(Date.now() + limits.dropRetryFirstMs);
    }
    return done;
  }

  /** The steps of a drop after the entry says "dropping"; each is idempotent. */
  private async finishDrop(entry: DirectoryEntry): Promise<Result<DirectoryEntry>> {
    const router = routerFor(this.env, entry.name);
    const marked = await settleRpc(router.setState("dropping"));
    // Already dropped (a drop that got past the router step), or a router that never knew it.
    if (!marked.ok && marked.error.condition !== "invalid_catalog_name" && marked.error.condition !== "object_not_in_prerequisite_state") return marked;

    const dropped = await this.dropSpan(entry.id);
    if (!dropped.ok) return dropped;
    const gone = await settleRpc(router.setState("dropped"));
    if (!gone.ok && gone.error.condition !== "invalid_catalog_name") return gone;
    entry.state = "dropped";
    await this.ctx.storage.put(entryKey(entry.name), entry);
    return ok(entry);
  }

  private async allocateId(): Promise<number> {
    const next = (await this.ctx.storage.get<number>(NEXT_ID_KEY)) ?? FIRST_USER_TENANT_ID;
    await this.ctx.storage.put(NEXT_ID_KEY, next + 1);
    return next;
  }

  /** Asks the storage node to delete the tenant's whole key span, as the system tenant. */
  private async dropSpan(tenantId: number): Promise<Result<null>> {
    const secret = secretOf(this.env as unknown as Record<string, unknown>, "FLEET_SECRET");
    if ("missing" in secret) return fail("config_file_error", secret.missing);
    const token = await mintTenantToken(secret.value, {
      tenantId: SYSTEM_TENANT_ID,
      expiresAtMs: Date.now() + 60_000,
    });
    let res: Response;
    try {
      res = await fetch(storageUrl(this.env, "/v1/admin/drop-tenant"), {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ tenantId }),
        signal: AbortSignal.timeout(limits.storageAdminTimeoutMs),
      });
    } catch (err) {
      return fail("connection_failure", `could not reach the storage node to drop tenant ${tenantId}: ${String(err)}`, {
        hint: "The tenant no longer accepts connections; repeat the drop once the storage node is reachable.",
      });
    }
    if (!res.ok) {
      const text = (await res.text()).slice(0, 500);
      return fail("system_error", `the storage node refused to drop tenant ${tenantId} (HTTP ${res.status}): ${text}`, {
        hint: "The tenant no longer accepts connections; repeat the drop to retry the storage step.",
      });
    }
    await res.body?.cancel();
    return ok(null);
  }
}

/** A strong random password: 32 bytes as base64url (43 characters). */
export function generatePassword(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(limits.generatedPasswordBytes));
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
