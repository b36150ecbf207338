// The noisy-neighbour scenario, shared by the e2e suite (noisy-neighbour.test.ts) and `npm run
// bench` (its noisy-neighbour section): a victim tenant does ordinary work while an aggressor
// tenant does one abusive thing at a time, and we record what the victim, the edge's health
// endpoint and the aggressor saw.
//
//   victim     a pg connection through the tunnel runs a point select every 100 ms, and a new
//              connection (login + `select 1`) is opened every second;
//   health     GET / on the edge every 250 ms;
//   aggressor  one entry of `aggressors` below, repeated until its window has passed (at least
//              once to its end), through its own tenant.
//
// Everything goes through the real local stack (storage node, workerd, tunnel); nothing is faked.
import net from "node:net";
import { neonConfig, Client as NeonClient } from "@neondatabase/serverless";
import pg from "pg";
import ws from "ws";
import type { TenantConnection } from "../harness/stack.ts";

/** Latency figures of one kind of request, in milliseconds. */
export interface LatencySummary {
  readonly n: number;
  readonly errors: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** The first few error messages, for the report. */
  readonly errorSamples: readonly string[];
}

export function summarize(samplesMs: readonly number[], errors: readonly string[] = []): LatencySummary {
  const s = [...samplesMs].sort((a, b) => a - b);
  const at = (q: number): number => (s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!);
  return { n: s.length, errors: errors.length, p50: at(0.5), p99: at(0.99), max: s.at(-1) ?? NaN, errorSamples: errors.slice(0, 3) };
}

/** What one recording window saw. */
export interface Observation {
  readonly query: LatencySummary;
  readonly connect: LatencySummary;
  readonly health: LatencySummary;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Keeps a promise from running longer than `ms` (the loser is left to settle on its own). */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** A request that does not answer within this long counts as an error with this latency. */
const probeTimeoutMs = 10_000;

/**
 * The victim's steady work and the health probe, recording into the current window. start() once,
 * then window() around each phase, stop() at the end.
 */
export class Victim {
  private readonly tenant: TenantConnection;
  private readonly healthUrl: string;
  private client: pg.Client | null = null;
  private running = false;
  private loops: Promise<void>[] = [];
  private query: number[] = [];
  private queryErrors: string[] = [];
  private connect: number[] = [];
  private connectErrors: string[] = [];
  private health: number[] = [];
  private healthErrors: string[] = [];

  constructor(tenant: TenantConnection, edgeUrl: string) {
    this.tenant = tenant;
    this.healthUrl = new URL("/", edgeUrl).toString();
  }

  /** Creates the victim's table (100 rows) and starts the three loops. */
  async start(): Promise<void> {
    const c = await this.openClient();
    await c.query("create table if not exists victim_kv (id int primary key, v text)");
    await c.query("insert into victim_kv select g, 'value ' || g from generate_series(1, 100) g on conflict (id) do nothing");
    this.client = c;
    this.running = true;
    this.loops = [this.queryLoop(), this.connectLoop(), this.healthLoop()];
  }

  /**
   * Connections the query loop lost ("HH:MM:SS.mmm message"), over the whole run: a victim losing
   * its session to another tenant's aggressor is an isolation failure of its own.
   */
  readonly lostConnections: string[] = [];

  /**
   * The query loop's connection. A lost connection is recorded as an error of the window it happened
   * in (with its message first among the samples, so the report says why) and in lostConnections;
   * the next probe opens a new connection, so one loss fails its own window only, not every
   * aggressor after it.
   */
  private async openClient(): Promise<pg.Client> {
    const c = new pg.Client({ connectionString: this.tenant.pg });
    // A dropped connection is recorded, not an unhandled error event that would end the test process.
    c.on("error", (err) => {
      const line = `${new Date().toISOString().slice(11, 23)} ${err.message}`;
      this.lostConnections.push(line);
      this.queryErrors.unshift(`connection lost: ${line}`);
      if (this.client === c) this.client = null;
    });
    c.on("end", () => {
      if (this.client === c) this.client = null;
    });
    await c.connect();
    return c;
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    await this.client?.end().catch(() => undefined);
    this.client = null;
  }

  /** Clears the recordings; the next take() reports what happened from now on. */
  reset(): void {
    this.query = [];
    this.queryErrors = [];
    this.connect = [];
    this.connectErrors = [];
    this.health = [];
    this.healthErrors = [];
  }

  take(): Observation {
    const o = {
      query: summarize(this.query, this.queryErrors),
      connect: summarize(this.connect, this.connectErrors),
      health: summarize(this.health, this.healthErrors),
    };
    this.reset();
    return o;
  }

  /** Runs `fn` every `periodMs` (from start to start; a slow call delays the next one, as a real client would be). */
  private async every(periodMs: number, fn: () => Promise<void>): Promise<void> {
    while (this.running) {
      const started = performance.now();
      await fn();
      const left = periodMs - (performance.now() - started);
      if (left > 0) await sleep(left);
    }
  }

  private async timed(fn: () => Promise<unknown>, ok: number[], errors: string[]): Promise<void> {
    const t0 = performance.now();
    try {
      await within(fn(), probeTimeoutMs, "probe");
      ok.push(performance.now() - t0);
    } catch (err) {
      ok.push(performance.now() - t0);
      errors.push(err instanceof Error ? `${(err as { code?: string }).code ?? ""} ${err.message}`.trim() : String(err));
    }
  }

  private queryLoop(): Promise<void> {
    let id = 0;
    return this.every(100, async () => {
      id = (id % 100) + 1;
      await this.timed(async () => {
        if (this.client === null) this.client = await this.openClient();
        const c = this.client;
        let r: pg.QueryResult;
        try {
          r = await c.query("select v from victim_kv where id = $1", [id]);
        } catch (err) {
          // No SQLSTATE: the connection itself failed (node-postgres then refuses every later query
          // with "Client has encountered a connection error and is not queryable").
          if (typeof (err as { code?: unknown }).code !== "string" && this.client === c) {
            this.lostConnections.push(`${new Date().toISOString().slice(11, 23)} ${err instanceof Error ? err.message : String(err)}`);
            this.client = null;
            void c.end().catch(() => undefined);
          }
          throw err;
        }
        if (r.rows.length !== 1) throw new Error(`point select returned ${r.rows.length} rows`);
      }, this.query, this.queryErrors);
    });
  }

  private connectLoop(): Promise<void> {
    return this.every(1000, async () => {
      await this.timed(async () => {
        const c = new pg.Client({ connectionString: this.tenant.pg });
        c.on("error", () => undefined);
        try {
          await c.connect();
          await c.query("select 1");
        } finally {
          await c.end().catch(() => undefined);
        }
      }, this.connect, this.connectErrors);
    });
  }

  private healthLoop(): Promise<void> {
    return this.every(250, async () => {
      await this.timed(async () => {
        const res = await fetch(this.healthUrl, { signal: AbortSignal.timeout(probeTimeoutMs) });
        await res.text();
        if (!res.ok) throw new Error(`GET / answered ${res.status}`);
      }, this.health, this.healthErrors);
    });
  }
}

/** What the aggressor got: SQLSTATEs (or "ok") with counts, and its longest single attempt. */
export interface AggressorOutcome {
  readonly outcomes: Record<string, number>;
  readonly attempts: number;
  readonly longestMs: number;
}

export interface AggressorEnv {
  readonly tenant: TenantConnection;
  /** The edge's base URL (for /sql and /v2). */
  readonly edgeUrl: string;
  /** The tunnel's port. */
  readonly tunnelPort: number;
}

export interface Aggressor {
  readonly name: string;
  /** The SQL or action, as printed in the report. */
  readonly what: string;
  /** How long one attempt may take before it must have ended (its bound plus slack). */
  readonly attemptBoundMs: number;
  /** One attempt: resolves with the outcomes it saw (SQLSTATE or "ok" → count). */
  attempt(env: AggressorEnv): Promise<Record<string, number>>;
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : `no SQLSTATE: ${err instanceof Error ? err.message : String(err)}`;
}

/** Runs one statement through the tunnel on a fresh connection, discarding rows as they arrive. */
async function tunnelStatement(env: AggressorEnv, sql: string): Promise<Record<string, number>> {
  const c = new pg.Client({ connectionString: env.tenant.pg });
  c.on("error", () => undefined);
  await c.connect();
  try {
    const q = new pg.Query(sql);
    // A 'row' listener and no callback: node-postgres does not keep the rows (an unbounded result streams through).
    q.on("row", () => undefined);
    await new Promise<void>((resolve, reject) => {
      q.on("end", () => resolve());
      q.on("error", reject);
      c.query(q);
    });
    return { ok: 1 };
  } catch (err) {
    return { [codeOf(err)]: 1 };
  } finally {
    await c.end().catch(() => undefined);
  }
}

function add(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/** Seconds an aggressor floods for when its attempts are a steady load rather than one statement. */
const floodMs = 8_000;

async function httpFlood(env: AggressorEnv, concurrency: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const until = performance.now() + floodMs;
  const url = new URL("/sql", env.edgeUrl).toString();
  const worker = async (): Promise<void> => {
    while (performance.now() < until) {
      try {
        const res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", "neon-connection-string": env.tenant.pg },
          body: JSON.stringify({ query: "select count(*) from generate_series(1, 20000)", params: [] }),
          signal: AbortSignal.timeout(30_000),
        });
        const body = (await res.json()) as { code?: string };
        add(out, { [res.ok ? "ok" : codeOf(body)]: 1 });
      } catch (err) {
        add(out, { [codeOf(err)]: 1 });
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

async function webSocketSessions(env: AggressorEnv, count: number): Promise<Record<string, number>> {
  neonConfig.webSocketConstructor = ws;
  const u = new URL(env.edgeUrl);
  neonConfig.wsProxy = () => `${u.host}/v2`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.forceDisablePgSSL = true;
  neonConfig.pipelineConnect = "password";
  const out: Record<string, number> = {};
  const clients: NeonClient[] = [];
  await Promise.all(
    Array.from({ length: count }, async () => {
      const c = new NeonClient({ connectionString: env.tenant.pg.replace("?sslmode=disable", "") });
      c.on("error", () => undefined);
      try {
        await c.connect();
        await c.query("select 1");
        clients.push(c);
        add(out, { ok: 1 });
      } catch (err) {
        add(out, { [codeOf(err)]: 1 });
      }
    }),
  );
  await sleep(floodMs);
  await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  return out;
}

async function idleTunnelSockets(env: AggressorEnv, count: number): Promise<Record<string, number>> {
  const sockets: net.Socket[] = [];
  let opened = 0;
  let closedByServer = 0;
  await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<void>((resolve) => {
          const s = net.connect(env.tunnelPort, "127.0.0.1");
          s.on("connect", () => {
            opened++;
            resolve();
          });
          s.on("error", () => resolve());
          s.on("close", () => {
            closedByServer++;
            resolve();
          });
          sockets.push(s);
        }),
    ),
  );
  await sleep(floodMs);
  for (const s of sockets) s.destroy();
  return { opened, "closed by the tunnel": closedByServer };
}

/** The aggressors of issue 7's acceptance list, in order. */
export function aggressors(statementTimeoutMs: number): Aggressor[] {
  // A statement that can only end at the default statement_timeout gets that bound plus slack for
  // the error to travel back (and a loaded 2-core machine).
  const unbounded = statementTimeoutMs + 5_000;
  const sql = (name: string, text: string, attemptBoundMs: number, shown = text): Aggressor => ({
    name,
    what: shown,
    attemptBoundMs,
    attempt: (env) => tunnelStatement(env, text),
  });
  const unionAll = `select count(*) from (${Array.from({ length: 10_000 }, () => "select 1").join(" union all ")}) s`;
  return [
    sql("backtracking regex", `select 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!' ~ '^(a+)+$'`, 5_000),
    sql("count(*) over 1e10 rows", "select count(*) from generate_series(1, 1e10)", unbounded),
    sql("select g over 1e10 rows", "select g from generate_series(1, 1e10) g", unbounded),
    sql("1e5 × 1e5 cross join", "select count(*) from generate_series(1, 100000) a, generate_series(1, 100000) b", unbounded),
    sql("count(distinct) over 1e7 rows", "select count(distinct g::text) from generate_series(1, 10000000) g", unbounded),
    sql("10,000-way UNION ALL", unionAll, 20_000, "select count(*) from (select 1 union all … ×10,000) s"),
    sql("string_agg of 2 GB", "select length(string_agg(repeat('x', 1000), '')) from generate_series(1, 2100000)", unbounded),
    { name: "200 concurrent /sql requests", what: "200 clients loop POST /sql (count over 20,000 rows) for 8 s", attemptBoundMs: floodMs + 40_000, attempt: (env) => httpFlood(env, 200) },
    { name: "500 logged-in WebSockets", what: "500 @neondatabase/serverless Clients on /v2, held 8 s", attemptBoundMs: floodMs + 60_000, attempt: (env) => webSocketSessions(env, 500) },
    { name: "1,000 idle tunnel sockets", what: "1,000 TCP connections to the tunnel that send nothing, held 8 s", attemptBoundMs: floodMs + 20_000, attempt: (env) => idleTunnelSockets(env, 1000) },
  ];
}

/** Repeats `a` until `windowMs` has passed (at least once), each attempt checked against its bound. */
export async function runAggressor(a: Aggressor, env: AggressorEnv, windowMs: number): Promise<AggressorOutcome> {
  const outcomes: Record<string, number> = {};
  const until = performance.now() + windowMs;
  let attempts = 0;
  let longestMs = 0;
  do {
    const t0 = performance.now();
    try {
      add(outcomes, await within(a.attempt(env), a.attemptBoundMs, `${a.name}`));
    } catch (err) {
      add(outcomes, { [`did not end: ${err instanceof Error ? err.message : String(err)}`]: 1 });
    }
    longestMs = Math.max(longestMs, performance.now() - t0);
    attempts++;
  } while (performance.now() < until);
  return { outcomes, attempts, longestMs };
}

export function formatMs(ms: number): string {
  return Number.isFinite(ms) ? `${ms.toFixed(ms < 10 ? 1 : 0)} ms` : "–";
}
