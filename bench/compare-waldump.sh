#!/usr/bin/env bash
# compare-waldump.sh -- `pgwal waldump` vs PostgreSQL's pg_waldump on the same real WAL, same run.
#
# Usage: [PG_MAJOR=15|16|17|18] bench/compare-waldump.sh [WAL_MB] [RUNS]
#        (defaults: PostgreSQL 15, 64 MB of WAL, 5 runs per tool and mode)
# PG_MAJOR picks the version whose server writes the WAL and whose pg_waldump is the anchor; PGBIN
# defaults to Debian's 15 or to /opt/pgNN/bin, where tests/PgWal.Tests/Fixtures/versions/
# build-postgres.sh NN /opt/pgNN installs 16, 17 and 18.
#
# 1. Makes real PostgreSQL WAL of that version: a scratch cluster (run as the `postgres` user, 127.0.0.1 only,
#    stopped at the end) with pgbench -i and a pgbench run until WAL_MB megabytes of WAL exist.
#    The WAL is kept in $BENCH_DIR (default /tmp/pgwal-bench) and reused by later runs of the same size.
# 2. Runs the native pgwal, published by bench/pgwal-cli.sh (PGWAL=jit for the JIT build).
# 3. Times both tools alternately, output to /dev/null, in three modes: --stats=record, plain
#    text, and -q (read and validate only), and prints the medians, MB/s, records/s and ratios.
set -euo pipefail
WAL_MB=${1:-64}
RUNS=${2:-5}
PG_MAJOR=${PG_MAJOR:-15}
if [[ $PG_MAJOR == 15 ]]; then PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}; else PGBIN=${PGBIN:-/opt/pg$PG_MAJOR/bin}; fi
export PGBIN
"$PGBIN/pg_waldump" --version | grep -Eq " $PG_MAJOR(\.|beta|rc)" \
    || { echo "[compare-waldump] $PGBIN/pg_waldump is not PostgreSQL $PG_MAJOR's" >&2; exit 1; }
BENCH_DIR=${BENCH_DIR:-/tmp/pgwal-bench}
PORT=${BENCH_PORT:-54399}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=pg-scratch.sh
source "$ROOT/bench/pg-scratch.sh"
if [[ $PG_MAJOR == 15 ]]; then WAL="$BENCH_DIR/wal-${WAL_MB}mb"; else WAL="$BENCH_DIR/wal-pg$PG_MAJOR-${WAL_MB}mb"; fi

log() { printf '[compare-waldump] %s\n' "$*" >&2; }

make_wal() {
    local scratch; scratch=$(mktemp -d /tmp/pgwal-bench-cluster-XXXXXX)
    chmod 755 "$scratch"; chown postgres: "$scratch"
    local pgdata="$scratch/data"
    local as_pg=(runuser -u postgres --)
    # (The trap clears itself: a RETURN trap left set would fire again when a later `source` returns.)
    trap 'pg_scratch_stop "$pgdata"; rm -rf "$scratch"; trap - RETURN' RETURN
    log "initdb + pgbench, until ${WAL_MB} MB of WAL (scratch cluster on 127.0.0.1:$PORT)"
    pg_scratch_start "$pgdata" "$scratch" "$PORT" <<CONF
max_wal_size = 8GB
min_wal_size = 1GB
checkpoint_timeout = 1h
wal_keep_size = 8GB
wal_recycle = off
fsync = off
synchronous_commit = off
CONF
    local psql=("$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -XAtq)
    "${psql[@]}" -c "CHECKPOINT" postgres
    local start; start=$("${psql[@]}" -c "SELECT pg_current_wal_insert_lsn()" postgres)
    "$PGBIN/pgbench" -h 127.0.0.1 -p "$PORT" -U postgres -i -s 2 -q postgres >/dev/null 2>&1
    while :; do
        local bytes; bytes=$("${psql[@]}" -c "SELECT pg_current_wal_insert_lsn() - '$start'::pg_lsn" postgres)
        (( ${bytes%.*} >= WAL_MB * 1024 * 1024 )) && break
        "$PGBIN/pgbench" -h 127.0.0.1 -p "$PORT" -U postgres -n -c 4 -j 2 -T 5 postgres >/dev/null 2>&1
        "${psql[@]}" -c "CHECKPOINT" postgres   # full-page images again after each checkpoint, as in production
    done
    local end; end=$("${psql[@]}" -c "SELECT pg_current_wal_insert_lsn()" postgres)
    "${psql[@]}" -c "SELECT pg_switch_wal()" postgres >/dev/null
    "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$pgdata" -m fast stop >/dev/null
    mkdir -p "$WAL.tmp"
    for f in "$pgdata"/pg_wal/*; do
        [[ $(basename "$f") =~ ^[0-9A-F]{24}$ ]] && cp "$f" "$WAL.tmp/"
    done
    # Start at the first record of the workload (the server may have written a few records first).
    local first; first=$("$PGBIN/pg_waldump" -p "$WAL.tmp" -s "$start" -n 1 | sed -n 's/.*lsn: \([0-9A-F]*\)\/0*\([0-9A-F]*\),.*/\1\/\2/p')
    printf '%s %s\n' "$first" "$end" > "$WAL.tmp/RANGE"
    mv "$WAL.tmp" "$WAL"
}

[[ -d "$WAL" ]] || { mkdir -p "$BENCH_DIR"; make_wal; }
read -r FIRST END < "$WAL/RANGE"

# shellcheck source-path=SCRIPTDIR source=pgwal-cli.sh
source "$ROOT/bench/pgwal-cli.sh"       # PG: the native pgwal unless PGWAL says otherwise

range=(-p "$WAL" -s "$FIRST" -e "$END")
hex2dec() { local hi=${1%/*} lo=${1#*/}; echo $(( (16#$hi << 32) + 16#$lo )); }
wal_bytes=$(( $(hex2dec "$END") - $(hex2dec "$FIRST") ))
records=$("$PGBIN/pg_waldump" "${range[@]}" --stats | awk '/^Total/ {print $2}')
lines=$("$PGBIN/pg_waldump" "${range[@]}" | wc -l)
cmp <("$PGBIN/pg_waldump" "${range[@]}") <("${PG[@]}" waldump "${range[@]}") >/dev/null \
    || { log "outputs differ: not benchmarking"; exit 1; }

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
declare -A T
for mode in "stats:--stats=record" "plain:" "quiet:-q"; do
    name=${mode%%:*}; opt=${mode#*:}
    pg=(); ours=()
    for ((i = 0; i < RUNS; i++)); do
        t0=$(now); "$PGBIN/pg_waldump" "${range[@]}" $opt >/dev/null; t1=$(now)
        "${PG[@]}" waldump "${range[@]}" $opt >/dev/null; t2=$(now)
        pg+=($(( (t1 - t0) / 1000 ))); ours+=($(( (t2 - t1) / 1000 )))
    done
    T[$name,pg]=$(printf '%s\n' "${pg[@]}" | median)
    T[$name,ours]=$(printf '%s\n' "${ours[@]}" | median)
done
startup=()
for ((i = 0; i < RUNS; i++)); do t0=$(now); "${PG[@]}" waldump --version >/dev/null; t1=$(now); startup+=($(( (t1 - t0) / 1000 ))); done
T[startup]=$(printf '%s\n' "${startup[@]}" | median)

echo
echo "WAL: $(( wal_bytes / 1024 / 1024 )) MB of real PostgreSQL $PG_MAJOR WAL (pgbench, $("$PGBIN/postgres" --version | awk '{print $3}')), $records records, $FIRST..$END; median of $RUNS runs; $(nproc) cores"
echo "pgwal process start-up (waldump --version): $(awk -v t="${T[startup]}" 'BEGIN{printf "%.1f", t/1000}') ms"
echo
printf '| mode | pg_waldump %s | pgwal waldump | ratio (pg time / pgwal time) |\n|---|---|---|---|\n' "$PG_MAJOR"
for name in stats plain quiet; do
    awk -v n="$name" -v p="${T[$name,pg]}" -v o="${T[$name,ours]}" -v b="$wal_bytes" -v r="$records" -v l="$lines" 'BEGIN{
        label = (n=="stats") ? "--stats=record" : (n=="plain") ? "plain text (" l " lines)" : "-q (read and validate only)";
        printf "| %s | %.1f ms, %.0f MB/s, %.2f M rec/s | %.1f ms, %.0f MB/s, %.2f M rec/s | %.2fx |\n",
            label, p/1000, b/p, r/p, o/1000, b/o, r/o, p/o }'
done
