#!/bin/sh
# Issue 13, acceptance 1 and 2, full length: 8 clients on a 3-replica shard while the leaseholder is
# killed with SIGKILL 20 times (each time a new leaseholder must serve within 5 s; p50/p99
# printed), then the fencing check — at three levels:
#   test/fleet/log-shard.test.ts   the replication log alone (log nodes)
#   test/fleet/kv-shard.test.ts    tenant data through the storage node's KV API (replicated nodes)
#   test/fleet/sql-fleet.test.ts   SQL through the edge on `warren dev --shards 1 --replicas 3`
# CI runs the same tests with 2-3 kills and a wider bound. FLEET_LEVELS picks some: "log kv sql".
# The SQL level alone, with failover figures and a baseline: `npm run bench:fleet` (scripts/bench-fleet.ts).
set -e
cd "$(dirname "$0")/.."
levels="${FLEET_LEVELS:-log kv sql}"
files=""
for l in $levels; do
  case "$l" in
    log) files="$files test/fleet/log-shard.test.ts" ;;
    kv) files="$files test/fleet/kv-shard.test.ts" ;;
    sql) files="$files test/fleet/sql-fleet.test.ts" ;;
    *) echo "unknown level $l (log, kv, sql)" >&2; exit 2 ;;
  esac
done
WARREN_FLEET_KILLS="${WARREN_FLEET_KILLS:-20}" WARREN_FAILOVER_MS_MAX="${WARREN_FAILOVER_MS_MAX:-5000}" \
  exec npx vitest run --no-file-parallelism $files
