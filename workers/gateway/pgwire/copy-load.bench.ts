// npm run bench:copy — the gateway's side of a COPY alone: pgbench_accounts rows through a
// PgConnection over the real Session and the in-memory KV (no storage node, no transport), in one
// transaction as `pgbench -i` does, and the same number of rows through INSERT … SELECT
// generate_series (no COPY, no parameters) for comparison. Prints rows per second and CPU µs per row. Add --cpu-prof to node for a profile.
//
// With --storage, the KV is a real storage node started in this process (LMDB in a temp dir,
// reached over loopback HTTP as the edge reaches it; its writer runs on its own thread), so the
// wall time shows what the node's intent writes and the commit add, and the CPU figures are the
// whole process's: gateway, the node's HTTP thread and its writer. With --pk, ALTER TABLE
// pgbench_accounts ADD PRIMARY KEY (aid) follows the COPY, as in `pgbench -i`.
//
//   npm run bench:copy -- --rows 100000
//   npm run bench:copy -- --rows 200000 --storage --pk     (node --cpu-prof … for where it goes)
//
// It lives beside the code it measures and is type-checked with it (the Workers types), so the
// few Node calls it makes go through a narrow view of `process`.
import { startRealStorage, type RealStorage } from "../sql/testing/storage-node.ts";
import { openTestConnection } from "./test-connection.ts";
import { fe, summary } from "./wire-test-client.ts";

interface NodeProcess {
  argv: string[];
  hrtime: { bigint(): bigint };
  cpuUsage(prev?: { user: number; system: number }): { user: number; system: number };
}
const proc = (globalThis as unknown as { process: NodeProcess }).process;
const rowsArg = proc.argv.indexOf("--rows");
const rows = rowsArg >= 0 ? Number(proc.argv[rowsArg + 1]) : 100_000;
const withStorage = proc.argv.includes("--storage");
const withPk = proc.argv.includes("--pk");

function pgbenchLines(from: number, to: number): string {
  let s = "";
  for (let i = from; i <= to; i++) s += `${i}\t${Math.floor((i - 1) / 100000) + 1}\t0\t\n`;
  return s;
}

async function timed(label: string, f: () => Promise<void>): Promise<void> {
  const t0 = proc.hrtime.bigint();
  const c0 = proc.cpuUsage();
  await f();
  const ms = Number(proc.hrtime.bigint() - t0) / 1e6;
  const c = proc.cpuUsage(c0);
  const cpu = (c.user + c.system) / 1000;
  console.log(`  ${label.padEnd(42)} wall ${ms.toFixed(0).padStart(6)} ms  cpu ${cpu.toFixed(0).padStart(6)} ms  ${((cpu * 1000) / rows).toFixed(1).padStart(6)} µs/row`);
}

const storage: RealStorage | null = withStorage ? await startRealStorage() : null;
const h = await openTestConnection(storage === null ? {} : { kv: await storage.capability(77), tenantId: 77 });
await h.send(fe.Query("set statement_timeout = 0"));
await h.send(fe.Query("create table pgbench_accounts (aid int not null, bid int, abalance int, filler char(84)) with (fillfactor=100)"));
console.log(`bench:copy: ${rows} pgbench_accounts rows, ${storage === null ? "gateway alone (in-memory KV)" : "over a real storage node in this process (CPU: the whole process, node threads included)"}`);
await timed("COPY FROM STDIN in one transaction", async () => {
  await h.send(fe.Query("begin"), fe.Query("copy pgbench_accounts from stdin"));
  const chunk = 10_000;
  for (let i = 1; i <= rows; i += chunk) await h.send(fe.CopyData(pgbenchLines(i, Math.min(rows, i + chunk - 1))));
  const done = await h.send(fe.CopyDone(), fe.Query("commit"));
  if (!summary(done).includes(`C COPY ${rows}`)) throw new Error(`COPY failed: ${summary(done).join(" ")}`);
});
if (withPk) {
  await timed("ALTER TABLE … ADD PRIMARY KEY (aid)", async () => {
    const r = await h.send(fe.Query("alter table pgbench_accounts add primary key (aid)"));
    if (!summary(r).includes("C ALTER TABLE")) throw new Error(`ADD PRIMARY KEY failed: ${summary(r).join(" ")}`);
  });
}
await h.send(fe.Query("create table acc2 (aid int not null, bid int, abalance int, filler char(84))"));
await timed("INSERT … SELECT generate_series (no COPY)", async () => {
  const r = await h.send(fe.Query(`insert into acc2 select i, (i - 1) / 100000 + 1, 0, '' from generate_series(1, ${rows}) i`));
  if (!summary(r).includes(`C INSERT 0 ${rows}`)) throw new Error(`INSERT failed: ${summary(r).join(" ")}`);
});
await storage?.close();
