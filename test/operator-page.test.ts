// The operator page at /admin (issue 11, item 6), first over plain HTTP: sign-in form, a wrong
// token refused, the right one answered with an HttpOnly cookie (never the token itself, never a
// URL with it), the list of virtual clusters, and a cluster's page with SVG charts drawn from real
// usage history. Then in headless Chromium as an operator uses it: type the token into the form,
// follow the link to a cluster, see its charts, and save a screenshot as a CI artifact
// (.ci/artifacts/operator-page.png, or under $CI_ARTIFACTS_DIR).
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumSkipReason, launchChromium } from "./harness/chromium.ts";
import { usageOf } from "./harness/metering.ts";
import { httpSql, startStack, type Stack } from "./harness/stack.ts";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function login(token: string): Promise<Response> {
  return fetch(`${stack.http}/admin/login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token }).toString(),
    redirect: "manual",
  });
}

describe("operator page", () => {
  it("signs in with the admin token through a form, keeps it out of URLs and cookies, and shows real data", async () => {
    const token = stack.admin.token;
    const form = await fetch(`${stack.http}/admin`);
    expect(form.status).toBe(200);
    const formHtml = await form.text();
    expect(formHtml).toContain('<form method="post" action="/admin/login">');
    expect(formHtml).toContain('type="password" name="token"');
    expect(formHtml).not.toContain(token);

    expect((await login("not the token")).status).toBe(401);
    // Nothing behind the form without a session.
    const anonymous = await fetch(`${stack.http}/admin/clusters/demo`, { redirect: "manual" });
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get("location")).toBe("/admin");

    const ok = await login(token);
    expect(ok.status).toBe(303);
    const location = ok.headers.get("location")!;
    expect(location).toBe("/admin");
    const setCookie = ok.headers.get("set-cookie")!;
    expect(setCookie).toMatch(/^warren_admin=\d+\.[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/admin;/);
    expect(setCookie).not.toContain(token);
    const cookie = setCookie.split(";")[0]!;
    // A forged or altered cookie is not a session.
    const forged = cookie.replace(/\.(.)/, (_m, ch: string) => `.${ch === "A" ? "B" : "A"}`);
    expect(await (await fetch(`${stack.http}/admin`, { headers: { cookie: forged } })).text()).toContain('name="token"');

    // Real data: a tenant with a table and queries, until its usage report has landed.
    const shop = await stack.createTenant("shop");
    await httpSql(shop, "create table items (id int primary key, name text)");
    await httpSql(shop, "insert into items select g, repeat('x', 200) from generate_series(1, 500) g");
    for (let i = 0; i < 20; i++) await httpSql(shop, "select count(*) from items");
    // A gateway reports its usage when it next asks its QuotaBucket for tokens (its ~10 s grant
    // period has ended and a query arrives), not on a timer: keep the tenant querying until then.
    for (let deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(1_000)) {
      if ((await usageOf(stack, "shop")).totals.ru > 0) break;
      await httpSql(shop, "select count(*) from items");
    }

    const list = await fetch(`${stack.http}/admin`, { headers: { cookie } });
    expect(list.status).toBe(200);
    const listHtml = await list.text();
    expect(listHtml).toContain("<h1>Virtual clusters</h1>");
    expect(listHtml).toContain('<a href="/admin/clusters/demo">demo</a>');
    expect(listHtml).toContain('<a href="/admin/clusters/shop">shop</a>');
    expect(listHtml).not.toContain(token);

    const page = await fetch(`${stack.http}/admin/clusters/shop`, { headers: { cookie } });
    expect(page.status).toBe(200);
    const pageHtml = await page.text();
    expect(pageHtml).toContain("RU/s (hourly average)");
    expect(pageHtml).toContain("Storage (live bytes");
    // The RU chart has a data point (a polyline), drawn from the usage history.
    const ruChart = pageHtml.slice(pageHtml.indexOf("RU/s (hourly average)"), pageHtml.indexOf("Storage (live bytes"));
    expect(ruChart).toMatch(/<polyline [^>]*points="[0-9.]+,[0-9.]+/);
    expect((await usageOf(stack, "shop")).totals.ru).toBeGreaterThan(0);
    expect(pageHtml).toMatch(/<th>RU all time<\/th><td>[0-9,.]+<\/td>/);
    expect(pageHtml).not.toContain(token);

    const out = await fetch(`${stack.http}/admin/logout`, { method: "POST", headers: { cookie }, redirect: "manual" });
    expect(out.headers.get("set-cookie")).toContain("Max-Age=0");
  });
});

describe.skipIf(chromiumSkipReason !== null)("operator page in a browser", () => {
  it("signs in through the form, lists the clusters, draws a cluster's charts, and saves a screenshot", async () => {
    // Real data for the charts (the first test may not have run: `-t` can pick this one alone).
    const shop = await stack.createTenant("browser-shop");
    const name = shop.name;
    await httpSql(shop, "create table if not exists seen (id int primary key)");
    await httpSql(shop, "insert into seen select g from generate_series(1, 100) g on conflict do nothing");
    for (let deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(1_000)) {
      if ((await usageOf(stack, name)).totals.ru > 0) break;
      await httpSql(shop, "select count(*) from seen"); // usage is reported with the next grant request
    }
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await page.goto(`${stack.http}/admin`);
      await page.fill('input[name="token"]', stack.admin.token);
      await Promise.all([page.waitForURL(`${stack.http}/admin`), page.click('button[type="submit"], input[type="submit"]')]);
      expect(await page.textContent("h1")).toBe("Virtual clusters");
      expect(page.url()).not.toContain(stack.admin.token);
      // The session lives in an HttpOnly cookie: the page's script cannot read it.
      expect(await page.evaluate(() => document.cookie)).toBe("");
      await Promise.all([page.waitForURL(`${stack.http}/admin/clusters/${name}`), page.click(`a[href="/admin/clusters/${name}"]`)]);
      const html = await page.content();
      expect(html).toContain("RU/s (hourly average)");
      expect(await page.locator("svg polyline").count()).toBeGreaterThan(0);
      expect(html).not.toContain(stack.admin.token);
      const dir = process.env["CI_ARTIFACTS_DIR"] ?? path.resolve(import.meta.dirname, "..", ".ci", "artifacts");
      fs.mkdirSync(dir, { recursive: true });
      const file = path.join(dir, "operator-page.png");
      await page.screenshot({ path: file, fullPage: true });
      expect(fs.statSync(file).size).toBeGreaterThan(10_000);
      console.log(`operator page screenshot: ${file}`);
    } finally {
      await browser.close();
    }
  });
});
