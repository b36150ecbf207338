// Text reports: one line per file and target, totals, the top failure causes, failure details.
import { displayName, passRate, totals, type FileReport } from "./corpus.ts";
import type { Failure, FileResult } from "./runner.ts";

function pct(t: { run: number; passed: number }): string {
  return `${t.passed}/${t.run} ${(passRate(t) * 100).toFixed(1).padStart(5)}%`;
}

function line(name: string, target: string, r: FileResult): string {
  const extra: string[] = [];
  if (r.skipped > 0) extra.push(`skipped ${r.skipped}`);
  const ex = r.excluded.statements + r.excluded.queries;
  if (ex > 0) extra.push(`excluded ${ex} (PostgreSQL fails them; Warren passes ${r.excluded.passed})`);
  if (r.halted) extra.push("halted");
  if (r.truncated) extra.push("first records only");
  if (r.transportRetries > 0) extra.push(`${r.transportRetries} queries re-sent after transport failures`);
  if (r.abortedBy) extra.push(`ABORTED: ${r.abortedBy.split("\n")[0]}`);
  extra.push(`${(r.durationMs / 1000).toFixed(1)}s`);
  return `${name.padEnd(34)} ${target.padEnd(9)} statements ${pct(r.statements).padEnd(20)} queries ${pct(r.queries).padEnd(20)} ${extra.join(", ")}`;
}

export function formatFileReport(r: FileReport, corpusDir: string): string {
  const name = displayName(r.file, corpusDir);
  const out: string[] = [];
  if (r.postgres) out.push(line(name, "postgres", r.postgres));
  if (r.warren) out.push(line(name, "warren", r.warren));
  return out.join("\n");
}

export function formatSummary(reports: FileReport[], causesMax = 15): string {
  const out: string[] = [];
  for (const target of ["postgres", "warren"] as const) {
    const results = reports.map((r) => r[target]);
    if (results.every((r) => r === undefined)) continue;
    const t = totals(results);
    const aborted = results.filter((r) => r?.abortedBy).length;
    out.push(
      `TOTAL ${target.padEnd(8)} statements ${pct(t.statements)}   queries ${pct(t.queries)}   ` +
        `all ${pct({ run: t.statements.run + t.queries.run, passed: t.statements.passed + t.queries.passed })}` +
        (t.skipped ? `   skipped ${t.skipped}` : "") +
        (t.excluded ? `   excluded ${t.excluded} (PostgreSQL fails them)` : "") +
        (aborted ? `   ${aborted} file(s) aborted` : ""),
    );
    const causes = [...t.causes].sort((a, b) => b[1] - a[1]).slice(0, causesMax);
    if (causes.length > 0) {
      out.push(`  top failure causes on ${target}:`);
      for (const [cause, n] of causes) out.push(`  ${String(n).padStart(7)}  ${cause}`);
    }
  }
  return out.join("\n");
}

function indent(lines: string[], max = 20): string {
  const shown = lines.slice(0, max).map((l) => `      ${l}`);
  if (lines.length > max) shown.push(`      … ${lines.length - max} more`);
  return shown.join("\n");
}

export function formatFailure(f: Failure, target: string, corpusDir: string): string {
  const out = [`--- ${target} ${displayName(f.file, corpusDir)}:${f.line} ${f.kind} ${f.reason}`];
  out.push(indent(f.sql.split("\n")));
  if (f.message) out.push(`    ${f.code ? `[${f.code}] ` : ""}${f.message}`);
  if (f.expected) out.push("    expected:", indent(f.expected));
  if (f.actual) out.push("    actual:", indent(f.actual));
  return out.join("\n");
}
