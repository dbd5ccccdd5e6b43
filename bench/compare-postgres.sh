#!/usr/bin/env bash
# compare-postgres.sh -- `pgwal bench` vs PostgreSQL 15's own WAL on the same machine, same disk, same run.
#
# Usage: [RUNS=3] [DURATION=5] [BENCH_DIR=/tmp/pgwal-bench] [BENCH_PORT=54398] [PGWAL=native|jit|path/to/pgwal] \
#        bench/compare-postgres.sh [RUNS] [DURATION]
#
# 1. Starts a scratch PostgreSQL 15 cluster in $BENCH_DIR (run as the `postgres` user, 127.0.0.1 only,
#    fsync=on, synchronous_commit=on, wal_sync_method=fdatasync), stopped and removed at exit, even on failure.
# 2. Insert rate: one backend loops pg_logical_emit_message(false, ...) (non-transactional: WAL insert, no
#    flush wait) server-side for DURATION s, for 100 B, 1 kB and 8 kB payloads; also two backends at 100 B.
# 3. Commit rate: pgbench -f (SELECT pg_logical_emit_message(true, ...) = one 100 B record + commit + fdatasync)
#    with 1, 4, 16 and 64 clients, -T DURATION.
# 4. pg_test_fsync on $BENCH_DIR: fdatasync of one 8 kB write (ops/s, us/op).
# 5. The same workloads with `pgwal bench --json`, alternating with PostgreSQL, all in one PgWal data directory
#    kept for the whole run (as PostgreSQL's cluster is) with PostgreSQL's max_wal_size and min_wal_size, so both
#    sides write into segments recycled by the previous run's checkpoint (PgWal: its shutdown checkpoint;
#    PostgreSQL: the CHECKPOINT before each run). Runs the native pgwal (bench/pgwal-cli.sh) unless PGWAL is set. Prints medians
#    of RUNS runs, goals, commands.
set -euo pipefail
RUNS=${1:-${RUNS:-3}}
DURATION=${2:-${DURATION:-5}}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
BENCH_DIR=${BENCH_DIR:-/tmp/pgwal-bench}
PORT=${BENCH_PORT:-54398}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SIZES=(100 1024 8192)
CLIENTS=(1 4 16 64)

log() { printf '[compare-postgres] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
as_pg=(runuser -u postgres --)
# shellcheck source-path=SCRIPTDIR source=pg-scratch.sh
source "$ROOT/bench/pg-scratch.sh"

mkdir -p "$BENCH_DIR"
"${as_pg[@]}" test -x "$BENCH_DIR" || die "$BENCH_DIR must be traversable by the postgres user"
SCRATCH=$(mktemp -d "$BENCH_DIR/pg-cluster-XXXXXX")
PGDATA="$SCRATCH/data"
PWDATA=""
cleanup() {
    pg_scratch_stop "$PGDATA"
    rm -rf "$SCRATCH" ${PWDATA:+"$PWDATA"}
}
trap cleanup EXIT
trap 'exit 130' INT TERM
chmod 755 "$SCRATCH"; chown postgres: "$SCRATCH"

# shellcheck source-path=SCRIPTDIR source=pgwal-cli.sh
source "$ROOT/bench/pgwal-cli.sh"       # PG: the native pgwal unless PGWAL says otherwise

log "initdb + start scratch cluster on 127.0.0.1:$PORT in $SCRATCH"
pg_scratch_start "$PGDATA" "$SCRATCH" "$PORT" <<< "$pg_scratch_durable_conf"
psql=("$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -XAtq -v ON_ERROR_STOP=1 -d postgres)
# Emits SIZE-byte non-transactional messages in batches of 1000 for SECS seconds, timed inside the server.
"${psql[@]}" <<'SQL'
CREATE FUNCTION emit_for(sz int, secs float8, OUT n bigint, OUT elapsed float8, OUT wal_bytes numeric)
LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; l0 pg_lsn; payload text := repeat('x', sz);
BEGIN
    n := 0; l0 := pg_current_wal_insert_lsn(); t0 := clock_timestamp();
    LOOP
        PERFORM count(pg_logical_emit_message(false, 'p', payload)) FROM generate_series(1, 1000);
        n := n + 1000;
        EXIT WHEN clock_timestamp() - t0 >= make_interval(secs => secs);
    END LOOP;
    elapsed := extract(epoch FROM clock_timestamp() - t0);
    wal_bytes := pg_current_wal_insert_lsn() - l0;
END $$;
SQL
printf "SELECT pg_logical_emit_message(true, 'p', repeat('x', 100));\n" > "$SCRATCH/commit.sql"

declare -A V      # V[key] = space-separated per-run values
add() { V[$1]+="$2 "; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
med() { median <<< "${V[$1]}"; }

pg_insert() {   # size -> adds pg,ins,S (records/s) and pg,wal,S (WAL bytes/s)
    "${psql[@]}" -c CHECKPOINT
    local r; r=$("${psql[@]}" -F ' ' -c "SELECT n / elapsed, wal_bytes / elapsed FROM emit_for($1, $DURATION)")
    add "pg,ins,$1" "${r% *}"; add "pg,wal,$1" "${r#* }"
}
pg_insert2() {  # two backends at 100 B, started together
    "${psql[@]}" -c CHECKPOINT
    local q="SELECT n / elapsed FROM emit_for(100, $DURATION)"
    "${psql[@]}" -c "$q" > "$SCRATCH/b1" & local p1=$!
    "${psql[@]}" -c "$q" > "$SCRATCH/b2" & local p2=$!
    wait "$p1"; wait "$p2"
    add pg,ins2 "$(cat "$SCRATCH/b1" "$SCRATCH/b2" | awk '{s += $1} END {print s}')"
}
PGBENCH=("$PGBIN/pgbench" -h 127.0.0.1 -p "$PORT" -U postgres -n -f "$SCRATCH/commit.sql" -T "$DURATION")
pg_commit() {   # clients
    "${psql[@]}" -c CHECKPOINT
    local out; out=$("${PGBENCH[@]}" -c "$1" -j $(( $1 < 2 ? $1 : 2 )) postgres 2>&1) || die "pgbench failed: $out"
    add "pg,tps,$1" "$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time).*/\1/p' <<< "$out")"
    add "pg,lat,$1" "$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' <<< "$out")"
}
PWDATA=$(mktemp -u "$BENCH_DIR/pgwal-data-XXXXXX")   # created and initialised by the first pgwal bench
PW_WAL=(--max-wal-size 16384 --min-wal-size 1024)      # PostgreSQL's settings above
pgwal_run() {   # key workers size flush -> adds pw,KEY,{rps,mbps,cps,p50,p99,max}
    local key=$1; shift
    local args=(bench -D "$PWDATA" --workers "$1" --record-size "$2" --flush "$3" --duration "$DURATION" --json "${PW_WAL[@]}")
    [[ $3 == each ]] && args+=(--sync-method fdatasync)
    local out; out=$("${PG[@]}" "${args[@]}") || die "pgwal ${args[*]} failed"
    local vals; vals=$(tail -n 1 <<< "$out" | python3 -c 'import json, sys
d = json.loads(sys.stdin.read()); l = d["flush_latency_us"] or {}
print(*[d[k] or 0 for k in ("records_per_sec", "mb_per_sec", "commits_per_sec")], *[l[k] or 0 for k in ("p50", "p99", "max")])') \
        || die "cannot parse the last line of pgwal ${args[*]} as JSON: $(tail -n 1 <<< "$out")"
    local f a i=0; read -ra a <<< "$vals"
    for f in rps mbps cps p50 p99 max; do add "pw,$key,$f" "${a[i++]}"; done
}

for ((run = 1; run <= RUNS; run++)); do
    for s in "${SIZES[@]}"; do
        log "run $run/$RUNS: insert $s B (PostgreSQL, then pgwal)"
        pg_insert "$s"; pgwal_run "ins$s" 1 "$s" none
    done
    log "run $run/$RUNS: insert 100 B with 2 writers"
    pg_insert2; pgwal_run ins2 2 100 none
    for c in "${CLIENTS[@]}"; do
        log "run $run/$RUNS: commits, $c clients"
        pg_commit "$c"; pgwal_run "c$c" "$c" 100 each
    done
done
log "pg_test_fsync on $BENCH_DIR"
fsync_out=$("$PGBIN/pg_test_fsync" -f "$SCRATCH/pg_test_fsync.tmp" -s 2)
read -r FS_OPS FS_US < <(awk '/one 8kB write/ {s = 1} s && $1 == "fdatasync" {print $2, $4; exit}' <<< "$fsync_out")
[[ -n "${FS_US:-}" ]] || die "cannot find fdatasync in pg_test_fsync output"
log "dd: sequential write bandwidth of $BENCH_DIR (1 GiB, 1 MiB blocks, fdatasync)"
DD_GBS=$(dd if=/dev/zero of="$SCRATCH/dd.tmp" bs=1M count=1024 conv=fdatasync 2>&1 | awk '/copied/ {print $(NF-1), $NF}')
rm -f "$SCRATCH/dd.tmp"

echo
echo "PostgreSQL 15 vs pgwal bench on $(nproc) cores, $BENCH_DIR ($(df -P "$BENCH_DIR" | awk 'NR==2 {print $1}')); median of $RUNS runs of ${DURATION} s; MB = 10^6 bytes of payload"
echo
printf '| workload | PostgreSQL 15 | PgWal | ratio | goal | met |\n|---|---|---|---|---|---|\n'
row() {  # label pg ours fmt goal_kind goal  (goal_kind: ge = ratio >= goal, le = ratio <= goal, abs = ours >= goal, - none)
    awk -v l="$1" -v p="$2" -v o="$3" -v f="$4" -v k="$5" -v g="$6" 'BEGIN {
        r = (p > 0) ? o / p : 0
        goal = (k == "ge") ? sprintf(">= %gx", g) : (k == "le") ? sprintf("<= %gx", g) : (k == "abs") ? sprintf("PgWal >= %gx", g) : "-"
        met = (k == "ge") ? (r >= g) : (k == "le") ? (r <= g) : (k == "abs") ? (o >= g) : -1
        printf "| %s | " f " | " f " | %.2fx | %s | %s |\n", l, p, o, r, goal, (met < 0) ? "" : met ? "yes" : "NO" }'
}
mbs() { awk -v r="$1" -v s="$2" 'BEGIN {print r * s / 1e6}'; }
row "insert 100 B, 1 writer (records/s)" "$(med pg,ins,100)" "$(med pw,ins100,rps)" "%.0f" ge 2
row "insert 1 kB, 1 writer (MB/s)" "$(mbs "$(med pg,ins,1024)" 1024)" "$(mbs "$(med pw,ins1024,rps)" 1024)" "%.1f" - 0
row "insert 8 kB, 1 writer (MB/s)" "$(mbs "$(med pg,ins,8192)" 8192)" "$(mbs "$(med pw,ins8192,rps)" 8192)" "%.1f" ge 2
row "insert 100 B, 2 writers (records/s)" "$(med pg,ins2)" "$(med pw,ins2,rps)" "%.0f" - 0
row "2 writers / 1 writer (scaling)" "$(awk -v a="$(med pg,ins2)" -v b="$(med pg,ins,100)" 'BEGIN {print a / b}')" \
    "$(awk -v a="$(med pw,ins2,rps)" -v b="$(med pw,ins100,rps)" 'BEGIN {print a / b}')" "%.2fx" abs 1.6
for c in "${CLIENTS[@]}"; do
    if [[ $c == 64 ]]; then g=(ge 5); else g=(- 0); fi
    row "commits/s, $c clients (100 B + commit)" "$(med "pg,tps,$c")" "$(med "pw,c$c,cps")" "%.0f" "${g[@]}"
done
row "flush latency, 1 committer (us): PG = pg_test_fsync fdatasync 8 kB, PgWal = p50" "$FS_US" "$(med pw,c1,p50)" "%.0f" le 1.2
echo
echo "Anchors: pg_test_fsync fdatasync (8 kB) $FS_OPS ops/s = $FS_US us/op; dd sequential write $DD_GBS"
echo
echo "Details (medians):"
for s in "${SIZES[@]}"; do
    awk -v s="$s" -v pr="$(med "pg,ins,$s")" -v pw="$(med "pg,wal,$s")" -v or="$(med "pw,ins$s,rps")" -v om="$(med "pw,ins$s,mbps")" 'BEGIN {
        printf "  insert %5d B: PostgreSQL %.0f records/s, %.1f WAL MB/s (%.0f WAL bytes/record); pgwal %.0f records/s, mb_per_sec %.1f\n",
            s, pr, pw / 1e6, pw / pr, or, om }'
done
for c in "${CLIENTS[@]}"; do
    printf '  commits, %2d clients: pgbench latency average %s ms; pgwal flush latency p50 %s us, p99 %s us, max %s us\n' \
        "$c" "$(med "pg,lat,$c")" "$(med "pw,c$c,p50")" "$(med "pw,c$c,p99")" "$(med "pw,c$c,max")"
done
echo "  pg_test_fsync -s 2, one 8 kB write, fdatasync: $FS_OPS ops/s, $FS_US us/op"
echo "Per-run values (pg = PostgreSQL: ins = records/s, wal = WAL bytes/s, tps, lat = ms; pw = pgwal JSON fields):"
for k in $(printf '%s\n' "${!V[@]}" | sort -V); do printf '  %-16s %s\n' "$k" "${V[$k]}"; done
echo
echo "Commands:"
echo "  PostgreSQL 15: wal_sync_method=fdatasync, synchronous_commit=on, shared_buffers=256MB, wal_buffers=16MB, max_wal_size=16GB; CHECKPOINT before each run"
echo "  insert:   ${psql[*]} -c \"SELECT n / elapsed, wal_bytes / elapsed FROM emit_for(SIZE, $DURATION)\"  (SIZE in ${SIZES[*]}; 2 writers: two at once, SIZE 100)"
echo "            emit_for = loop { PERFORM count(pg_logical_emit_message(false, 'p', repeat('x', SIZE))) FROM generate_series(1, 1000) } for $DURATION s"
echo "  commits:  ${PGBENCH[*]} -c C -j min(C,2) postgres  (C in ${CLIENTS[*]}; script: $(cat "$SCRATCH/commit.sql"))"
echo "  fsync:    $PGBIN/pg_test_fsync -f $BENCH_DIR/<scratch>/pg_test_fsync.tmp -s 2"
echo "  pgwal:    ${PG[*]} bench -D <one data dir> ${PW_WAL[*]} --workers 1 --record-size SIZE --flush none --duration $DURATION --json  (SIZE in ${SIZES[*]})"
echo "            ${PG[*]} bench -D <one data dir> ${PW_WAL[*]} --workers 2 --record-size 100 --flush none --duration $DURATION --json"
echo "            ${PG[*]} bench -D <one data dir> ${PW_WAL[*]} --workers C --record-size 100 --flush each --duration $DURATION --json --sync-method fdatasync  (C in ${CLIENTS[*]})"
