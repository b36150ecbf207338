// The system virtual cluster's credentials: its password is the admin token (ADMIN_TOKEN), so an
// operator connects with `psql "postgresql://admin:$ADMIN_TOKEN@HOST:PORT/system"`. The SCRAM
// verifier is derived from the token once per edge isolate (a fresh random salt; PBKDF2 4096
// iterations, ~10 ms) and kept in memory only, like a tenant's cached verifier.
import { PgError } from "../../../common/errors.ts";
import { SYSTEM_TENANT_ID } from "../../../common/tenant-prefix.ts";
import { secretOf } from "../../../durable-objects/env.ts";
import { limits as controlLimits } from "../../../durable-objects/limits.ts";
import { makeVerifier } from "../../../durable-objects/router/scram.ts";
import type { Credentials } from "../pgwire/credential-cache.ts";
import type { EdgeEnv } from "../env.ts";
import { SYSTEM_CLUSTER_NAME } from "../tenant-identity.ts";

let cached: { token: string; creds: Promise<Credentials> } | null = null;

export function systemCredentials(env: EdgeEnv): Promise<Credentials> {
  const token = secretOf(env as unknown as Record<string, unknown>, "ADMIN_TOKEN");
  if ("missing" in token) return Promise.reject(new PgError("config_file_error", `the system virtual cluster is disabled: ${token.missing}`));
  if (cached === null || cached.token !== token.value) {
    cached = {
      token: token.value,
      creds: makeVerifier(token.value).then((verifier) => ({
        route: { tenantId: SYSTEM_TENANT_ID, name: SYSTEM_CLUSTER_NAME, ttlMs: controlLimits.routeTtlMs, maxConnections: null, allowedCidrs: [] },
        verifier,
      })),
    };
  }
  return cached.creds;
}
