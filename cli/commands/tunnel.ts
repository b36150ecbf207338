// `warren tunnel`: lets any Postgres client reach Warren's WebSocket endpoint over plain TCP.
import { CliError, type Command } from "../command.ts";
import { UsageError, type CommandSpec } from "../options.ts";
import { waitForStopSignal } from "../signals.ts";

const spec: CommandSpec = {
  name: "tunnel",
  summary: "Carry Postgres TCP connections (psql, pg, pgbench…) to Warren's WebSocket endpoint.",
  positionals: [],
  options: [
    {
      name: "listen",
      kind: "address",
      env: "WARREN_TUNNEL_LISTEN",
      default: "127.0.0.1:26257",
      description: "address to accept TCP connections on",
    },
    {
      name: "url",
      kind: "string",
      env: "WARREN_TUNNEL_URL",
      default: "ws://127.0.0.1:8787/v2",
      valueName: "WS_URL",
      description: "WebSocket endpoint each connection is carried to (ws:// or wss://)",
    },
  ],
  notes:
    "Each TCP connection gets its own WebSocket; bytes travel unchanged in binary messages (the framing\n" +
    "of `cloudflared access tcp` and Neon's WebSocket mode).\n" +
    "Example: warren tunnel --listen 127.0.0.1:5433 --url wss://warren.example.com/v2",
};

export const tunnelCommand: Command = {
  spec,
  async run(args, io) {
    const listen = args.address("listen");
    const url = args.string("url");
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UsageError(spec.name, `--url is not a URL: "${url}"`);
    }
    if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:") {
      throw new UsageError(spec.name, `--url must start with ws:// or wss://, got "${url}"`);
    }
    const { startTunnel } = await import("../tunnel.ts");
    let tunnel;
    try {
      // WARREN_TUNNEL_SECRET (the edge's TUNNEL_SECRET): forward each client's address, signed.
      const secret = io.env["WARREN_TUNNEL_SECRET"];
      tunnel = await startTunnel({ host: listen.host, port: listen.port, url, log: (line) => io.err(line + "\n"), ...(secret ? { clientAddressSecret: secret } : {}) });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === "EADDRINUSE") {
        throw new CliError(`${listen.host}:${listen.port} is already in use`, "pick another with --listen HOST:PORT");
      }
      throw new CliError(`cannot listen on ${listen.host}:${listen.port}: ${e.message}`);
    }
    io.out(`warren tunnel listening on ${tunnel.host}:${tunnel.port} -> ${url}\n`);
    await waitForStopSignal();
    await tunnel.close();
    return 0;
  },
};
