// The failed-login throttle of one tenant, per client address (held by its TenantRouter, in memory):
//
//   - the first loginFailuresFree (3) wrong passwords in a row cost nothing (typos); after k ≥ 3,
//     the address's next attempt is refused (28000, before any password is checked) until
//     lastFailure + min(1 s × 2^(k-3), loginBackoffMaxMs): 1 s, 2 s, 4 s, … so a guesser's rate
//     halves with every further wrong guess;
//   - an address that has logged in successfully (within loginSuccessMemoryMs) is never throttled:
//     an office behind the same NAT as a guesser keeps working, and a client that knows the
//     password is not slowed by someone else's mistakes;
//   - other addresses are not affected at all: the right password from Y is never refused because
//     X guessed wrong (the per-tenant window this replaces locked every address out).
// A success clears the address's failures. The unknown address ("", no CF-Connecting-IP and no
// signed tunnel header) is one address like any other.
//
// Bounded: at most loginAddressesTrackedMax addresses of each kind; the oldest is forgotten first
// (forgetting a failure merely shortens a backoff; forgetting a success makes that address
// throttle-able again until its next success).
import { limits } from "../limits.ts";

interface Failures {
  count: number;
  lastMs: number;
}

export class LoginThrottle {
  private readonly failures = new Map<string, Failures>();
  private readonly successes = new Map<string, number>();
  private readonly nowMs: () => number;

  constructor(nowMs: () => number = Date.now) {
    this.nowMs = nowMs;
  }

  /** When `address` may try again (ms since the epoch), or null when it may now. */
  retryAtMs(address: string): number | null {
    const now = this.nowMs();
    const ok = this.successes.get(address);
    if (ok !== undefined && now - ok < limits.loginSuccessMemoryMs) return null;
    const f = this.failures.get(address);
    if (f === undefined) return null;
    const at = f.lastMs + backoffMs(f.count);
    return at > now ? at : null;
  }

  /** Records a wrong password from `address`; returns when it may try again (null: at once). */
  failed(address: string): number | null {
    const now = this.nowMs();
    const f = this.failures.get(address) ?? { count: 0, lastMs: now };
    f.count = Math.min(f.count + 1, 64);
    f.lastMs = now;
    bounded(this.failures, address, f);
    return this.retryAtMs(address);
  }

  /** Records a successful login from `address`. */
  succeeded(address: string): void {
    this.failures.delete(address);
    bounded(this.successes, address, this.nowMs());
  }

  /** Forgets everything (a new password). */
  reset(): void {
    this.failures.clear();
    this.successes.clear();
  }
}

/** The wait after `count` consecutive failures. */
export function backoffMs(count: number): number {
  if (count < limits.loginFailuresFree) return 0;
  return Math.min(limits.loginBackoffFirstMs * 2 ** Math.min(count - limits.loginFailuresFree, 30), limits.loginBackoffMaxMs);
}

/** Sets key → value as the newest entry, forgetting the oldest past the bound. */
function bounded<V>(m: Map<string, V>, key: string, value: V): void {
  m.delete(key);
  m.set(key, value);
  while (m.size > limits.loginAddressesTrackedMax) m.delete(m.keys().next().value!);
}
