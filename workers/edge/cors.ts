// CORS for the endpoints a browser uses (POST /sql, GET /, and the WebSocket's Origin check), as
// Neon's HTTP API does it, so a page on another origin can run `neon()`:
//
// - A preflight (OPTIONS) is answered at once, without a tenant: it carries no credentials, so
//   the tenant (and its allowed origins) is unknown until the real request. It allows the methods
//   and the request headers @neondatabase/serverless sends (Neon-Connection-String,
//   Neon-Raw-Text-Output, Neon-Array-Mode, Neon-Batch-*, Authorization for its authToken option)
//   plus Warren-Transaction, and may be cached for limits.corsMaxAgeSeconds.
// - Every response of those endpoints, errors included, says which origin may read it: the
//   request's own origin (Vary: Origin), or `*` without one. Exposed headers: Warren-Transaction
//   (the HTTP transaction handle) and Retry-After.
// - A tenant's allowedOrigins setting (empty: any) is checked on the real request after the
//   tenant is known (checkOrigin): a page from another origin gets 42501 with a message it can
//   read. No cookies are used (credentials travel in headers), so Allow-Credentials is never sent.
//   CORS protects browsers' users; requests without an Origin header (servers, psql) are not
//   browsers and are not restricted by it.
import { PgError } from "../../common/errors.ts";
import { originAllowed } from "../../durable-objects/directory/origin.ts";
import type { Route } from "../../durable-objects/router/tenant-router.ts";
import { limits } from "./limits.ts";
import { TXN_HANDLE_HEADER } from "./txn-handle.ts";

export const CORS_ALLOW_HEADERS = [
  "Neon-Connection-String",
  "Neon-Raw-Text-Output",
  "Neon-Array-Mode",
  "Neon-Batch-Isolation-Level",
  "Neon-Batch-Read-Only",
  "Neon-Batch-Deferrable",
  "Neon-Pool-Opt-In",
  "Authorization",
  "Content-Type",
  TXN_HANDLE_HEADER,
] as const;

export const CORS_EXPOSE_HEADERS = [TXN_HANDLE_HEADER, "Retry-After"] as const;

/** The answer to a preflight request (any path the browser asks about; unknown paths fail on the real request). */
export function preflightResponse(request: Request): Response {
  const headers = corsHeaders(request.headers.get("origin"));
  headers.set("access-control-allow-methods", "GET, POST, OPTIONS");
  headers.set("access-control-allow-headers", CORS_ALLOW_HEADERS.join(", "));
  headers.set("access-control-max-age", String(limits.corsMaxAgeSeconds));
  return new Response(null, { status: 204, headers });
}

function corsHeaders(origin: string | null): Headers {
  const headers = new Headers();
  headers.set("access-control-allow-origin", origin ?? "*");
  if (origin !== null) headers.set("vary", "Origin");
  headers.set("access-control-expose-headers", CORS_EXPOSE_HEADERS.join(", "));
  return headers;
}

/** `res` with the CORS headers for a request from `origin` (a WebSocket upgrade is returned as is). */
export function withCors(res: Response, origin: string | null): Response {
  if (res.status === 101) return res;
  const headers = new Headers(res.headers);
  for (const [k, v] of corsHeaders(origin)) headers.set(k, v);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

/** Refuses a browser request from an origin the tenant does not allow (42501). */
export function checkOrigin(route: Route, origin: string | null | undefined): void {
  if (origin === null || origin === undefined) return;
  const allowed = route.allowedOrigins ?? [];
  if (originAllowed(allowed, origin)) return;
  throw new PgError("insufficient_privilege", `origin ${JSON.stringify(origin)} is not allowed to use virtual cluster "${route.name}"`, {
    hint: `Its allowed origins are ${allowed.join(", ")}; an operator can change them: warren tenant alter ${route.name} --allow-origins ORIGIN[,ORIGIN…]|any`,
  });
}
