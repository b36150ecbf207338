// Finding the sqllogictest corpus and running many scripts against one or two targets.
import { existsSync, readdirSync, statSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runFile, type Failure, type FileResult } from "./runner.ts";
import type { SqlTarget } from "./target.ts";

export const repoRoot = resolve(fileURLToPath(new URL("../..", import.meta.url)));

/**
 * The corpus lives beside the repository (../shared/conformance/slt) on the machines Warren is
 * built on; a CI clone elsewhere points WARREN_SLT_DIR at its copy.
 */
export function resolveCorpusDir(): { dir: string; found: boolean; tried: string[] } {
  const tried: string[] = [];
  if (process.env.WARREN_SLT_DIR) tried.push(resolve(process.env.WARREN_SLT_DIR));
  tried.push(resolve(repoRoot, "..", "shared", "conformance", "slt"));
  // Last resort: the scripts vendored into the repository (select1.test), so a clone without
  // ../shared still runs real sqllogictest records instead of skipping them.
  tried.push(resolve(repoRoot, "test", "slt-corpus"));
  for (const dir of tried) if (existsSync(dir) && statSync(dir).isDirectory()) return { dir, found: true, tried };
  return { dir: tried[0]!, found: false, tried };
}

function walk(dir: string, out: string[]): void {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith(".test")) out.push(p);
  }
}

/**
 * Expands files and directories into .test files. A relative argument is looked up from the
 * current directory first, then inside the corpus (so `select1.test` or `index` just work).
 */
export function collectFiles(args: string[], corpusDir: string): string[] {
  const out: string[] = [];
  for (const arg of args.length > 0 ? args : [corpusDir]) {
    const candidates = isAbsolute(arg) ? [arg] : [resolve(arg), resolve(corpusDir, arg)];
    const hit = candidates.find((p) => existsSync(p));
    if (hit === undefined) throw new Error(`no such sqllogictest file or directory: ${arg} (looked in ${candidates.join(", ")})`);
    if (statSync(hit).isDirectory()) walk(hit, out);
    else out.push(hit);
  }
  return [...new Set(out)];
}

export function displayName(file: string, corpusDir: string): string {
  const rel = relative(corpusDir, file);
  return rel.startsWith("..") ? file : rel;
}

export interface FileReport {
  file: string;
  /** Result on the reference PostgreSQL, when it ran. */
  postgres?: FileResult;
  /** Result on Warren, with records PostgreSQL failed excluded, when it ran. */
  warren?: FileResult;
}

export interface CorpusOptions {
  files: string[];
  postgres?: SqlTarget;
  warren?: SqlTarget;
  /** Scripts running at the same time (each has its own database). */
  jobs: number;
  stopOnFirstFailure?: boolean;
  /** Run at most this many records of each script (see RunOptions.recordsMax). */
  recordsMax?: number;
  onFailure?: (f: Failure, target: string) => void;
  onFileDone?: (r: FileReport) => void;
}

/**
 * Runs every file; with both targets, PostgreSQL runs a file first and the records it fails are
 * excluded from Warren's counts for that file (sqllogictest scripts come from other engines, and
 * a record real PostgreSQL 15 rejects is not something Warren must pass).
 */
export async function runCorpus(o: CorpusOptions): Promise<FileReport[]> {
  const reports: FileReport[] = new Array(o.files.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= o.files.length) return;
      const file = o.files[i]!;
      const report: FileReport = { file };
      const common = { stopOnFirstFailure: o.stopOnFirstFailure, recordsMax: o.recordsMax };
      if (o.postgres) {
        report.postgres = await runFile(file, o.postgres, { ...common, onFailure: (f) => o.onFailure?.(f, "postgres") });
      }
      if (o.warren) {
        const exclude = report.postgres && !report.postgres.abortedBy ? new Set(report.postgres.failedLines) : undefined;
        report.warren = await runFile(file, o.warren, { ...common, exclude, onFailure: (f) => o.onFailure?.(f, "warren") });
      }
      reports[i] = report;
      o.onFileDone?.(report);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.jobs, o.files.length)) }, worker));
  return reports;
}

export interface Totals {
  statements: { run: number; passed: number };
  queries: { run: number; passed: number };
  skipped: number;
  excluded: number;
  causes: Map<string, number>;
}

export function totals(results: Array<FileResult | undefined>): Totals {
  const t: Totals = { statements: { run: 0, passed: 0 }, queries: { run: 0, passed: 0 }, skipped: 0, excluded: 0, causes: new Map() };
  for (const r of results) {
    if (!r) continue;
    t.statements.run += r.statements.run;
    t.statements.passed += r.statements.passed;
    t.queries.run += r.queries.run;
    t.queries.passed += r.queries.passed;
    t.skipped += r.skipped;
    t.excluded += r.excluded.statements + r.excluded.queries;
    for (const [k, v] of r.causes) t.causes.set(k, (t.causes.get(k) ?? 0) + v);
  }
  return t;
}

export function passRate(t: { run: number; passed: number }): number {
  return t.run === 0 ? 1 : t.passed / t.run;
}
