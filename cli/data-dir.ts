// The layout of a `warren dev` data directory and the small files in it.
//
//   DATA/
//     fleet-secret     0600  shared secret between the edge and the storage node (generated once)
//     admin-token      0600  bearer token for the admin API (generated once)
//     demo.json        0600  the demo tenant's name, id and password
//     ready.json       0600  present while `warren dev` is up (see ReadyInfo); removed on stop
//     dev.pids               the running supervisor and its children, to clean up after a crash
//     storage/               LMDB files of the storage node
//     wrangler/              Durable Object and other local state of `wrangler dev`
//     logs/                  output of each child process (truncated at each start)
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

export interface DataPaths {
  readonly root: string;
  readonly fleetSecret: string;
  readonly adminToken: string;
  /** The edge's key material for HTTP transaction handles (workers/edge/txn-handle.ts). */
  readonly txnHandleSecret: string;
  /** The file of the secret the in-process tunnel signs client addresses with (the edge's TUNNEL_SECRET). */
  readonly tunnelSecret: string;
  readonly demo: string;
  readonly ready: string;
  readonly pids: string;
  readonly storage: string;
  readonly wrangler: string;
  readonly logs: string;
}

export function dataPaths(root: string): DataPaths {
  const abs = path.resolve(root);
  return {
    root: abs,
    fleetSecret: path.join(abs, "fleet-secret"),
    adminToken: path.join(abs, "admin-token"),
    txnHandleSecret: path.join(abs, "txn-handle-secret"),
    tunnelSecret: path.join(abs, "tunnel-secret"),
    demo: path.join(abs, "demo.json"),
    ready: path.join(abs, "ready.json"),
    pids: path.join(abs, "dev.pids"),
    storage: path.join(abs, "storage"),
    wrangler: path.join(abs, "wrangler"),
    logs: path.join(abs, "logs"),
  };
}

/** What `warren dev` writes to DATA/ready.json once every part answers. */
export interface ReadyInfo {
  /** Base URL of the edge Worker (HTTP SQL at `${http}/sql`, WebSocket at `${http}/v2`). */
  readonly http: string;
  /** Where the tunnel listens, as a credential-less URL: postgresql://127.0.0.1:26257. */
  readonly pg: string;
  /** The admin API lives under `${admin.url}/admin/…`, authorised by `Bearer ${admin.token}`. */
  readonly admin: { readonly url: string; readonly token: string };
  readonly demo: TenantConnection;
}

/** A tenant as the CLI prints it: admin API fields plus ready-made connection URLs. */
export interface TenantConnection {
  readonly name: string;
  readonly id: string | number;
  readonly password: string;
  /** postgresql://warren.NAME:PASSWORD@HOST:PORT/defaultdb?sslmode=disable (through the tunnel) */
  readonly pg: string;
  /** The edge's HTTP SQL endpoint (send the `pg` URL as the Neon-Connection-String header). */
  readonly http: string;
}

/** A random secret of `bytes` bytes, URL-safe so it fits in headers and URLs unescaped. */
export function newSecret(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

/** Reads a secret file, creating it (0600) with a fresh secret on first use. */
export function loadOrCreateSecret(file: string): string {
  try {
    const text = fs.readFileSync(file, "utf8").trim();
    if (text.length > 0) return text;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const secret = newSecret();
  writeFileAtomic(file, secret + "\n", 0o600);
  return secret;
}

/** Writes through a temporary file and a rename, so readers never see half a file. */
export function writeFileAtomic(file: string, text: string, mode: number): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode });
  fs.chmodSync(tmp, mode); // writeFileSync's mode is filtered by the umask
  fs.renameSync(tmp, file);
}

export function readJson<T>(file: string): T | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  return JSON.parse(text) as T;
}
