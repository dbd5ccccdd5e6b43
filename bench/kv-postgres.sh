#!/usr/bin/env bash
# kv-postgres.sh -- key-value benchmark of PostgreSQL 15: load, durable single-key upserts, random point reads.
#
# Standalone:  bench/kv-postgres.sh [--keys N] [--duration S] [--batch B] [--port P] [--dir BASE]
#              (defaults 1000000 keys, 10 s, batch 1000, port 54329, BASE ${TMPDIR:-/tmp}/pgwal-kvbench)
#              prints one JSON line per measurement on stdout (progress on stderr):
#              load, commit with 1/4/16/64 clients, read with 1/16 clients.
# As a library: `source bench/kv-postgres.sh` defines kvpg_start BASE PORT, kvpg_load N BATCH,
#              kvpg_commit CLIENTS SECONDS N, kvpg_read CLIENTS SECONDS N, kvpg_stop (compare-kv.sh uses these;
#              the caller must call kvpg_stop from its EXIT trap).
#
# Cluster: initdb in a mktemp dir under BASE, run as the `postgres` user, 127.0.0.1 only, fsync=on,
# synchronous_commit=on, wal_sync_method=fdatasync, full_page_writes=on, shared_buffers=256MB, max_connections=100,
# max_wal_size=16GB + checkpoint_timeout=1h (no checkpoint inside a measurement), autovacuum=off.
# Table:  CREATE TABLE kv(k bytea PRIMARY KEY, v bytea)
#         k = convert_to(lpad(i::text, 16, '0'), 'UTF8')  -- the same 16 ASCII bytes as SQLite/PgWal
#         v = 100 pseudo-random bytes (load: a 100 B window of a 1 MiB sha256-generated pool, at key*7919 mod ~1 MiB;
#             upserts: prefix of 4 sha256 digests of a random seed, ~2 us/op); never compressed (< TOAST threshold)
# load:   server-side procedure: for each batch, INSERT .. SELECT .. FROM generate_series (B rows, keys ascending)
#         + COMMIT (durable), timed inside the server with clock_timestamp(); latency = per-transaction time.
#         Then VACUUM (ANALYZE) (untimed, sets hint bits / visibility map like a settled table).
# commit: CHECKPOINT (untimed), then pgbench -n -M prepared -c C -j min(C,2) -T S with
#           \set k random(0, N-1)  \set r random(0, 2^31-1)
#           INSERT INTO kv VALUES (key(:k), value(:r)) ON CONFLICT (k) DO UPDATE SET v = excluded.v;
#         = one durable autocommit transaction per op. ops/s = pgbench tps (without initial connection time);
#         p50/p99 from the per-transaction log (pgbench -l).
# read:   same with  SELECT v FROM kv WHERE k = key(:k);
set -euo pipefail

KVPG_BIN=${PGBIN:-/usr/lib/postgresql/15/bin}
KVPG_SCRATCH=""
KVPG_DATA=""
KVPG_PORT=""
kvpg_as_pg=(runuser -u postgres --)
# shellcheck source-path=SCRIPTDIR source=pg-scratch.sh
source "$(dirname "${BASH_SOURCE[0]}")/pg-scratch.sh"
kvpg_log() { printf '[kv-postgres] %s\n' "$*" >&2; }
kvpg_die() { kvpg_log "$*"; exit 1; }
# SQL expressions shared by load and pgbench scripts ($1 = key number / seed expression).
kvpg_key() { echo "convert_to(lpad(($1)::text, 16, '0'), 'UTF8')"; }
kvpg_val() {
    local s="(($1)::int8)"
    echo "substring(sha256(int8send($s)) || sha256(int8send($s + 1000000007)) || sha256(int8send($s + 2000000014)) || sha256(int8send($s + 3000000021)) from 1 for 100)"
}

# kvpg_start BASE PORT: initdb + start a scratch cluster in a new dir under BASE, create kv and kv_load().
kvpg_start() {
    local base=$1
    KVPG_PORT=$2
    mkdir -p "$base"
    "${kvpg_as_pg[@]}" test -x "$base" || kvpg_die "$base must be traversable by the postgres user"
    if (exec 3<>"/dev/tcp/127.0.0.1/$KVPG_PORT") 2>/dev/null; then kvpg_die "port $KVPG_PORT on 127.0.0.1 is in use (set --port)"; fi
    KVPG_SCRATCH=$(mktemp -d "$base/pg-kv-XXXXXX")
    KVPG_DATA="$KVPG_SCRATCH/data"
    chmod 755 "$KVPG_SCRATCH"; chown postgres: "$KVPG_SCRATCH"
    kvpg_log "initdb + start scratch cluster on 127.0.0.1:$KVPG_PORT in $KVPG_SCRATCH"
    PGBIN=$KVPG_BIN pg_scratch_start "$KVPG_DATA" "$KVPG_SCRATCH" "$KVPG_PORT" <<< "$pg_scratch_durable_conf"
    kvpg_psql <<SQL
CREATE TABLE kv(k bytea PRIMARY KEY, v bytea);
-- Inserts keys 0..n-1 in transactions of batch rows, each committed (durably) before the next.
CREATE PROCEDURE kv_load(n bigint, batch int, INOUT secs float8 DEFAULT NULL, INOUT p50_us float8 DEFAULT NULL,
                         INOUT p99_us float8 DEFAULT NULL, INOUT max_us float8 DEFAULT NULL)
LANGUAGE plpgsql AS \$\$
DECLARE lo bigint := 0; t0 timestamptz; b0 timestamptz; lat float8[] := '{}'; pool bytea; plen int;
BEGIN
    -- Values: 100-byte windows of a 1 MiB pseudo-random pool (cheap; hashing per row would double the load time).
    SELECT string_agg(sha256(int8send(i)), ''::bytea ORDER BY i) INTO pool FROM generate_series(0, 32767) i;
    plen := length(pool) - 100;
    t0 := clock_timestamp();
    WHILE lo < n LOOP
        b0 := clock_timestamp();
        INSERT INTO kv SELECT $(kvpg_key g), substring(pool FROM (g * 7919 % plen)::int + 1 FOR 100)
          FROM generate_series(lo, least(n, lo + batch) - 1) g;
        COMMIT;
        lat := lat || (extract(epoch FROM clock_timestamp() - b0) * 1e6)::float8;
        lo := lo + batch;
    END LOOP;
    secs := extract(epoch FROM clock_timestamp() - t0);
    SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY x), percentile_disc(0.99) WITHIN GROUP (ORDER BY x), max(x)
      INTO p50_us, p99_us, max_us FROM unnest(lat) x;
END \$\$;
SQL
}

kvpg_psql() { "$KVPG_BIN/psql" -h 127.0.0.1 -p "$KVPG_PORT" -U postgres -XAtq -v ON_ERROR_STOP=1 -d postgres "$@"; }

# kvpg_stop: immediate stop (nothing to keep) and remove the scratch dir. Safe to call twice / before start.
kvpg_stop() {
    if [[ -n "$KVPG_DATA" ]]; then PGBIN=$KVPG_BIN pg_scratch_stop "$KVPG_DATA"; fi
    if [[ -n "$KVPG_SCRATCH" ]]; then rm -rf "$KVPG_SCRATCH"; fi
    KVPG_SCRATCH=""; KVPG_DATA=""
}

# kvpg_load N BATCH -> JSON line. TRUNCATEs kv first, so it can be rerun in the same cluster.
kvpg_load() {
    local n=$1 batch=$2 r
    kvpg_psql -c "TRUNCATE kv" -c CHECKPOINT
    r=$(kvpg_psql -F ' ' -c "CALL kv_load($n, $batch)") || kvpg_die "kv_load failed"
    kvpg_psql -c "VACUUM (ANALYZE) kv" -c CHECKPOINT
    local bytes; bytes=$(kvpg_psql -c "SELECT pg_total_relation_size('kv')")
    local res; read -ra res <<< "$r"                     # secs p50_us p99_us max_us
    python3 - "$n" "$batch" "$bytes" "${res[@]}" <<'PY'
import json, sys
n, batch, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
secs, p50, p99, mx = map(float, sys.argv[4:8])
print(json.dumps(dict(system='postgres15', mode='load', clients=1, ops=n, seconds=round(secs, 3),
                      ops_per_sec=round(n / secs, 1), p50_us=round(p50, 1), p99_us=round(p99, 1), max_us=round(mx, 1),
                      latency_unit=f'transaction of {batch} rows', batch=batch, db_bytes=size)))
PY
}

# kvpg_pgbench MODE CLIENTS SECONDS SCRIPT -> JSON line (tps from pgbench, percentiles from its -l logs).
kvpg_pgbench() {
    local mode=$1 c=$2 secs=$3 script=$4 out
    local logdir; logdir=$(mktemp -d "$KVPG_SCRATCH/pgbench-log-XXXXXX")
    kvpg_psql -c CHECKPOINT
    out=$("$KVPG_BIN/pgbench" -h 127.0.0.1 -p "$KVPG_PORT" -U postgres -n -M prepared -f "$script" \
          -c "$c" -j $(( c < 2 ? c : 2 )) -T "$secs" -l --log-prefix="$logdir/tx" postgres 2>&1) \
        || kvpg_die "pgbench failed: $out"
    printf '%s\n' "$out" > "$logdir/stdout"
    python3 - "$mode" "$c" "$secs" "$logdir" <<'PY' || kvpg_die "cannot parse pgbench output: $out"
import glob, json, re, sys
mode, c, secs, logdir = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
out = open(logdir + '/stdout').read()
tps = float(re.search(r'^tps = ([0-9.]+) \(without initial connection time\)', out, re.M).group(1))
ops = int(re.search(r'^number of transactions actually processed: (\d+)', out, re.M).group(1))
failed = re.search(r'^number of failed transactions: (\d+)', out, re.M)
lat = []
for f in glob.glob(logdir + '/tx*'):
    with open(f) as fh:
        lat.extend(int(line.split()[2]) for line in fh)   # client_id tx_no time_us script_no epoch us
lat.sort()
pick = lambda q: float(lat[min(len(lat) - 1, int(q * len(lat)))])
print(json.dumps(dict(system='postgres15', mode=mode, clients=c, ops=ops, seconds=secs, ops_per_sec=round(tps, 1),
                      p50_us=pick(0.5), p99_us=pick(0.99), max_us=float(lat[-1]),
                      errors=int(failed.group(1)) if failed else 0)))
PY
    rm -rf "$logdir"
}

# kvpg_commit CLIENTS SECONDS N / kvpg_read CLIENTS SECONDS N -> JSON line
kvpg_commit() {
    local f="$KVPG_SCRATCH/upsert.sql"
    printf '\\set k random(0, %d)\n\\set r random(0, 2147483647)\nINSERT INTO kv(k, v) VALUES (%s, %s) ON CONFLICT (k) DO UPDATE SET v = excluded.v;\n' \
        "$(( $3 - 1 ))" "$(kvpg_key :k)" "$(kvpg_val :r)" > "$f"
    kvpg_pgbench commit "$1" "$2" "$f"
}
kvpg_read() {
    local f="$KVPG_SCRATCH/read.sql"
    printf '\\set k random(0, %d)\nSELECT v FROM kv WHERE k = %s;\n' "$(( $3 - 1 ))" "$(kvpg_key :k)" > "$f"
    kvpg_pgbench read "$1" "$2" "$f"
}

# --- standalone ---------------------------------------------------------------------------------------------------
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    keys=1000000 duration=10 batch=1000 port=${BENCH_PORT:-54329} base=${BENCH_DIR:-${TMPDIR:-/tmp}/pgwal-kvbench}
    while (( $# )); do
        case $1 in
            --keys) keys=$2; shift 2 ;;
            --duration) duration=$2; shift 2 ;;
            --batch) batch=$2; shift 2 ;;
            --port) port=$2; shift 2 ;;
            --dir) base=$2; shift 2 ;;
            *) kvpg_die "unknown argument $1 (see the header of $0)" ;;
        esac
    done
    trap kvpg_stop EXIT
    trap 'exit 130' INT TERM
    kvpg_start "$base" "$port"
    kvpg_log "load $keys keys, batch $batch"; kvpg_load "$keys" "$batch"
    for c in 1 4 16 64; do kvpg_log "commit, $c clients, $duration s"; kvpg_commit "$c" "$duration" "$keys"; done
    for c in 1 16; do kvpg_log "read, $c clients, $duration s"; kvpg_read "$c" "$duration" "$keys"; done
fi
