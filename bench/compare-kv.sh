#!/usr/bin/env bash
# compare-kv.sh -- PgWal.Kv vs SQLite (WAL mode) vs PostgreSQL 15 as a durable key-value store, same machine/disk/run.
#
# Usage: [PGWAL=native|jit|path/to/pgwal] [BENCH_DIR=/tmp/pgwal-kvbench] [BENCH_PORT=54329] \
#        bench/compare-kv.sh [--keys N] [--duration S] [--runs R] [--batch B] [--out FILE]
#                            [--skip-pgwal] [--skip-sqlite] [--skip-postgres]
#   defaults: 1000000 keys, 10 s, 3 runs, batch 1000. Smoke run: --keys 20000 --duration 2 --runs 1
#
# Keys: 16 bytes, the ASCII '%016d' of 0..N-1; values: 100 pseudo-random bytes. Workloads, each run, each system:
#   load N keys (ascending) in durable transactions of B rows      -> keys/s, per-transaction latency
#   commit: C clients each loop one durable single-key upsert of a uniformly random existing key, C = 1 4 16 64
#   read:   C clients each loop one point lookup of a uniformly random key, C = 1 16
# Per run the three systems load into fresh stores, then every workload runs SQLite -> PostgreSQL -> PgWal back to
# back (alternating, so drifts in machine state hit all three alike); commit/read reuse the store loaded that run.
#   SQLite:     bench/kv-sqlite.py (python3 sqlite3 = Debian's libsqlite3; journal_mode=WAL, synchronous=FULL,
#               table kv(k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID; C client *processes*, one connection each)
#   PostgreSQL: bench/kv-postgres.sh (scratch PG15 cluster as user postgres on 127.0.0.1:$BENCH_PORT, fsync=on,
#               synchronous_commit=on, shared_buffers=256MB; server-side load procedure; pgbench -M prepared)
#   PgWal:      $PGWAL kv bench -D DIR --workload load|commit|read --keys N --key-size 16 --value-size 100 ... --json
#               (last stdout line = JSON with ops_per_sec, p50_us, p99_us). PGWAL: the native pgwal by default
#               (published by bench/pgwal-cli.sh; PGWAL=jit for the JIT build). If a PgWal command fails, the
#               PgWal side is skipped from then on (reported in the summary).
# Prints a table of medians over runs with pgwal/sqlite and pgwal/postgres ratios, then every per-run JSON line.
# All data lives in a mktemp dir under $BENCH_DIR (same disk as the tools being compared), removed at exit.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
KEYS=1000000 DURATION=10 RUNS=3 BATCH=1000 OUT=""
SKIP_PGWAL="" SKIP_SQLITE=0 SKIP_PG=0
BASE=${BENCH_DIR:-${TMPDIR:-/tmp}/pgwal-kvbench}
PORT=${BENCH_PORT:-54329}
COMMIT_CLIENTS=(1 4 16 64)
READ_CLIENTS=(1 16)

log() { printf '[compare-kv] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
while (( $# )); do
    case $1 in
        --keys) KEYS=$2; shift 2 ;;
        --duration) DURATION=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --batch) BATCH=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --skip-pgwal) SKIP_PGWAL="--skip-pgwal given"; shift ;;
        --skip-sqlite) SKIP_SQLITE=1; shift ;;
        --skip-postgres) SKIP_PG=1; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument $1 (try --help)" ;;
    esac
done
for v in KEYS DURATION RUNS BATCH; do [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "--${v,,} must be a positive integer"; done

# shellcheck source-path=SCRIPTDIR source=kv-postgres.sh
source "$HERE/kv-postgres.sh"          # kvpg_start / kvpg_load / kvpg_commit / kvpg_read / kvpg_stop

# --- PgWal command (may be "dotnet path/pgwal.dll", so it is kept as an array) -------------------------------------
PGWAL_CMD=()
if [[ -z $SKIP_PGWAL ]]; then
    # shellcheck source-path=SCRIPTDIR source=pgwal-cli.sh
    source "$ROOT/bench/pgwal-cli.sh"   # PG: the native pgwal unless PGWAL says otherwise
    PGWAL_CMD=("${PG[@]}")
fi
[[ -z $SKIP_PGWAL ]] || log "PgWal side skipped: $SKIP_PGWAL"

# --- scratch space, always removed (and the PostgreSQL cluster always stopped) -----------------------------------
mkdir -p "$BASE"
SCRATCH=$(mktemp -d "$BASE/kv-XXXXXX")
chmod 755 "$SCRATCH"
cleanup() { kvpg_stop; rm -rf "$SCRATCH"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
RESULTS="$SCRATCH/results.jsonl"
: > "$RESULTS"

# record RUN SYSTEM MODE CLIENTS OUTPUT: takes the last non-empty line of OUTPUT as JSON, stamps run/system/mode/
# clients on it (PgWal's JSON need not carry them), appends it to $RESULTS, logs a one-line summary.
record() {
    python3 - "$@" >> "$RESULTS" <<'PY'
import json, sys
run, system, mode, clients, out = sys.argv[1:6]
lines = [l for l in out.splitlines() if l.strip()]
try:
    d = json.loads(lines[-1])
    for k in ('ops_per_sec', 'p50_us', 'p99_us'):
        float(d[k])
except Exception as e:
    sys.exit(f'[compare-kv] cannot parse the last output line of {system} {mode} as JSON with ops_per_sec/p50_us/p99_us'
             f' ({e}): {lines[-1] if lines else "(no output)"}')
d.update(run=int(run), system=system, mode=mode, clients=int(clients))
print(json.dumps(d))
print(f"[compare-kv]   {system:10} {mode:6} c={clients:>2}: {float(d['ops_per_sec']):>10.0f} ops/s  "
      f"p50 {float(d['p50_us']):.0f} us  p99 {float(d['p99_us']):.0f} us", file=sys.stderr)
PY
}

SQLITE=(python3 "$HERE/kv-sqlite.py")
run_sqlite() {   # run mode clients
    (( SKIP_SQLITE )) && return 0
    local dir="$SCRATCH/sqlite-run$1" out
    if [[ $2 == load ]]; then out=$("${SQLITE[@]}" load --dir "$dir" --keys "$KEYS" --batch "$BATCH")
    else out=$("${SQLITE[@]}" "$2" --dir "$dir" --keys "$KEYS" --clients "$3" --duration "$DURATION"); fi
    record "$1" sqlite "$2" "$3" "$out"
    if [[ $2 == read && $3 == "${READ_CLIENTS[-1]}" ]]; then rm -rf "$dir"; fi   # last workload of the run
}
run_pg() {
    (( SKIP_PG )) && return 0
    local out
    case $2 in
        load) out=$(kvpg_load "$KEYS" "$BATCH") ;;
        commit) out=$(kvpg_commit "$3" "$DURATION" "$KEYS") ;;
        read) out=$(kvpg_read "$3" "$DURATION" "$KEYS") ;;
    esac
    record "$1" postgres15 "$2" "$3" "$out"
}
run_pgwal() {
    [[ -z $SKIP_PGWAL ]] || return 0
    local dir="$SCRATCH/pgwal-run$1" out
    local args=(kv bench -D "$dir" --workload "$2" --keys "$KEYS" --key-size 16 --value-size 100)
    if [[ $2 == load ]]; then rm -rf "$dir"; mkdir -p "$dir"; args+=(--batch "$BATCH" --clients 1)   # one loader, as the others
    else args+=(--clients "$3" --duration "$DURATION"); fi
    args+=(--json)
    if ! out=$("${PGWAL_CMD[@]}" "${args[@]}"); then
        SKIP_PGWAL="'${PGWAL_CMD[*]} ${args[*]}' failed (run $1)"; log "PgWal side skipped from now on: $SKIP_PGWAL"; return 0
    fi
    record "$1" pgwal "$2" "$3" "$out" || { SKIP_PGWAL="unparsable output of ${args[*]}"; return 0; }
    if [[ $2 == read && $3 == "${READ_CLIENTS[-1]}" ]]; then rm -rf "$dir"; fi
}
run_all() { run_sqlite "$@"; run_pg "$@"; run_pgwal "$@"; }

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)   # other work on the machine skews everything: report it
log "$(nproc) cores, load average $LOAD_START, scratch $SCRATCH on $(df -P "$SCRATCH" | awk 'NR==2 {print $1}')"
(( $(nproc) * 100 > $(awk '{printf "%d", $1 * 200}' /proc/loadavg) )) || log "WARNING: the machine is busy (load average $LOAD_START); numbers will be noisy"
(( SKIP_PG )) || kvpg_start "$SCRATCH" "$PORT"
for ((run = 1; run <= RUNS; run++)); do
    log "run $run/$RUNS: load $KEYS keys in transactions of $BATCH"
    run_all "$run" load 1
    for c in "${COMMIT_CLIENTS[@]}"; do log "run $run/$RUNS: commit, $c clients, $DURATION s"; run_all "$run" commit "$c"; done
    for c in "${READ_CLIENTS[@]}"; do log "run $run/$RUNS: read, $c clients, $DURATION s"; run_all "$run" read "$c"; done
done
[[ -z $OUT ]] || cp "$RESULTS" "$OUT"

# --- summary -------------------------------------------------------------------------------------------------------
echo
echo "Key-value store: PgWal.Kv vs SQLite $(python3 -c 'import sqlite3; print(sqlite3.sqlite_version)') (WAL, synchronous=FULL)" \
     "vs PostgreSQL 15 (synchronous_commit=on); $(nproc) cores, $(df -P "$BASE" | awk 'NR==2 {print $1}');" \
     "$KEYS keys of 16 B, values 100 B; median of $RUNS run(s), ${DURATION} s per commit/read measurement"
echo "Load average (1/5/15 min) at start: $LOAD_START, at end: $(cut -d' ' -f1-3 /proc/loadavg) (the benchmark's own clients count too)"
[[ -z $SKIP_PGWAL ]] || echo "PgWal: skipped -- $SKIP_PGWAL"
python3 - "$RESULTS" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
systems = ('sqlite', 'postgres15', 'pgwal')
workloads = []
for r in rows:
    w = (r['mode'], r['clients'])
    if w not in workloads:
        workloads.append(w)
def med(mode, clients, system, field):
    v = [float(r[field]) for r in rows if (r['mode'], r['clients'], r['system']) == (mode, clients, system)
         and r.get(field) is not None]
    return statistics.median(v) if v else None
def label(mode, c, unit):
    name = 'load' if mode == 'load' else f'{mode}, {c} client{"s" * (c > 1)}'
    return name + (' (' + {'load': 'keys/s', 'commit': 'commits/s', 'read': 'reads/s'}[mode] + ')' if unit else '')
fmt = lambda x: '-' if x is None else f'{x:,.0f}'
ratio = lambda a, b: '-' if a is None or not b else f'{a / b:.2f}x'
for field, title in (('ops_per_sec', 'Throughput (higher is better)'),
                     ('p50_us', 'Latency p50, us (lower is better; load: per 1000-row transaction)'),
                     ('p99_us', 'Latency p99, us (lower is better; load: per 1000-row transaction)')):
    print(f'\n{title}\n')
    print('| workload | SQLite | PostgreSQL 15 | PgWal | PgWal/SQLite | PgWal/PostgreSQL |')
    print('|---|---:|---:|---:|---:|---:|')
    for mode, c in workloads:
        s, p, w = (med(mode, c, x, field) for x in systems)
        print(f'| {label(mode, c, field == "ops_per_sec")} | {fmt(s)} | {fmt(p)} | {fmt(w)} | {ratio(w, s)} | {ratio(w, p)} |')
print('\nPer-run results (JSON):')
for r in rows:
    print('  ' + json.dumps(r))
PY
echo
echo "Commands:"
echo "  SQLite:     python3 $HERE/kv-sqlite.py load --dir DIR --keys $KEYS --batch $BATCH"
echo "              python3 $HERE/kv-sqlite.py commit|read --dir DIR --keys $KEYS --clients C --duration $DURATION"
echo "  PostgreSQL: CALL kv_load($KEYS, $BATCH)  (server-side INSERT .. SELECT generate_series + COMMIT per batch)"
echo "              $KVPG_BIN/pgbench -n -M prepared -c C -j min(C,2) -T $DURATION -l -f SCRIPT postgres, SCRIPT ="
echo "                \\set k random(0, $((KEYS - 1)))  \\set r random(0, 2147483647)"
echo "                INSERT INTO kv(k, v) VALUES ($(kvpg_key :k), $(kvpg_val :r)) ON CONFLICT (k) DO UPDATE SET v = excluded.v;"
echo "                SELECT v FROM kv WHERE k = $(kvpg_key :k);"
echo "  PgWal:      ${PGWAL_CMD[*]:-pgwal} kv bench -D DIR --workload load --keys $KEYS --key-size 16 --value-size 100 --batch $BATCH --json"
echo "              ${PGWAL_CMD[*]:-pgwal} kv bench -D DIR --workload commit|read --keys $KEYS --key-size 16 --value-size 100 --clients C --duration $DURATION --json"
