// bench/REPORT.md and its charts, rendered from the JSON results that the sections wrote under
// bench/results/. Each section renders its own Markdown; this file owns the page and the one chart
// kind the sections share (grouped horizontal bars, plain SVG, no library).
import fs from "node:fs";
import path from "node:path";

export interface BarGroup {
  /** Row label (e.g. an aggressor's name). */
  readonly label: string;
  /** One bar per series, in series order; NaN draws no bar. */
  readonly values: readonly number[];
}

export interface BarChart {
  readonly title: string;
  readonly unit: string;
  readonly series: readonly string[];
  readonly groups: readonly BarGroup[];
}

const colors = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2"];

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!);
}

/** A grouped horizontal bar chart as a standalone SVG document. */
export function barChartSvg(chart: BarChart): string {
  const labelW = 230;
  const plotW = 420;
  const barH = 12;
  const groupH = chart.series.length * barH + 10;
  const width = labelW + plotW + 90;
  // Legend entries left to right from the plot's left edge, wrapping to a new line when the next
  // would not fit (about 6.5 px per character at this font size).
  const legend: Array<{ x: number; y: number }> = [];
  let lx = labelW;
  let ly = 24;
  for (const s of chart.series) {
    const w = 14 + s.length * 6.5 + 16;
    if (lx + w > width && lx > labelW) {
      lx = labelW;
      ly += 16;
    }
    legend.push({ x: lx, y: ly });
    lx += w;
  }
  const top = ly + 16;
  const height = top + chart.groups.length * groupH + 30;
  const max = Math.max(1e-9, ...chart.groups.flatMap((g) => g.values.filter(Number.isFinite)));
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`);
  parts.push(`<text x="4" y="16" font-size="13" font-weight="bold">${escapeXml(chart.title)}</text>`);
  chart.series.forEach((s, i) => {
    const { x, y } = legend[i]!;
    parts.push(`<rect x="${x}" y="${y}" width="10" height="10" fill="${colors[i % colors.length]}"/><text x="${x + 14}" y="${y + 9}">${escapeXml(s)}</text>`);
  });
  chart.groups.forEach((g, gi) => {
    const y0 = top + gi * groupH;
    parts.push(`<text x="${labelW - 6}" y="${y0 + groupH / 2}" text-anchor="end">${escapeXml(g.label)}</text>`);
    g.values.forEach((v, si) => {
      if (!Number.isFinite(v)) return;
      const w = Math.max(1, (v / max) * plotW);
      const y = y0 + si * barH;
      parts.push(`<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH - 2}" fill="${colors[si % colors.length]}"/>`);
      parts.push(`<text x="${labelW + w + 4}" y="${y + barH - 3}">${v.toFixed(v < 10 ? 1 : 0)} ${escapeXml(chart.unit)}</text>`);
    });
  });
  parts.push(`</svg>`);
  return parts.join("\n");
}

export interface SectionReport {
  readonly name: string;
  /** Markdown for the section; charts are referenced as charts/FILE.svg. */
  readonly markdown: string;
  readonly charts: ReadonlyArray<{ file: string; chart: BarChart }>;
}

export function writeReport(benchDir: string, header: string, sections: readonly SectionReport[]): string {
  const chartsDir = path.join(benchDir, "charts");
  fs.mkdirSync(chartsDir, { recursive: true });
  for (const s of sections) for (const c of s.charts) fs.writeFileSync(path.join(chartsDir, c.file), barChartSvg(c.chart));
  const file = path.join(benchDir, "REPORT.md");
  fs.writeFileSync(file, [header, ...sections.map((s) => s.markdown)].join("\n\n") + "\n");
  return file;
}
