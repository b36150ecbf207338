// Web origins (RFC 6454) as a tenant's allowedOrigins setting stores them and as the edge compares
// them with a browser's Origin header: `scheme://host[:port]`, http or https, lower case, the
// scheme's default port left out (what `URL.origin` gives), so one origin has one spelling.

/** The canonical form of an origin, or the reason it is not one. */
export function parseOrigin(text: unknown): { origin: string } | { problem: string } {
  if (typeof text !== "string") return { problem: `an origin must be a string, got ${JSON.stringify(text)}` };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { problem: `${JSON.stringify(text)} is not an origin (scheme://host[:port])` };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return { problem: `${JSON.stringify(text)}: only http and https origins exist for browsers' requests` };
  if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "" || !/^[a-z]+:\/\/[^/]*\/?$/i.test(text)) {
    return { problem: `${JSON.stringify(text)} has more than scheme://host[:port] (an origin has no path, query or user)` };
  }
  return { origin: url.origin };
}

/** Whether a request's Origin header is one of `allowed` (empty: any origin). */
export function originAllowed(allowed: readonly string[], origin: string): boolean {
  if (allowed.length === 0) return true;
  const o = parseOrigin(origin);
  return "origin" in o && allowed.includes(o.origin);
}
