#!/usr/bin/env bash
# torture.sh -- the long kill loop for PgWal.Kv: `pgwal torture` runs the kv workload (N clients
# committing atomic batches) in a worker process, SIGKILLs it at a random moment, recovers and
# checks (a) every acknowledged commit is present, (b) no batch is partially visible, (c) the
# tree's invariants; ITERATIONS times. Stops at the first failure, leaving DIR for autopsy.
# CI runs a bounded version (30 kills) in tests/PgWal.Tests/Kv/KvProcessTests.cs.
#
# Usage: [ITERATIONS=500] [CLIENTS=8] [DIR=/tmp/pgwal-torture] [SEED=$RANDOM] [PGWAL=native|jit|path] bench/torture.sh
set -euo pipefail
ITERATIONS=${ITERATIONS:-500}
CLIENTS=${CLIENTS:-8}
DIR=${DIR:-/tmp/pgwal-torture}
SEED=${SEED:-$RANDOM}
# shellcheck source-path=SCRIPTDIR source=pgwal-cli.sh
source "$(dirname "$0")/pgwal-cli.sh"
rm -rf "$DIR"
echo "torture.sh: $ITERATIONS kills, $CLIENTS clients, seed $SEED, in $DIR"
"${PG[@]}" torture -D "$DIR" -n "$ITERATIONS" --clients "$CLIENTS" --seed "$SEED" --min-run-ms 50 --max-run-ms 3000
rm -rf "$DIR"
