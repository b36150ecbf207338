#!/bin/sh
# The storage node image's entry point (storage-node/Dockerfile).
#
#   WARREN_NODE_ID unset: one embedded storage node (main.ts) on 7070, as `npm start` runs it.
#   WARREN_NODE_ID set:   one replica of a shard (replication/replicated-node.ts): the replication
#                         protocol on 7071, the KV API on 7070 while it holds the lease. Needs
#                         WARREN_SHARD, WARREN_DIRECTORY_URL (the edge, whose POST /fleet/v1/op is
#                         the FleetDirectory), WARREN_PEERS (id=url,… of the shard's other replicas)
#                         and WARREN_FLEET_SECRET.
#
# A replica exits with code 75 when it stops being the leaseholder (crash-only roles) or when a
# snapshot install is cut short; it is started again here at once, so the container keeps running.
# Any other exit ends the container (its platform restarts it). SIGTERM is passed on and ends the loop.
set -u
DATA_DIR="${WARREN_DATA_DIR:-/data}"
if [ -z "${WARREN_NODE_ID:-}" ]; then
  exec node storage-node/main.ts --data-dir "$DATA_DIR" --port 7070 --host 0.0.0.0
fi
: "${WARREN_SHARD:?WARREN_SHARD is required with WARREN_NODE_ID}"
: "${WARREN_DIRECTORY_URL:?WARREN_DIRECTORY_URL is required with WARREN_NODE_ID}"
child=0
stopping=0
trap 'stopping=1; [ "$child" -ne 0 ] && kill -TERM "$child"' TERM INT
while :; do
  node storage-node/replication/replicated-node.ts --id "$WARREN_NODE_ID" --shard "$WARREN_SHARD" \
    --port 7070 --repl-port 7071 --host 0.0.0.0 --data-dir "$DATA_DIR" \
    --directory "$WARREN_DIRECTORY_URL" --peers "${WARREN_PEERS:-}" &
  child=$!
  wait "$child"
  code=$?
  # wait returns early (>128) when a trapped signal arrives: wait for the node itself to finish.
  if [ "$stopping" -eq 1 ]; then wait "$child"; exit 0; fi
  [ "$code" -eq 75 ] || exit "$code"
done
