// The comparison table at the top of bench/REPORT.md: Warren's figures from this run's sections next
// to PostgreSQL 15 measured in the same run on the same machine, and next to figures CockroachDB
// Serverless and Neon have published about their own services. Those two are NOT measured here:
// they come from the vendors' documentation and engineering writing (URL beside each), on their
// hardware, across a real network, so they place Warren's local figures in context rather than
// rank it. A cell is "–" where this run did not measure the figure or nothing was published.
import type { PerQueryResult } from "./per-query.ts";
import type { FastPathResult } from "./fast-path.ts";
import type { PgbenchResult } from "./pgbench-tpcb.ts";
import type { ColdResult } from "./cold-start.ts";
import type { TenantsResult } from "./tenants.ts";
import { memoryBounds, type DensityResult } from "./density.ts";
import type { NoisyResult } from "./noisy-neighbour.ts";
import { STORAGE_GOALS, type StorageResult } from "./storage.ts";
import type { SectionReport } from "./report.ts";

export interface AllResults {
  perQuery?: PerQueryResult;
  fastPath?: FastPathResult;
  pgbench?: PgbenchResult;
  cold?: ColdResult;
  tenants?: TenantsResult;
  density?: DensityResult;
  noisy?: NoisyResult;
  storage?: StorageResult;
}

/** A published figure: what it says, and where. */
interface Published {
  readonly text: string;
  readonly source: string;
}

const CRDB_PAPER: Published["source"] =
  "http://muratbuffalo.blogspot.com/2026/01/cockroachdb-serverless-sub-second.html (review of the paper “CockroachDB Serverless: Sub-second Scaling from Zero with Multi-region Cluster Virtualization”)";
const CRDB_FAQ = "https://www.cockroachlabs.com/docs/cockroachcloud/serverless-faqs";
const NEON_LATENCY = "https://neon.com/docs/connect/connection-latency";
const NEON_HTTP_WS = "https://neon.tech/blog/http-vs-websockets-for-postgres-queries-at-the-edge";

const PUBLISHED: Record<string, { crdb?: Published; neon?: Published }> = {
  point: { neon: { text: "~5 ms (second and later queries on a WebSocket connection, from an edge function)", source: NEON_HTTP_WS } },
  connect: { neon: { text: "~37 ms (WebSocket connection + first query, from an edge function)", source: NEON_HTTP_WS } },
  resume: {
    crdb: { text: "< 650 ms (a pre-warmed SQL process bound to the tenant)", source: CRDB_PAPER },
    neon: { text: "“a few hundred milliseconds” (compute activation from idle)", source: NEON_LATENCY },
  },
  create: {
    crdb: { text: "20–30 s (“your cluster will be ready”)", source: CRDB_FAQ },
    neon: { text: "< 1 s (provisioning a database)", source: NEON_HTTP_WS },
  },
};

const ms = (x: number | null | undefined) => (x == null || !Number.isFinite(x) ? "–" : `${x.toFixed(x < 10 ? 2 : 0)} ms`);
const tps = (x: number | null | undefined) => (x == null || !Number.isFinite(x) ? "–" : `${x.toFixed(0)} TPS`);
const ratio = (a: number | null | undefined, b: number | null | undefined) =>
  a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? "–" : `${(a / b).toFixed(a / b < 0.1 ? 3 : 2)}×`;

/**
 * The performance issue's acceptance figures, each beside its goal, from this run's sections (a row
 * is left out when its section did not run). Goals as the issue states them.
 */
function acceptanceRows(r: AllResults): string[] {
  const rows: string[] = [];
  const add = (item: string, figure: string, measured: string, goal: string, met: boolean | null) =>
    rows.push(`| ${item} | ${figure} | ${measured} | ${goal} | ${met === null ? "–" : met ? "met" : "not met"} |`);
  const p50 = (path: string) => r.perQuery?.paths.find((p) => p.path === path)?.pointSelect.p50;
  const http = p50("HTTP");
  if (http !== undefined) add("1", "point select p50 over HTTP", ms(http), "≤ 2 ms", http <= 2);
  const tunnel = p50("tunnel");
  if (tunnel !== undefined) add("1", "point select p50 through the tunnel", ms(tunnel), "≤ 1.5 ms", tunnel <= 1.5);
  const w = r.pgbench?.runs.find((x) => x.target === "warren" && x.script === "select-only" && x.clients === 4)?.tps;
  const p = r.pgbench?.runs.find((x) => x.target === "postgres" && x.script === "select-only" && x.clients === 4)?.tps;
  if (w !== undefined && p !== undefined && p > 0) add("1", "`pgbench -S` at 4 clients, Warren / PostgreSQL", `${(w / p).toFixed(3)}×`, "≥ 0.25×", w / p >= 0.25);
  if (r.cold !== undefined) {
    add("2", "new tenant → first query p50 (p99)", `${ms(r.cold.newTenantFirstQuery.p50)} (${ms(r.cold.newTenantFirstQuery.p99)})`, "≤ 50 ms", r.cold.newTenantFirstQuery.p50 <= 50);
    add("2", "evicted tenant → first query p50", ms(r.cold.evictedFirstQuery.p50), "≤ 30 ms", r.cold.evictedFirstQuery.p50 <= 30);
  }
  if (r.density !== undefined) {
    const d = r.density;
    const ratio = d.active.p50 / d.baseline.p50;
    add("3", `${Math.min(d.options.active, d.tenantsCreated)} active of ${d.tenantsCreated} tenants, p50 / one-tenant stack`, `${ratio.toFixed(2)}×`, "≤ 1.5× (with 10,000 tenants)", ratio <= 1.5 && d.tenantsCreated >= 10_000);
    const bounds = memoryBounds(d);
    if (bounds.length > 0) add("3", "every process's memory within its printed bound", `${bounds.filter((b) => b.met).length} of ${bounds.length} within`, "all", bounds.every((b) => b.met));
  }
  if (r.storage !== undefined && r.storage.failure === undefined) {
    for (const [label, row, goal] of STORAGE_GOALS.slice(0, 2)) {
      const x = r.storage.rows.find((y) => y.name === row);
      if (x !== undefined) add("4", `${label}, share of raw LMDB`, `${(100 * x.ratio).toFixed(1)} %`, `≥ ${goal} %`, 100 * x.ratio >= goal);
    }
  }
  if (r.noisy !== undefined && r.noisy.saturation.length > 0) {
    const worst = r.noisy.saturation.at(-1)!;
    const ratio = worst.victim.query.p99 / r.noisy.solo.query.p99;
    add("5", `victim p99 / solo under ${worst.aggressors} saturating aggressors`, `${ratio.toFixed(2)}×`, "≤ 1.5× (16 aggressors)", ratio <= 1.5 && worst.aggressors >= 16);
  }
  return rows;
}

export function comparisonReport(r: AllResults): SectionReport {
  const fp = r.fastPath?.failure === undefined ? r.fastPath : undefined;
  const tunnel = r.perQuery?.paths.find((p) => p.path === "tunnel");
  const http = r.perQuery?.paths.find((p) => p.path === "HTTP");
  const ws = r.perQuery?.paths.find((p) => p.path === "WebSocket");
  const pgPoint = r.perQuery?.postgres?.pointSelect.p50 ?? fp?.postgres?.tunnelPoint.p50;
  const sel4 = (target: "warren" | "postgres") => r.pgbench?.runs.find((x) => x.target === target && x.script === "select-only" && x.clients === 4)?.tps;
  const tpcb = (target: "warren" | "postgres") => r.pgbench?.runs.find((x) => x.target === target && x.script === "tpcb" && x.mode === "simple");
  const pooled = r.tenants?.stacks["with the warm pool"];
  const fig = (label: string) => pooled?.find((f) => f.label === label);
  const cell = (p?: Published) => (p === undefined ? "–" : `${p.text} [${p.source.startsWith("http://muratbuffalo") ? "CRDB paper" : new URL(p.source).hostname}]`);
  const rows: string[] = [];
  const row = (figure: string, warren: string, pg: string, rat: string, key?: string) =>
    rows.push(`| ${figure} | ${warren} | ${pg} | ${rat} | ${cell(key ? PUBLISHED[key]?.crdb : undefined)} | ${cell(key ? PUBLISHED[key]?.neon : undefined)} |`);
  row("point select p50, tunnel (`pg`)", ms(tunnel?.pointSelect.p50 ?? fp?.after?.tunnelPoint.p50), ms(pgPoint), ratio(tunnel?.pointSelect.p50 ?? fp?.after?.tunnelPoint.p50, pgPoint));
  row("point select p50, WebSocket (`@neondatabase/serverless` Client)", ms(ws?.pointSelect.p50), ms(pgPoint), ratio(ws?.pointSelect.p50, pgPoint), "point");
  const httpP50 = http?.pointSelect.p50 ?? fp?.after?.httpPoint?.p50;
  row("point select p50, HTTP POST /sql (`neon()` format; PostgreSQL: pg over TCP)", ms(httpP50), ms(pgPoint), ratio(httpP50, pgPoint));
  const w4 = sel4("warren") ?? fp?.after?.pgbenchS ?? undefined;
  const p4 = sel4("postgres") ?? fp?.postgres?.pgbenchS ?? undefined;
  row("`pgbench -S`, 4 clients", tps(w4), tps(p4), ratio(w4, p4));
  row("`pgbench` TPC-B-like, simple mode", tps(tpcb("warren")?.tps), tps(tpcb("postgres")?.tps), ratio(tpcb("warren")?.tps, tpcb("postgres")?.tps));
  row("new connection + first query p50 (warm tenant, tunnel)", ms(fig("warm: new pg connection + query")?.p50), "–", "–", "connect");
  row("idle (suspended) tenant → first query p50", ms(fig("resume: both paths")?.p50), "–", "–", "resume");
  row("create tenant → first query p50", ms(fig("create + first query: both paths")?.p50), "–", "–", "create");
  if (r.density !== undefined) {
    const d = r.density;
    const first = d.checkpoints[0]!;
    const last = d.checkpoints.at(-1)!;
    const kib = (a: number, b: number) => (last.tenants > 0 ? `${((b - a) / last.tenants / 1024).toFixed(1)} KiB` : "–");
    row(`bytes on disk per idle tenant (storage / Durable Objects, ${last.tenants} tenants)`, `${kib(first.storageBytes, last.storageBytes)} / ${kib(first.durableObjectBytes, last.durableObjectBytes)}`, "–", "–");
  }
  const acceptance = acceptanceRows(r);
  const md = [
    ...(acceptance.length > 0
      ? [
          "## Acceptance figures of the performance issue",
          "",
          "Each against the goal the issue sets (a goal stated for the full run — 10,000 tenants, 16 aggressors — is not met by a shorter run).",
          "",
          "| item | figure | measured | goal | |",
          "|---|---|---|---|---|",
          ...acceptance,
          "",
        ]
      : []),
    "## Where Warren stands",
    "",
    "Warren and PostgreSQL 15 are **measured in this run** on this machine (PostgreSQL direct, no network, serializable for pgbench). " +
      "The CockroachDB Serverless and Neon columns are **published figures, not measured here**: their services, their hardware and a real " +
      "network between client and database, quoted from the sources listed below the table, for context only.",
    "",
    "| figure | Warren (measured) | PostgreSQL 15 (measured) | Warren / PostgreSQL | CockroachDB Serverless (published, not measured) | Neon (published, not measured) |",
    "|---|---|---|---|---|---|",
    ...rows,
    "",
    "Sources of the published figures:",
    "",
    `- CRDB paper: ${CRDB_PAPER}`,
    `- ${new URL(CRDB_FAQ).hostname}: ${CRDB_FAQ}`,
    `- ${new URL(NEON_LATENCY).hostname}: ${NEON_LATENCY}`,
    `- ${new URL(NEON_HTTP_WS).hostname}: ${NEON_HTTP_WS}`,
  ].join("\n");
  return { name: "comparison", markdown: md, charts: [] };
}
