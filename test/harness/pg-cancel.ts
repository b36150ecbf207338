// A raw CancelRequest (the 16-byte packet a Postgres client sends on a new connection: length 16,
// code 80877102, process id, secret key), for tests that cancel without a driver's help.
import net from "node:net";

/** Sends CancelRequest(processId, secretKey) to `pgUrl`; resolves with what came back when the server closes. */
export function rawCancel(pgUrl: string, processId: number, secretKey: number): Promise<Buffer> {
  const { hostname, port } = new URL(pgUrl.replace(/^postgresql:/, "http:"));
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: hostname, port: Number(port) }, () => {
      const b = Buffer.alloc(16);
      b.writeInt32BE(16, 0);
      b.writeInt32BE(80877102, 4);
      b.writeInt32BE(processId, 8);
      b.writeInt32BE(secretKey, 12);
      s.write(b);
    });
    const got: Buffer[] = [];
    s.on("data", (c: Buffer) => got.push(c));
    s.on("error", reject);
    s.on("close", () => resolve(Buffer.concat(got)));
  });
}
