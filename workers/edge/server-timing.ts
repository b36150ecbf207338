// Server-Timing (https://www.w3.org/TR/server-timing/) on POST /sql responses: where the request's
// time went at the edge, beside what the gateway reports of its own part (`quota`, `exec`). What the
// edge measured around the gateway minus what the gateway measured inside it is the cost of getting
// into the gateway (a new isolate: module evaluation; a warm one: one loopback call). The figures are
// wall-clock durations between I/O events (workerd advances its clock at I/O only), which is what
// each hop of the cold path is made of; `npm run bench:tenants` prints them split by hop.
//
// Not a secret and not per tenant: durations in milliseconds of the request's own steps.
export class ServerTiming {
  private readonly parts: string[] = [];

  /** Records `name` as the time from `startMs` (a Date.now() taken before the step) to now. */
  since(name: string, startMs: number): void {
    this.parts.push(`${name};dur=${Math.max(0, Date.now() - startMs)}`);
  }

  /** `res` with the edge's parts appended to any Server-Timing the gateway sent. */
  appendTo(res: Response): Response {
    if (this.parts.length === 0) return res;
    const out = new Response(res.body, res);
    out.headers.append("server-timing", this.parts.join(", "));
    return out;
  }
}

/** Parses a Server-Timing header into name → ms (the bench reads it; unknown shapes are skipped). */
export function parseServerTiming(header: string | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of (header ?? "").split(",")) {
    const m = /^\s*([A-Za-z0-9_-]+)\s*;\s*dur=([0-9.]+)\s*$/.exec(part);
    if (m) out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2]);
  }
  return out;
}
