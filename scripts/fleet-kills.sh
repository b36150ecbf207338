#!/bin/sh
# Issue 13, acceptance 1 and 2 at the replication layer, full length: 8 writers on a 3-replica
# shard of log nodes while the leaseholder is killed with SIGKILL 20 times (each time a new
# leaseholder must acknowledge writes within 5 s; p50/p99 printed), then the fencing check.
# CI runs the same test with 3 kills and a wider bound (test/fleet/log-shard.test.ts).
set -e
cd "$(dirname "$0")/.."
WARREN_FLEET_KILLS="${WARREN_FLEET_KILLS:-20}" WARREN_FAILOVER_MS_MAX="${WARREN_FAILOVER_MS_MAX:-5000}" \
  exec npx vitest run test/fleet/log-shard.test.ts
