// The edge isolate's copy of the deny list (durable-objects/directory/deny-list.ts), refreshed from
// the TenantDirectory at most every limits.denyListTtlMs, so a new connection costs no directory
// call. When a refresh brings new entries, the live work they match here is ended (activity.ts).
import { PgError } from "../../common/errors.ts";
import { denial, EMPTY_DENY_LIST, type DenyList } from "../../durable-objects/directory/deny-list.ts";
import { limits } from "./limits.ts";

export class DenyCache {
  private list: DenyList = EMPTY_DENY_LIST;
  private fetchedAtMs = -Infinity;
  private inflight: Promise<void> | null = null;
  private readonly load: () => Promise<DenyList>;
  private readonly onChange: (list: DenyList) => void;
  private readonly nowMs: () => number;

  constructor(load: () => Promise<DenyList>, onChange: (list: DenyList) => void, nowMs: () => number = Date.now) {
    this.load = load;
    this.onChange = onChange;
    this.nowMs = nowMs;
  }

  /** Throws 28000 when a client of `tenant` at `address` is denied. */
  async check(tenant: string, address: string): Promise<void> {
    await this.fresh();
    const why = denial(this.list, tenant, address);
    if (why !== null) throw new PgError("invalid_authorization_specification", why, { hint: "An operator can remove the entry: warren deny remove …" });
  }

  /** Takes a list just written through this isolate (no wait for the TTL). */
  set(list: DenyList): void {
    this.list = list;
    this.fetchedAtMs = this.nowMs();
    this.onChange(list);
  }

  current(): DenyList {
    return this.list;
  }

  private async fresh(): Promise<void> {
    if (this.nowMs() - this.fetchedAtMs < limits.denyListTtlMs) return;
    this.inflight ??= this.load()
      .then((list) => this.set(list))
      .finally(() => (this.inflight = null));
    await this.inflight;
  }
}
