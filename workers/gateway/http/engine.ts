// Where the HTTP API gets a SQL session for its tenant.
import { PgError } from "../../../common/errors.ts";
import type { GatewayEnv } from "../env.ts";
import type { SqlSession } from "../sql/result.ts";

export function newSessionFor(_env: GatewayEnv): SqlSession {
  return {
    async execute() {
      throw new PgError("feature_not_supported", "the SQL engine is not wired into the gateway yet");
    },
  };
}
