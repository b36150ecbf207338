#!/bin/sh
# "Faults lose nothing", at soak length: the kill -9 tests that CI runs with one to three rounds
# each, run with many (every round draws its own random moment):
#   test/fleet/tenant-moves.test.ts     source/target leaseholders killed at a random step of a move
#   test/fleet/sql-move.test.ts         the whole `warren dev --shards 2` stack killed mid-move, restarted
#   test/bulk-statement-crash.test.ts   COPY / UPDATE / DELETE of 20,000 rows killed mid-statement
#
#   npm run soak:faults                 12 move kills, 4 stack restarts, 5 rounds per statement kind
#   npm run soak:faults -- --short      3, 1, 1 (what CI runs)
# WARREN_MOVE_REPLICAS=3 runs the move kills on 3-replica shards (a kill is then a failover).
set -e
cd "$(dirname "$0")/.."
if [ "$1" = "--short" ]; then kills=3; restarts=1; bulk=1; else kills=12; restarts=4; bulk=5; fi
WARREN_MOVE_KILL_ROUNDS="${WARREN_MOVE_KILL_ROUNDS:-$kills}" \
WARREN_MOVE_RESTART_ROUNDS="${WARREN_MOVE_RESTART_ROUNDS:-$restarts}" \
WARREN_BULK_KILL_ROUNDS="${WARREN_BULK_KILL_ROUNDS:-$bulk}" \
  exec npx vitest run --no-file-parallelism test/fleet/tenant-moves.test.ts test/fleet/sql-move.test.ts test/bulk-statement-crash.test.ts
