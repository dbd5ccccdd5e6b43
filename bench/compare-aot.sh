#!/usr/bin/env bash
# compare-aot.sh -- the native (AOT) pgwal against the JIT build on the hot paths and on start-up,
# and start-up against PostgreSQL's own tools; same machine, same run, builds alternating, medians.
#
# Usage: [RUNS=5] [DURATION=5] [WAL_MB=1024] [RECOVERY_MB=600] [BENCH_DIR=/tmp/pgwal-bench] [BENCH_PORT=54397] \
#        bench/compare-aot.sh
#
# Builds: native = `dotnet publish src/PgWal.Cli -c Release -o out` (out/pgwal), JIT = `dotnet
# src/PgWal.Cli/bin/Release/net10.0/pgwal.dll` (both made here). Each measurement runs the two builds one
# after the other, RUNS times, and reports the median of each and native/JIT (> 1 = native faster):
#   waldump     --stats=record and plain text over $BENCH_DIR/wal-${WAL_MB}mb (real PostgreSQL 15 WAL, made by
#               bench/compare-waldump.sh WAL_MB if missing): MB/s of WAL, output to /dev/null
#   bench       `pgwal bench --workers 1 --record-size 100|8192 --flush none --duration DURATION --json`: records/s
#   kv bench    `pgwal kv bench --workload commit|read --keys 100000 --clients 16 --duration DURATION --json`: ops/s
#               (each on a store loaded once per build)
#   recovery    `pgwal recover --json` on fresh copies of one crashed `pagetest --wal-mb RECOVERY_MB` directory: MB/s
#   start-up    process start to exit: `--version`; `controldata DIR` vs PostgreSQL's `pg_controldata DIR`; a one-shot
#               durable `kv put` vs `psql -c` running the same UPSERT against a scratch PostgreSQL 15 cluster (127.0.0.1,
#               fsync on, synchronous_commit on; the table kv(k bytea primary key, v bytea))
set -euo pipefail
RUNS=${RUNS:-5}
DURATION=${DURATION:-5}
WAL_MB=${WAL_MB:-1024}
RECOVERY_MB=${RECOVERY_MB:-600}
BENCH_DIR=${BENCH_DIR:-/tmp/pgwal-bench}
PORT=${BENCH_PORT:-54397}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=pg-scratch.sh
source "$ROOT/bench/pg-scratch.sh"
log() { printf '[compare-aot] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer"

PGWAL=native source "$ROOT/bench/pgwal-cli.sh"; NATIVE=("${PG[@]}")
PGWAL=jit source "$ROOT/bench/pgwal-cli.sh"; JIT=("${PG[@]}")
WAL="$BENCH_DIR/wal-${WAL_MB}mb"
[[ -d $WAL ]] || { log "making ${WAL_MB} MB of PostgreSQL WAL"; BENCH_PORT=$PORT bash "$ROOT/bench/compare-waldump.sh" "$WAL_MB" 1 >/dev/null; }
read -r FIRST END < "$WAL/RANGE"

mkdir -p "$BENCH_DIR"
SCRATCH=$(mktemp -d "$BENCH_DIR/aot-XXXXXX")
chmod 755 "$SCRATCH"; chown postgres: "$SCRATCH"
PGDATA="$SCRATCH/pg"
cleanup() { pg_scratch_stop "$PGDATA"; rm -rf "$SCRATCH"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
json() { python3 -c "import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])$1)"; }
declare -A R            # R[name,build] = "v1 v2 ..." per run
add() { R[$1,$2]="${R[$1,$2]:-} $3"; }
ms() { local t0 t1; t0=$(now); "$@" >/dev/null 2>&1; t1=$(now); awk -v d=$(( t1 - t0 )) 'BEGIN{printf "%.2f", d/1e6}'; }
pw() { local b=$1; shift; if [[ $b == native ]]; then "${NATIVE[@]}" "$@"; else "${JIT[@]}" "$@"; fi; }   # pw BUILD ARGS...

hex2dec() { local hi=${1%/*} lo=${1#*/}; echo $(( (16#$hi << 32) + 16#$lo )); }
wal_bytes=$(( $(hex2dec "$END") - $(hex2dec "$FIRST") ))
range=(-p "$WAL" -s "$FIRST" -e "$END")

log "waldump over $(( wal_bytes >> 20 )) MB, $RUNS runs"
for ((i = 0; i < RUNS; i++)); do
    for b in native jit; do
        for mode in stats plain; do
            opt=(); [[ $mode == stats ]] && opt=(--stats=record)
            t=$(ms pw $b waldump "${range[@]}" "${opt[@]}")
            add "waldump $mode" $b "$(awk -v b="$wal_bytes" -v t="$t" 'BEGIN{printf "%.1f", b/1048576/(t/1000)}')"
        done
    done
done

log "bench inserts, $RUNS x ${DURATION} s per size and build"
for ((i = 0; i < RUNS; i++)); do
    for b in native jit; do
        for size in 100 8192; do
            rm -rf "$SCRATCH/bench"
            out=$(pw $b bench -D "$SCRATCH/bench" --workers 1 --record-size $size --flush none --duration "$DURATION" --json)
            add "bench $size B" $b "$(json "['records_per_sec']" <<< "$out")"
        done
    done
done

log "kv bench commit/read, $RUNS x ${DURATION} s per build"
for b in native jit; do
    pw $b kv -D "$SCRATCH/kv-$b" bench --workload load --keys 100000 --json >/dev/null
done
for ((i = 0; i < RUNS; i++)); do
    for b in native jit; do
        for w in commit read; do
            out=$(pw $b kv -D "$SCRATCH/kv-$b" bench --workload $w --keys 100000 --clients 16 --duration "$DURATION" --json)
            add "kv $w" $b "$(json "['ops_per_sec']" <<< "$out")"
        done
    done
done

log "recovery of ${RECOVERY_MB} MB, $RUNS runs per build"
"${NATIVE[@]}" pagetest -D "$SCRATCH/crashed" --wal-mb "$RECOVERY_MB" --crash --flush none --max-wal-size $(( RECOVERY_MB * 4 )) --checkpoint-timeout 3600 >/dev/null 2>&1
for ((i = 0; i < RUNS; i++)); do
    for b in native jit; do
        rm -rf "$SCRATCH/copy"; cp -a "$SCRATCH/crashed" "$SCRATCH/copy"; sync
        out=$(pw $b recover -D "$SCRATCH/copy" --json -q)
        add "recovery" $b "$(json "['replay_mb_per_sec']" <<< "$out")"
    done
done
rm -rf "$SCRATCH/copy" "$SCRATCH/crashed"

log "start-up: --version, controldata vs pg_controldata, kv put vs psql -c UPSERT"
pg_scratch_start "$PGDATA" "$SCRATCH" "$PORT" <<< "$pg_scratch_durable_conf"
psql=("$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -XAtq -d postgres)
"${psql[@]}" -c "CREATE TABLE kv(k bytea PRIMARY KEY, v bytea)"
"${NATIVE[@]}" init -D "$SCRATCH/cd" >/dev/null
"${NATIVE[@]}" kv -D "$SCRATCH/put-native" put warm x >/dev/null
"${JIT[@]}" kv -D "$SCRATCH/put-jit" put warm x >/dev/null
for ((i = 0; i < RUNS * 4; i++)); do
    for b in native jit; do
        add "--version (ms)" $b "$(ms pw $b --version)"
        add "controldata (ms)" $b "$(ms pw $b controldata "$SCRATCH/cd")"
        add "kv put one-shot (ms)" $b "$(ms pw $b kv -D "$SCRATCH/put-$b" put "k$i" "value $i")"
    done
    add "controldata (ms)" pg "$(ms "$PGBIN/pg_controldata" "$SCRATCH/cd")"
    add "kv put one-shot (ms)" pg "$(ms "${psql[@]}" -c "INSERT INTO kv VALUES (convert_to('k$i','UTF8'), convert_to('value $i','UTF8')) ON CONFLICT (k) DO UPDATE SET v = excluded.v")"
done

echo
echo "native (AOT) vs JIT pgwal, and start-up vs PostgreSQL 15's tools; $(nproc) cores; medians of $RUNS runs (start-up: $(( RUNS * 4 )))"
echo "native: ${NATIVE[*]}"
echo "JIT:    ${JIT[*]}"
echo
printf '| measurement | native (AOT) | JIT | native / JIT | PostgreSQL 15 | native / PostgreSQL |\n|---|---|---|---|---|---|\n'
for name in "waldump stats" "waldump plain" "bench 100 B" "bench 8192 B" "kv commit" "kv read" "recovery" "--version (ms)" "controldata (ms)" "kv put one-shot (ms)"; do
    n=$(tr ' ' '\n' <<< "${R[$name,native]}" | grep . | median)
    j=$(tr ' ' '\n' <<< "${R[$name,jit]}" | grep . | median)
    p=""; [[ -n ${R[$name,pg]:-} ]] && p=$(tr ' ' '\n' <<< "${R[$name,pg]}" | grep . | median)
    awk -v name="$name" -v n="$n" -v j="$j" -v p="$p" 'BEGIN{
        time = (name ~ /\(ms\)/);                   # times: smaller is better, so the ratio is inverted
        r = time ? j / n : n / j;
        pr = (p == "") ? "" : sprintf("%.2fx", time ? p / n : n / p);
        unit = (name ~ /^waldump|^recovery/) ? " MB/s" : (name ~ /^bench/) ? " rec/s" : (name ~ /^kv (commit|read)/) ? " ops/s" : " ms";
        printf "| %s | %s%s | %s%s | %.2fx | %s | %s |\n", name, n, unit, j, unit, r, (p == "" ? "" : p unit), pr }'
done
echo
echo "Per run:"
for key in "${!R[@]}"; do printf '  %-34s %s\n' "$key" "${R[$key]}"; done | sort
