import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Io } from "./command.ts";
import { commands, main } from "./main.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "warren-cli-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function run(argv: string[], env: Record<string, string> = {}) {
  let out = "";
  let err = "";
  const io: Io = { out: (t) => void (out += t), err: (t) => void (err += t), env, cwd: tmp };
  const code = await main(argv, io);
  return { code, out, err };
}

describe("warren dispatch", () => {
  it("prints the command list for --help (exit 0) and without a command (exit 2)", async () => {
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    for (const c of commands) expect(help.out).toContain(c.spec.name);
    const bare = await run([]);
    expect(bare.code).toBe(2);
    expect(bare.err).toContain("Usage: warren <command>");
  });

  it("answers --help on every command with its usage", async () => {
    for (const c of commands) {
      const r = await run([...c.spec.name.split(" "), "--help"]);
      expect(r.code, c.spec.name).toBe(0);
      expect(r.out).toContain(`Usage: warren ${c.spec.name}`);
    }
    const group = await run(["tenant", "--help"]);
    expect(group.code).toBe(0);
    expect(group.out).toContain("tenant create");
  });

  it("rejects unknown commands and subcommands with exit 2", async () => {
    const r = await run(["frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown command "frobnicate"');
    const sub = await run(["tenant", "frobnicate"]);
    expect(sub.code).toBe(2);
    expect(sub.err).toContain('warren tenant: unknown command "frobnicate"');
  });

  it("reports argument errors with the command's name and exit 2", async () => {
    const r = await run(["tenant", "create"]);
    expect(r.code).toBe(2);
    expect(r.err).toBe("warren tenant create: missing NAME\nRun 'warren tenant create --help' for usage.\n");
    expect((await run(["tunnel", "--url", "http://x/v2"])).err).toMatch(/--url must start with ws:\/\/ or wss:\/\//);
    expect((await run(["dev", "--http-port", "http"])).code).toBe(2);
    expect((await run(["dev"], { WARREN_PG_PORT: "70000" })).err).toMatch(/WARREN_PG_PORT must be a port number/);
    expect((await run(["storage-node", "--port", "1"])).err).toMatch(/missing --data-dir/);
    expect((await run(["storage-node", "--data-dir", "d", "--port", "0"])).err).toMatch(/no fleet secret/);
    const short = await run(["storage-node", "--data-dir", "d", "--port", "0"], { WARREN_FLEET_SECRET: "short" });
    expect(short.err).toMatch(/at least 16 characters/);
    expect(short.code).toBe(2);
  });

  it("warren dev refuses a port in use before starting anything (exit 1, with a hint)", async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const dataDir = path.join(tmp, "busy");
      const r = await run(["dev", "--data-dir", dataDir, "--http-port", String(port)]);
      expect(r.code).toBe(1);
      expect(r.err).toContain(`127.0.0.1:${port} is already in use`);
      expect(r.err).toContain("hint: is another `warren dev` running? Choose another port with --http-port / WARREN_HTTP_PORT");
      expect(fs.existsSync(path.join(dataDir, "dev.pids"))).toBe(false);
      expect(fs.readdirSync(path.join(dataDir, "logs"))).toEqual([]);
    } finally {
      server.close();
    }
  });

  it("tenant commands without an admin API say how to find one (exit 1)", async () => {
    const r = await run(["tenant", "list", "--data-dir", "nowhere"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("no admin API URL");
    expect(r.err).toContain("hint: start `warren dev`");
  });

  it("tenant commands report an unreachable admin API (exit 1)", async () => {
    const r = await run(["tenant", "list", "--admin-url", "http://127.0.0.1:1", "--admin-token", "t"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("cannot reach the admin API at http://127.0.0.1:1");
  });
});
