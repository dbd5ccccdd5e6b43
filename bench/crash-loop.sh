#!/usr/bin/env bash
# crash-loop.sh -- the long version of the SIGKILL test: run `pgwal pagetest` (4 workers, each op a
# durable commit, 1 MB segments, checkpoints every second and by WAL volume), kill it with SIGKILL
# at a random moment, then `pgwal pagetest --verify` (crash recovery + every page against the model
# + every acknowledged op present). Stops at the first failure, leaving the directory for autopsy.
#
# Usage: [ITERATIONS=200] [DIR=/tmp/pgwal-crash-loop] [PGWAL=native|jit|path] bench/crash-loop.sh
set -euo pipefail
ITERATIONS=${ITERATIONS:-200}
DIR=${DIR:-/tmp/pgwal-crash-loop}
# shellcheck source-path=SCRIPTDIR source=pgwal-cli.sh
source "$(dirname "$0")/pgwal-cli.sh"
rm -rf "$DIR"; mkdir -p "$DIR"
for ((i = 1; i <= ITERATIONS; i++)); do
    "${PG[@]}" pagetest -D "$DIR/data" --workers 4 --pages 64 --ack-file "$DIR/acks" --duration 600 \
        --wal-segsize 1 --max-wal-size 4 --checkpoint-timeout 1 --shared-buffers 48 >/dev/null 2>"$DIR/child.log" &
    child=$!
    before=$(stat -c %s "$DIR/acks" 2>/dev/null || echo 0)
    # kill at a random moment once the child has recovered and committed something new
    until [[ $(stat -c %s "$DIR/acks" 2>/dev/null || echo 0) -gt $before ]] || ! kill -0 "$child" 2>/dev/null; do sleep 0.02; done
    sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", r / 32768 * 2.0 }')"
    kill -9 "$child" 2>/dev/null || { echo "iteration $i: pagetest exited early:"; cat "$DIR/child.log"; exit 1; }
    wait "$child" 2>/dev/null || true
    if ! out=$("${PG[@]}" pagetest -D "$DIR/data" --verify --ack-file "$DIR/acks" 2>&1); then
        echo "iteration $i: VERIFICATION FAILED"; echo "$out"; exit 1
    fi
    echo "iteration $i/$ITERATIONS: ok ($(grep -c ': ok' <<< "$out") workers; $(tail -n 1 <<< "$out"))"
done
echo "crash-loop: $ITERATIONS SIGKILL iterations, no acknowledged op lost, every page equal to the model"
rm -rf "$DIR"
