// A tenant's usage history: one record per UTC hour with the Request Units consumed and their parts
// (KV reads and writes as the storage node measured them, gateway CPU, egress), activity counts and
// RU granted; plus the all-time totals and the current calendar month's spend (for the spend limit).
// Pure functions on plain records; the QuotaBucket stores each hour under `hourKey(start)`, so
// keys sort by time and old hours are deleted by range. Bounded by limits.usageHistoryHoursMax.
import type { UsageReport } from "../../common/quota-protocol.ts";
import { addKvUsage, emptyKvUsage, type KvUsage } from "../../common/request-units.ts";

export const HOUR_MS = 3_600_000;

export interface HourUsage {
  /** Start of the UTC hour (ms since the epoch). */
  hourStartMs: number;
  /** RU consumed (the sum of the parts' RU, as the gateways charged them). */
  ru: number;
  kv: KvUsage;
  cpuMs: number;
  egressBytes: number;
  connections: number;
  httpRequests: number;
  /** RU granted to gateways (consumption runs slightly behind grants). */
  grantedRu: number;
}

/** What the storage node stored for the tenant during an hour (its stats, sampled; the latest sample). */
export interface HourStorage {
  liveBytes: number;
  mvccBytes: number;
  sampledAtMs: number;
}

/** Everything ever consumed, by part (what the storage node's counters are compared with). */
export interface UsageTotals {
  ru: number;
  kv: KvUsage;
  cpuMs: number;
  egressBytes: number;
  connections: number;
  httpRequests: number;
  grantedRu: number;
  /** When the last report arrived (ms since the epoch; 0: none yet): consumption is known up to here. */
  lastReportMs: number;
}

export interface MonthSpend {
  /** "YYYY-MM", UTC. */
  month: string;
  ru: number;
}

export function hourStart(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

/** Storage key of an hour's record: fixed-width hour number, so keys sort by time. */
export function hourKey(hourStartMs: number): string {
  return `h:${String(Math.floor(hourStartMs / HOUR_MS)).padStart(10, "0")}`;
}

/** Storage key of an hour's storage-bytes sample (kept apart: it is written after a fetch). */
export function storageKey(hourStartMs: number): string {
  return `s:${String(Math.floor(hourStartMs / HOUR_MS)).padStart(10, "0")}`;
}

export function hourOfKey(key: string): number {
  return Number(key.slice(2)) * HOUR_MS;
}

export function monthOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

export function emptyHour(hourStartMs: number): HourUsage {
  return { hourStartMs, ru: 0, kv: emptyKvUsage(), cpuMs: 0, egressBytes: 0, connections: 0, httpRequests: 0, grantedRu: 0 };
}

export function emptyTotals(): UsageTotals {
  return { ru: 0, kv: emptyKvUsage(), cpuMs: 0, egressBytes: 0, connections: 0, httpRequests: 0, grantedRu: 0, lastReportMs: 0 };
}

/** Adds a gateway's report into an hour's record or the totals (in place). */
export function addReport(into: HourUsage | UsageTotals, r: UsageReport): void {
  into.ru += r.ru;
  addKvUsage(into.kv, r.kv);
  into.cpuMs += r.cpuMs;
  into.egressBytes += r.egressBytes;
  into.connections += r.connections;
  into.httpRequests += r.httpRequests;
}

/** The month's spend after a report at `nowMs` (a new month starts from zero). */
export function spendAfter(spend: MonthSpend | undefined, nowMs: number, ru: number): MonthSpend {
  const month = monthOf(nowMs);
  const base = spend !== undefined && spend.month === month ? spend.ru : 0;
  return { month, ru: base + ru };
}

/** The first hour still kept at `nowMs`: the current hour and the `hoursMax - 1` before it. */
export function oldestKeptHour(nowMs: number, hoursMax: number): number {
  return hourStart(nowMs) - (hoursMax - 1) * HOUR_MS;
}
