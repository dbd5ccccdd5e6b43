#!/usr/bin/env bash
# compare-recovery.sh -- crash-recovery replay speed: PostgreSQL 15's redo vs `pgwal recover`, same machine, same run.
#
# Usage: [RUNS=3] [WAL_MB=600] [SCALE=20] [CLIENTS=4] [SHARED_BUFFERS=512MB] [DROP_CACHES=0] \
#        [BENCH_DIR=/tmp/pgwal-bench] [BENCH_PORT=54399] [PGWAL=native|jit|path] \
#        bench/compare-recovery.sh [RUNS] [WAL_MB]
#
# 1. Starts a scratch PostgreSQL 15 cluster in $BENCH_DIR (run as the `postgres` user, 127.0.0.1 only,
#    full_page_writes=on, max_wal_size >= 8GB, checkpoint_timeout=1h so no checkpoint interrupts the workload,
#    log with millisecond timestamps), stopped and removed at exit, even on failure.
# 2. Each run: pgbench -i -s SCALE, CHECKPOINT, then pgbench -M prepared -c CLIENTS in the background until WAL_MB MiB of
#    WAL exist past the checkpoint's redo pointer, then `pg_ctl stop -m immediate` under load (a crash).
#    pg_waldump --stats counts the records recovery will replay; then `sync` (and, with DROP_CACHES=1, drop the
#    page cache) and `pg_ctl start -w` with a fresh log file. From that log:
#       "redo starts at X/Y"  and  "redo done at A/B system usage: CPU: ... elapsed: S s"
#    MB replayed = (A/B - X/Y) / 2^20, seconds = S, MB/s = MB / S. Also reported: redo time from the log
#    timestamps of those two lines (ms resolution), the whole restart (pg_ctl start -w wall time and log
#    "starting PostgreSQL" .. "ready to accept connections"), and the end-of-recovery checkpoint.
# 3. Each run, PgWal (alternating with PostgreSQL), each in a fresh directory deleted after:
#       $PGWAL pagetest -D DIR --wal-mb WAL_MB --crash     (writes WAL, exits without a shutdown checkpoint)
#       cp -a DIR COPY; sync
#       $PGWAL recover -D DIR --json                      (crash recovery)
#       $PGWAL recover -D COPY --decode-only --json       (reads and decodes the same WAL, applies nothing)
#    The last stdout line of `recover` is JSON with replayed_mb, replay_seconds, replay_mb_per_sec, records.
#    PGWAL: the native pgwal by default (bench/pgwal-cli.sh; PGWAL=jit for the JIT build); if a pgwal command
#    fails, the PgWal side is skipped with a message.
# 4. Prints medians of RUNS runs, per-run values, the log lines parsed and the commands.
# Note: PostgreSQL replays pgbench WAL, PgWal its own page-level test workload: same size, not the same records.
# Run time is dominated by making the PostgreSQL WAL: the first ~280 MiB after the checkpoint come fast (mostly
# full-page images), then pgbench adds only ~2 MB/s on 2 cores, so WAL_MB=600 takes ~3 minutes per run.
set -euo pipefail
RUNS=${1:-${RUNS:-3}}
WAL_MB=${2:-${WAL_MB:-600}}
SCALE=${SCALE:-20}
CLIENTS=${CLIENTS:-4}
SHARED_BUFFERS=${SHARED_BUFFERS:-512MB}
DROP_CACHES=${DROP_CACHES:-0}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
BENCH_DIR=${BENCH_DIR:-/tmp/pgwal-bench}
PORT=${BENCH_PORT:-54399}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MAX_WAL_MB=$(( WAL_MB * 4 > 8192 ? WAL_MB * 4 : 8192 ))   # no WAL-size-triggered checkpoint during the workload

log() { printf '[compare-recovery] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
as_pg=(runuser -u postgres --)
# shellcheck source-path=SCRIPTDIR source=pg-scratch.sh
source "$ROOT/bench/pg-scratch.sh"
[[ $RUNS =~ ^[1-9][0-9]*$ && $WAL_MB =~ ^[1-9][0-9]*$ ]] || die "RUNS and WAL_MB must be positive integers"

# --- PgWal command (may be "dotnet path/pgwal.dll", so it is kept as an array) ---------------------------------
PGWAL_SKIP=""
# shellcheck source-path=SCRIPTDIR source=pgwal-cli.sh
source "$ROOT/bench/pgwal-cli.sh"       # PG: the native pgwal unless PGWAL says otherwise
PGWAL_CMD=("${PG[@]}")
skip_pgwal() { PGWAL_SKIP=$1; log "PgWal side skipped from now on: $1"; }
[[ -z $PGWAL_SKIP ]] || log "PgWal side skipped: $PGWAL_SKIP"

# --- scratch cluster --------------------------------------------------------------------------------------------
mkdir -p "$BENCH_DIR"
"${as_pg[@]}" test -x "$BENCH_DIR" || die "$BENCH_DIR must be traversable by the postgres user"
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then die "port $PORT on 127.0.0.1 is in use (set BENCH_PORT)"; fi
SCRATCH=$(mktemp -d "$BENCH_DIR/pg-recovery-XXXXXX")
PGDATA="$SCRATCH/data"
RUNDIR=""
BGPID=""
cleanup() {
    pg_scratch_stop "$PGDATA"
    if [[ -n "$BGPID" ]]; then kill "$BGPID" 2>/dev/null || true; wait "$BGPID" 2>/dev/null || true; fi
    rm -rf "$SCRATCH" ${RUNDIR:+"$RUNDIR"}
}
trap cleanup EXIT
trap 'exit 130' INT TERM
chmod 755 "$SCRATCH"; chown postgres: "$SCRATCH"

log "initdb + start scratch cluster on 127.0.0.1:$PORT in $SCRATCH"
pg_scratch_start "$PGDATA" "$SCRATCH" "$PORT" <<CONF
shared_buffers = $SHARED_BUFFERS
wal_buffers = 16MB
wal_level = replica
fsync = on
synchronous_commit = off
full_page_writes = on
wal_compression = off
max_wal_size = ${MAX_WAL_MB}MB
min_wal_size = 1GB
checkpoint_timeout = 1h
autovacuum = off
logging_collector = off
log_min_messages = info
log_checkpoints = on
log_line_prefix = '%m [%p] '
log_timezone = 'UTC'
CONF
psql=("$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -XAtq -v ON_ERROR_STOP=1 -d postgres)
PGBENCH=("$PGBIN/pgbench" -h 127.0.0.1 -p "$PORT" -U postgres)

declare -A V      # V[key] = space-separated per-run values
add() { V[$1]+="$2 "; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
med() { median <<< "${V[$1]:-}"; }
hex2dec() { local hi=${1%/*} lo=${1#*/}; echo $(( (16#$hi << 32) + 16#$lo )); }
now_ns() { date +%s%N; }
log_ms() { date -u -d "$(awk '{print $1, $2, $3}' <<< "$1")" +%s%3N; }   # ms since epoch of a '%m [%p] ' log line
quiesce() {   # flush pending writeback so it does not compete with the timed replay; optionally drop the page cache
    sync
    if [[ $DROP_CACHES == 1 ]]; then echo 3 > /proc/sys/vm/drop_caches || die "cannot drop caches (DROP_CACHES=1)"; fi
}
PARSED=()         # the log lines parsed, per run

pg_run() {   # run number
    local run=$1 out
    log "run $run/$RUNS: PostgreSQL: pgbench -i -s $SCALE, CHECKPOINT"
    out=$("${PGBENCH[@]}" -i -s "$SCALE" -q postgres 2>&1) || die "pgbench -i failed: $out"
    "${psql[@]}" -c CHECKPOINT
    local redo; redo=$("${psql[@]}" -c "SELECT redo_lsn FROM pg_control_checkpoint()")
    local target=$(( WAL_MB * 1024 * 1024 )) bytes=0 t0 t1
    log "run $run/$RUNS: PostgreSQL: pgbench -c $CLIENTS until $WAL_MB MiB of WAL past the checkpoint's redo $redo"
    "${PGBENCH[@]}" -n -M prepared -c "$CLIENTS" -j 2 -T 36000 postgres > "$SCRATCH/pgbench-$run.out" 2>&1 &
    BGPID=$!
    t0=$(now_ns)
    local next=$(( t0 + 15000000000 ))
    while :; do
        bytes=$("${psql[@]}" -c "SELECT pg_current_wal_lsn() - '$redo'::pg_lsn")
        (( ${bytes%.*} >= target )) && break
        kill -0 "$BGPID" 2>/dev/null || die "pgbench ended early: $(tail -n 5 "$SCRATCH/pgbench-$run.out")"
        if (( $(now_ns) >= next )); then
            log "run $run/$RUNS: PostgreSQL: $(( ${bytes%.*} / 1048576 )) of $WAL_MB MiB after $(( ($(now_ns) - t0) / 1000000000 )) s"
            next=$(( next + 15000000000 ))
        fi
        sleep 0.2
    done
    t1=$(now_ns)
    add pg,gen "$(awk -v n=$(( (t1 - t0) / 1000000 )) 'BEGIN {printf "%.1f", n / 1000}')"
    log "run $run/$RUNS: PostgreSQL: $(( ${bytes%.*} / 1048576 )) MiB of WAL in $(( (t1 - t0) / 1000000 )) ms; pg_ctl stop -m immediate (crash under load)"
    "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null
    local i=0; while (( i++ < 100 )) && kill -0 "$BGPID" 2>/dev/null; do sleep 0.1; done   # pgbench aborts by itself
    kill "$BGPID" 2>/dev/null || true; wait "$BGPID" 2>/dev/null || true; BGPID=""
    # Records recovery will replay: pg_waldump reads to the end of valid WAL (exit 1 there, after the stats).
    local total records; total=$("$PGBIN/pg_waldump" -p "$PGDATA/pg_wal" -s "$redo" --stats 2>/dev/null | grep -m1 '^Total' || true)
    records=$(awk '{print $2}' <<< "$total")
    add pg,fpipct "$(awk '{printf "%.1f", ($7 > 0 ? 100 * $5 / $7 : 0)}' <<< "$total")"
    quiesce
    local rlog="$SCRATCH/restart-$run.log"
    log "run $run/$RUNS: PostgreSQL: pg_ctl start -w (crash recovery)"
    t0=$(now_ns)
    "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -l "$rlog" -w -t 3600 start >/dev/null || die "restart failed: $(tail -n 20 "$rlog")"
    t1=$(now_ns)
    sed 's/^/    | /' "$rlog" >&2

    local l_start l_done l_first l_ready l_ckpt
    l_start=$(grep -m1 'redo starts at ' "$rlog") || die "no 'redo starts at' in $rlog"
    l_done=$(grep -m1 'redo done at ' "$rlog") || die "no 'redo done at' in $rlog"
    l_first=$(head -n 1 "$rlog")
    l_ready=$(grep -m1 'database system is ready to accept connections' "$rlog") || die "no 'ready to accept connections' in $rlog"
    l_ckpt=$(grep -m1 'checkpoint complete: ' "$rlog" || true)
    local a b el
    a=$(sed -n 's/.*redo starts at \([0-9A-F]*\/[0-9A-F]*\).*/\1/p' <<< "$l_start")
    b=$(sed -n 's/.*redo done at \([0-9A-F]*\/[0-9A-F]*\).*/\1/p' <<< "$l_done")
    el=$(sed -n 's/.*elapsed: \([0-9.]*\) s.*/\1/p' <<< "$l_done")
    [[ -n $a && -n $b && -n $el ]] || die "cannot parse: '$l_start' / '$l_done'"
    [[ $a == "$redo" ]] || log "warning: redo started at $a, not at the checkpoint's redo $redo (a checkpoint during the workload?)"
    local rbytes=$(( $(hex2dec "$b") - $(hex2dec "$a") ))
    local ts_redo=$(( $(log_ms "$l_done") - $(log_ms "$l_start") ))
    local ts_up=$(( $(log_ms "$l_ready") - $(log_ms "$l_first") ))
    local ckpt; ckpt=$(sed -n 's/.*total=\([0-9.]*\) s.*/\1/p' <<< "$l_ckpt")
    local vals; vals=$(awk -v b="$rbytes" -v el="$el" -v tr="$ts_redo" -v tu="$ts_up" -v w="$(( (t1 - t0) / 1000000 ))" -v n="${records:-0}" 'BEGIN {
        mb = b / 1048576; printf "%.1f %.2f %.1f %.3f %.1f %.3f %.1f %.3f %d %.0f\n",
            mb, el, (el > 0 ? mb / el : 0), tr / 1000, (tr > 0 ? mb / (tr / 1000) : 0), w / 1000, mb / (w / 1000), tu / 1000, n, (el > 0 ? n / el : 0) }')
    local f x i=0; read -ra x <<< "$vals"
    for f in mb el mbps tsredo tsmbps wall wallmbps up records rps; do add "pg,$f" "${x[i++]}"; done
    add pg,ckpt "${ckpt:-0}"
    log "run $run/$RUNS: PostgreSQL redo $a .. $b = ${x[0]} MiB in ${x[1]} s (log elapsed) = ${x[2]} MB/s;" \
        "log timestamps ${x[3]} s = ${x[4]} MB/s; pg_ctl start -w ${x[5]} s; ${x[8]} records"
    PARSED+=("run $run: pg_waldump --stats: $(tr -s ' ' <<< "$total")" "run $run: $l_start" "run $run: $l_done" ${l_ckpt:+"run $run: $l_ckpt"} "run $run: $l_ready")
}

pgwal_json() {   # label dir [extra args] -> echoes "replayed_mb replay_seconds replay_mb_per_sec records wall_s", or the reason and 1
    local label=$1 dir=$2; shift 2
    local out rc=0 t0 t1
    t0=$(now_ns)
    out=$("${PGWAL_CMD[@]}" recover -D "$dir" "$@" --json) || rc=$?
    t1=$(now_ns)
    if (( rc != 0 )); then echo "\`${PGWAL_CMD[*]} recover -D DIR $* --json\` ($label) failed with exit $rc"; return 1; fi
    local vals
    vals=$(tail -n 1 <<< "$out" | python3 -c 'import json, sys
d = json.loads(sys.stdin.read())
print(*[float(d[k]) for k in ("replayed_mb", "replay_seconds", "replay_mb_per_sec")], int(d["records"]))' 2>/dev/null) || {
        echo "cannot parse the last stdout line of pgwal recover $* ($label) as JSON with replayed_mb, replay_seconds, replay_mb_per_sec, records: $(tail -n 1 <<< "$out")"
        return 1; }
    echo "$vals $(awk -v n=$(( (t1 - t0) / 1000000 )) 'BEGIN {printf "%.3f", n / 1000}')"
}

pgwal_run() {   # run number
    local run=$1
    [[ -z $PGWAL_SKIP ]] || return 0
    RUNDIR=$(mktemp -d "$BENCH_DIR/pgwal-recovery-XXXXXX")
    mkdir "$RUNDIR/data"
    # No checkpoint may run while the WAL is generated (max_wal_size far above WAL_MB), so that
    # recovery replays all of it, as PostgreSQL's does after its CHECKPOINT.
    local pagetest=(pagetest -D "$RUNDIR/data" --wal-mb "$WAL_MB" --crash --flush none --max-wal-size $((WAL_MB * 4)) --checkpoint-timeout 3600)
    log "run $run/$RUNS: PgWal: ${PGWAL_CMD[*]} ${pagetest[*]}"
    local rc=0
    "${PGWAL_CMD[@]}" "${pagetest[@]}" >/dev/null 2>&1 || rc=$?
    if (( rc != 0 )); then
        skip_pgwal "\`${PGWAL_CMD[*]} pagetest -D DIR --wal-mb $WAL_MB --crash\` failed with exit $rc"
    else
        cp -a "$RUNDIR/data" "$RUNDIR/copy"
        quiesce
        local r d
        log "run $run/$RUNS: PgWal: recover --json"
        if ! r=$(pgwal_json recover "$RUNDIR/data"); then
            skip_pgwal "$r"
        else
            quiesce
            log "run $run/$RUNS: PgWal: recover --decode-only --json (same WAL, copy)"
            if ! d=$(pgwal_json decode-only "$RUNDIR/copy" --decode-only); then
                skip_pgwal "$d"
            else
                local f x y i=0; read -ra x <<< "$r"; read -ra y <<< "$d"
                for f in mb s mbps records wall; do add "pw,$f" "${x[i]}"; add "pd,$f" "${y[i]}"; i=$((i + 1)); done
                log "run $run/$RUNS: PgWal recover ${x[0]} MB in ${x[1]} s = ${x[2]} MB/s (${x[3]} records);" \
                    "decode-only ${y[0]} MB in ${y[1]} s = ${y[2]} MB/s"
            fi
        fi
    fi
    rm -rf "$RUNDIR"; RUNDIR=""
}

for ((run = 1; run <= RUNS; run++)); do
    if (( run % 2 )); then pg_run "$run"; pgwal_run "$run"; else pgwal_run "$run"; pg_run "$run"; fi
done
"${as_pg[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -m fast stop >/dev/null

# --- report -----------------------------------------------------------------------------------------------------
echo
echo "Crash recovery: PostgreSQL 15 vs PgWal on $(nproc) cores, $BENCH_DIR ($(df -P "$BENCH_DIR" | awk 'NR==2 {print $1}'));" \
     "WAL_MB=$WAL_MB, median of $RUNS runs; page cache $([[ $DROP_CACHES == 1 ]] && echo dropped || echo warm) before each replay"
echo
printf '%-30s %12s %10s %10s   (median of %d)\n' "" "MB replayed" "seconds" "MB/s" "$RUNS"
trow() { awk -v l="$1" -v m="$2" -v s="$3" -v r="$4" 'BEGIN {printf "%-30s %12.1f %10.2f %10.1f\n", l, m, s, r}'; }
trow "PostgreSQL 15 redo" "$(med pg,mb)" "$(med pg,el)" "$(med pg,mbps)"
trow "PostgreSQL 15 restart (wall)" "$(med pg,mb)" "$(med pg,wall)" "$(med pg,wallmbps)"
if [[ -n "${V[pw,mb]:-}" ]]; then
    trow "PgWal recovery" "$(med pw,mb)" "$(med pw,s)" "$(med pw,mbps)"
    trow "PgWal read+decode only" "$(med pd,mb)" "$(med pd,s)" "$(med pd,mbps)"
    awk -v o="$(med pw,mbps)" -v p="$(med pg,mbps)" 'BEGIN {printf "%-30s %12s %10s %9.2fx\n", "ratio PgWal / PostgreSQL", "", "", (p > 0 ? o / p : 0)}'
    [[ -z $PGWAL_SKIP ]] || echo "(PgWal: only $(wc -w <<< "${V[pw,mb]}") of $RUNS runs; later ones skipped: $PGWAL_SKIP)"
else
    printf '%-30s %s\n' "PgWal recovery" "skipped: $PGWAL_SKIP" "PgWal read+decode only" "skipped" "ratio PgWal / PostgreSQL" "-"
fi
echo
echo "MB = 2^20 bytes for PostgreSQL (redo done LSN - redo starts LSN); PgWal rows are its JSON replayed_mb, replay_seconds,"
echo "replay_mb_per_sec as reported. ratio = PgWal recovery MB/s / PostgreSQL redo MB/s (different workloads: pgbench vs pagetest)."
echo
echo "Details (medians):"
awk -v r="$(med pg,records)" -v rps="$(med pg,rps)" -v tr="$(med pg,tsredo)" -v tm="$(med pg,tsmbps)" -v up="$(med pg,up)" -v ck="$(med pg,ckpt)" 'BEGIN {
    printf "  PostgreSQL: %d records (pg_waldump --stats from the redo pointer), %.0f records/s over the log elapsed;\n", r, rps
    printf "              redo by log timestamps %.3f s = %.1f MB/s; log start..ready %.3f s; end-of-recovery checkpoint total=%.3f s\n", tr, tm, up, ck }'
awk -v f="$(med pg,fpipct)" -v g="$(med pg,gen)" 'BEGIN {
    printf "              full-page images %.1f%% of the WAL bytes (pg_waldump --stats); WAL generated by pgbench in %.1f s\n", f, g }'
if [[ -n "${V[pw,mb]:-}" ]]; then
    awk -v r="$(med pw,records)" -v s="$(med pw,s)" -v w="$(med pw,wall)" -v dr="$(med pd,records)" -v ds="$(med pd,s)" -v dw="$(med pd,wall)" 'BEGIN {
        printf "  PgWal:      recover %d records, %.0f records/s, process wall %.3f s; decode-only %d records, %.0f records/s, process wall %.3f s\n",
            r, (s > 0 ? r / s : 0), w, dr, (ds > 0 ? dr / ds : 0), dw }'
fi
echo "Per-run values (pg: mb, el = log elapsed s, mbps, tsredo = s by log timestamps, wall = pg_ctl start -w s, up = log start..ready s,"
echo "               ckpt = end-of-recovery checkpoint s, records, rps, fpipct = FPI % of WAL bytes, gen = workload s; pw = PgWal recover, pd = decode-only: JSON fields + process wall s):"
for k in $(printf '%s\n' "${!V[@]}" | sort -V); do printf '  %-12s %s\n' "$k" "${V[$k]}"; done
echo "Log lines parsed:"
printf '  %s\n' "${PARSED[@]}"
echo
echo "Commands:"
echo "  PostgreSQL 15: shared_buffers=$SHARED_BUFFERS, full_page_writes=on, wal_compression=off, max_wal_size=${MAX_WAL_MB}MB, checkpoint_timeout=1h,"
echo "                 synchronous_commit=off (workload only), autovacuum=off"
echo "    ${PGBENCH[*]} -i -s $SCALE -q postgres; psql -c CHECKPOINT"
echo "    ${PGBENCH[*]} -n -M prepared -c $CLIENTS -j 2 -T 36000 postgres &   until pg_current_wal_lsn() - redo_lsn >= $WAL_MB MiB"
echo "    pg_ctl stop -m immediate; sync; pg_ctl start -w -l <fresh log>   (parse 'redo starts at' / 'redo done at ... elapsed: S s')"
if [[ ${#PGWAL_CMD[@]} -gt 0 ]]; then
    echo "  PgWal: ${PGWAL_CMD[*]} pagetest -D DIR --wal-mb $WAL_MB --crash; cp -a DIR COPY; sync"
    echo "         ${PGWAL_CMD[*]} recover -D DIR --json;  ${PGWAL_CMD[*]} recover -D COPY --decode-only --json"
fi
