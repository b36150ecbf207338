// Starts a throwaway PostgreSQL 15 server for comparing Warren against by hand:
//   node scripts/postgres-local.ts     → prints the URL; Ctrl-C stops it and removes its data.
import { startPostgres } from "../test/harness/postgres.ts";

const server = await startPostgres();
console.log(`postgres ready ${server.url}`);
console.log(`  psql '${server.url}'   (socket dir ${server.socketDir}; Ctrl-C stops and removes it)`);
const shutdown = (): void => {
  void server.stop().then(() => process.exit(0));
};
process.once("SIGINT", shutdown);
process.once("SIGTERM", shutdown);
setInterval(() => {}, 1 << 30);
