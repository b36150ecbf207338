// The PostgreSQL reference server harness: it must start on a free port, answer queries, and
// leave nothing behind (no process, no temp dir) whether stopped, exited or interrupted.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { postgresAvailable, startPostgres } from "./harness/postgres.ts";

const harnessPath = fileURLToPath(new URL("./harness/postgres.ts", import.meta.url));

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => { s.destroy(); resolve(true); });
    s.once("error", () => resolve(false));
  });
}

async function query(url: string, sql: string): Promise<unknown[][]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query({ text: sql, rowMode: "array" })).rows;
  } finally {
    await c.end();
  }
}

/** Runs a child Node process that starts a server and then ends in the given way. */
async function childThatLeaks(ending: "exit" | "SIGTERM"): Promise<{ dir: string; port: number }> {
  const code = `
    import { startPostgres } from ${JSON.stringify(harnessPath)};
    const pg = await startPostgres();
    console.log(JSON.stringify({ dir: pg.socketDir, port: pg.port }));
    // Exit (without stop()) only when the parent says so, after it has seen the server up.
    process.stdin.once("data", () => process.exit(0));
  `;
  const child = spawn(process.execPath, ["--input-type=module", "-e", code], { stdio: ["pipe", "pipe", "inherit"] });
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (s: string) => {
      out += s;
      if (out.includes("\n")) resolve(out.split("\n")[0]!);
    });
    child.once("exit", (c) => reject(new Error(`child exited ${c} before printing: ${out}`)));
  });
  const info = JSON.parse(line) as { dir: string; port: number };
  expect(await portOpen(info.port)).toBe(true);
  const exited = new Promise((r) => child.once("exit", r));
  if (ending === "SIGTERM") child.kill("SIGTERM");
  else child.stdin.write("exit\n");
  await exited;
  return info;
}

describe.skipIf(!postgresAvailable())("PostgreSQL reference server harness", () => {
  it("starts two servers on distinct free ports and stops them without leftovers", async () => {
    const [a, b] = await Promise.all([startPostgres(), startPostgres()]);
    try {
      expect(a.port).not.toBe(b.port);
      expect(await query(a.url, "SELECT current_setting('server_version_num')::int / 10000")).toEqual([[15]]);
      expect(await query(b.url, "SELECT current_setting('fsync'), current_setting('lc_collate')")).toEqual([["on", "C"]]);
      await query(a.url, "CREATE DATABASE other");
      expect(await query(a.urlFor("other"), "SELECT current_database()")).toEqual([["other"]]);
      expect(existsSync(a.socketDir)).toBe(true);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    expect(existsSync(a.socketDir)).toBe(false);
    expect(existsSync(b.socketDir)).toBe(false);
    expect(await portOpen(a.port)).toBe(false);
    expect(await portOpen(b.port)).toBe(false);
    await a.stop(); // idempotent
  });

  it("kills the server and removes its dir when the process exits without stop()", async () => {
    const info = await childThatLeaks("exit");
    expect(existsSync(info.dir)).toBe(false);
    expect(await portOpen(info.port)).toBe(false);
  });

  it("kills the server and removes its dir when the process is terminated by a signal", async () => {
    const info = await childThatLeaks("SIGTERM");
    expect(existsSync(info.dir)).toBe(false);
    expect(await portOpen(info.port)).toBe(false);
  });
});
