// The operator page's HTML: plain server-rendered pages, inline CSS and inline SVG charts, no
// script. Every value that came from outside (names, settings) goes through esc().
import type { UsageView } from "../../../durable-objects/quota/quota-bucket.ts";
import type { TenantView } from "../tenant-operations.ts";

export function esc(v: unknown): string {
  return String(v).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

const STYLE = `body{font:14px system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse}
th,td{padding:.3rem .7rem;border-bottom:1px solid #ddd;text-align:left}th{background:#f4f4f4}
.suspended{color:#a60}.active{color:#070}.err{color:#b00}svg{background:#fafafa;border:1px solid #ddd}
form.inline{display:inline}`;

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)} · Warren</title><style>${STYLE}</style></head><body>${body}</body></html>`;
}

export function loginPage(error: string | null): string {
  return page(
    "Sign in",
    `<h1>Warren operator console</h1>${error ? `<p class="err">${esc(error)}</p>` : ""}
<form method="post" action="/admin/login"><label>Admin token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
<button type="submit">Sign in</button></form>`,
  );
}

const num = (n: number | null | undefined) => (n === null || n === undefined ? "—" : Number.isInteger(n) ? n.toLocaleString("en-US") : n.toFixed(2));

export function listPage(tenants: TenantView[], usage: Map<string, { ru: number; liveBytes: number | null }>): string {
  const rows = tenants
    .map((t) => {
      const u = usage.get(t.name);
      const s = t.settings;
      return `<tr><td><a href="/admin/clusters/${esc(t.name)}">${esc(t.name)}</a></td><td>${t.id}</td><td class="${esc(t.state)}">${esc(t.state)}${t.lifecycle?.suspendedBy ? ` (${esc(t.lifecycle.suspendedBy)})` : ""}</td>
<td>${num(s.ruPerSecond)} / ${num(s.burstRu)}</td><td>${s.spendLimitRu === null ? "none" : `${num(s.spendLimitRu)} (${esc(s.atSpendLimit)})`}</td><td>${s.maxConnections ?? "default"}</td><td>${s.allowedCidrs.length ? esc(s.allowedCidrs.join(", ")) : "any"}</td>
<td>${t.lifecycle?.sessions ?? 0}</td><td>${num(u?.ru)}</td><td>${num(u?.liveBytes)}</td></tr>`;
    })
    .join("\n");
  return page(
    "Virtual clusters",
    `<h1>Virtual clusters</h1><form class="inline" method="post" action="/admin/logout"><button>Sign out</button></form>
<table><thead><tr><th>name</th><th>id</th><th>state</th><th>RU/s / burst</th><th>spend limit</th><th>max conn.</th><th>networks</th><th>sessions</th><th>RU (all time)</th><th>storage bytes</th></tr></thead>
<tbody>${rows}</tbody></table>`,
  );
}

interface Point {
  t: number;
  v: number;
}

/** A line chart as inline SVG: time on x, value on y from 0, with the maximum labelled. */
export function lineChart(title: string, unit: string, points: Point[], fromMs: number, toMs: number): string {
  const W = 640;
  const H = 180;
  const P = 36;
  const max = Math.max(0, ...points.map((p) => p.v));
  const x = (t: number) => P + ((t - fromMs) / Math.max(1, toMs - fromMs)) * (W - 2 * P);
  const y = (v: number) => H - P - (max === 0 ? 0 : (v / max) * (H - 2 * P));
  const line = points.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ");
  const dots = points.map((p) => `<circle cx="${x(p.t).toFixed(1)}" cy="${y(p.v).toFixed(1)}" r="2.5"/>`).join("");
  return `<figure><figcaption>${esc(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">
<line x1="${P}" y1="${H - P}" x2="${W - P}" y2="${H - P}" stroke="#999"/><line x1="${P}" y1="${P}" x2="${P}" y2="${H - P}" stroke="#999"/>
<text x="${P}" y="${P - 8}" font-size="11">${esc(`${num(max)} ${unit}`)}</text><text x="${P}" y="${H - 8}" font-size="11">${esc(new Date(fromMs).toISOString().slice(0, 16))}</text>
<text x="${W - P}" y="${H - 8}" font-size="11" text-anchor="end">${esc(new Date(toMs).toISOString().slice(0, 16))}</text>
${points.length > 0 ? `<polyline fill="none" stroke="#2a6" stroke-width="2" points="${line}"/><g fill="#2a6">${dots}</g>` : `<text x="${W / 2}" y="${H / 2}" text-anchor="middle" font-size="12">no data in this window</text>`}
</svg></figure>`;
}

export function clusterPage(t: TenantView, u: UsageView, fromMs: number, toMs: number): string {
  const HOUR_S = 3600;
  const ru = u.hours.map((h) => ({ t: h.hourStartMs, v: h.ru / HOUR_S }));
  const storage = u.hours.filter((h) => h.storage !== null).map((h) => ({ t: h.hourStartMs, v: h.storage!.liveBytes }));
  const s = t.settings;
  return page(
    t.name,
    `<p><a href="/admin">← all virtual clusters</a></p><h1>${esc(t.name)} <small class="${esc(t.state)}">${esc(t.state)}</small></h1>
<table><tbody><tr><th>id</th><td>${t.id}</td></tr><tr><th>created</th><td>${esc(t.createdAt)}</td></tr>
<tr><th>RU/s, burst</th><td>${num(s.ruPerSecond)}, ${num(s.burstRu)}</td></tr><tr><th>spend limit</th><td>${s.spendLimitRu === null ? "none" : `${num(s.spendLimitRu)} RU/month (${esc(s.atSpendLimit)})`}</td></tr>
<tr><th>RU this month</th><td>${num(u.month.ru)}</td></tr><tr><th>RU all time</th><td>${num(u.totals.ru)}</td></tr><tr><th>bucket</th><td>${num(u.bucket.tokensRu)} RU, ${u.bucket.gateways} gateway(s)</td></tr>
<tr><th>sessions here</th><td>${t.lifecycle?.sessions ?? 0}</td></tr></tbody></table>
${lineChart("RU/s (hourly average)", "RU/s", ru, fromMs, toMs)}
${lineChart("Storage (live bytes, latest sample of each hour)", "bytes", storage, fromMs, toMs)}`,
  );
}
