#!/usr/bin/env bash
# compare-replication.sh -- streaming replication on loopback, PgWal against PostgreSQL 15, same
# machine, same run, medians. Real pg_receivewal 15 (and pgwal receivewal) as the clients.
#
# Usage: [WAL_MB=256] [RUNS=3] [LAG_SECONDS=20] [RATE=2000] [BENCH_DIR=/tmp/pgwal-bench] [BENCH_PORT=54397]
#        [PGWAL=native|jit|cmd] bench/compare-replication.sh
#
# 1. Catch-up streaming. About WAL_MB of WAL lies on each server: PostgreSQL 15 after pgbench -i
#    (wal_keep_size keeps it); PgWal `kv serve --generate-mb` (a slot made with RESERVE_WAL before it
#    keeps it). pg_receivewal streams it into an empty directory from the first segment (an empty
#    .partial names where to start) up to the server's flush position (-E), RUNS times per server,
#    alternating. MB/s = WAL bytes streamed / wall time of pg_receivewal (connect to exit; it fsyncs
#    every completed segment). Also `pgwal receivewal` from the same PostgreSQL server (MB/s and the
#    client's CPU seconds from /usr/bin/time).
# 2. Lag under a steady load. pg_receivewal --synchronous with a slot streams while the server takes
#    RATE commits per second for LAG_SECONDS: pgbench -c 4 -R RATE -N (PostgreSQL) and `kv serve --load RATE` (4 clients)
#    (PgWal). flush_lag is sampled every 0.2 s from pg_stat_replication (PostgreSQL) and from
#    `kv serve --stats 0.2` (PgWal: the same definition, local flush to the client's flush report);
#    p50 and p99 of the samples.
# 3. Base backups of the same PgWal store (after part 1's WAL): pg_basebackup -X fetch -c fast,
#    `pgwal basebackup -X fetch -c fast`, and `cp -a` + sync (the limit); MB/s over the backup's size.
set -euo pipefail
WAL_MB=${WAL_MB:-256}
RUNS=${RUNS:-3}
LAG_SECONDS=${LAG_SECONDS:-20}
RATE=${RATE:-2000}
BENCH_DIR=${BENCH_DIR:-/tmp/pgwal-bench}
PORT=${BENCH_PORT:-54397}
PGWAL_PORT=$((PORT + 1))
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=pg-scratch.sh
source "$ROOT/bench/pg-scratch.sh"
# shellcheck source-path=SCRIPTDIR source=pgwal-cli.sh
source "$ROOT/bench/pgwal-cli.sh"
log() { printf '[compare-replication] %s\n' "$*" >&2; }
as_pg=(runuser -u postgres --)
export PGWAL_REPLICATION_PASSWORD=bench-password PGPASSWORD=bench-password

mkdir -p "$BENCH_DIR"
S=$(mktemp -d "$BENCH_DIR/repl-XXXXXX")
chmod 755 "$S"; chown postgres: "$S"
PGDATA="$S/pg"
SERVE_PID=
stop_serve() { [[ -n $SERVE_PID ]] && kill -TERM "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null; SERVE_PID=; }
trap 'stop_serve; pg_scratch_stop "$PGDATA"; rm -rf "$S"' EXIT
trap 'exit 130' INT TERM
log "pgwal: $PG_DESC; scratch $S"

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
pct() { sort -g | awk -v p="$1" '{ a[NR] = $1 } END { i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; print a[i] }'; }
hex_minus_one() { python3 -c "import sys; h, l = sys.argv[1].split('/'); v = (int(h, 16) << 32) + int(l, 16) - 1; print(f'{v >> 32:X}/{v & 0xFFFFFFFF:X}')" "$1"; }
seg_of() { python3 -c "import sys; h, l = sys.argv[1].split('/'); v = (int(h, 16) << 32) + int(l, 16); s = v // (16 << 20); print(f'00000001{s // 256:08X}{s % 256:08X}')" "$1"; }
now() { date +%s.%N; }

# ---- the servers ----
log "PostgreSQL 15 on 127.0.0.1:$PORT: pgbench -i until about $WAL_MB MB of WAL"
pg_scratch_start "$PGDATA" "$S" "$PORT" <<CONF
$pg_scratch_durable_conf
max_wal_senders = 10
wal_keep_size = 8GB
password_encryption = 'scram-sha-256'
CONF
printf 'host replication all 127.0.0.1/32 scram-sha-256\n' >> "$PGDATA/pg_hba.conf"
"${as_pg[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" reload >/dev/null
psql_pg() { "${as_pg[@]}" "$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -XAtq -c "$1" postgres; }
psql_pg "CREATE ROLE repl LOGIN REPLICATION PASSWORD 'bench-password'" >/dev/null
pg_start=$(psql_pg "SELECT pg_current_wal_lsn()")
scale=$(( WAL_MB / 16 + 1 ))
"${as_pg[@]}" "$PGBIN/pgbench" -h 127.0.0.1 -p "$PORT" -U postgres -i -s "$scale" -q postgres >/dev/null 2>&1
pg_end=$(psql_pg "SELECT pg_current_wal_flush_lsn()")

log "PgWal kv serve on 127.0.0.1:$PGWAL_PORT: --generate-mb $WAL_MB"
"${PG[@]}" kv -D "$S/kv" put seed 1 >/dev/null
"${PG[@]}" kv -D "$S/kv" serve --listen "127.0.0.1:$PGWAL_PORT" -U repl > "$S/serve.log" 2>&1 &
SERVE_PID=$!
psql_kv() { "$PGBIN/psql" "host=127.0.0.1 port=$PGWAL_PORT user=repl dbname=replication replication=true" -XAtq -c "$1"; }
for _ in $(seq 100); do psql_kv "IDENTIFY_SYSTEM" >/dev/null 2>&1 && break; sleep 0.1; done
psql_kv "CREATE_REPLICATION_SLOT keep PHYSICAL RESERVE_WAL" >/dev/null
kv_start=$(psql_kv "READ_REPLICATION_SLOT keep" | cut -d'|' -f2)
stop_serve
"${PG[@]}" kv -D "$S/kv" serve --listen "127.0.0.1:$PGWAL_PORT" -U repl --generate-mb "$WAL_MB" > "$S/serve.log" 2>&1 &
SERVE_PID=$!
until grep -q generated "$S/serve.log"; do sleep 0.2; kill -0 "$SERVE_PID" || { cat "$S/serve.log" >&2; exit 1; }; done
kv_end=$(psql_kv "IDENTIFY_SYSTEM" | cut -d'|' -f3)
log "PostgreSQL WAL $pg_start .. $pg_end; PgWal WAL $kv_start .. $kv_end"

# ---- 1. catch-up streaming ----
stream() {   # stream NAME PORT USER START END CLIENT...: prints seconds
    local name=$1 port=$2 user=$3 start=$4 end=$5; shift 5
    local dir="$S/recv-$name"
    rm -rf "$dir"; mkdir -p "$dir"; chown postgres: "$dir"
    : > "$dir/$(seg_of "$start").partial"
    local t0 t1
    t0=$(now)
    /usr/bin/time -f '%U %S' -o "$S/time-$name" "$@" -D "$dir" -h 127.0.0.1 -p "$port" -U "$user" -E "$(hex_minus_one "$end")" -n >/dev/null 2>&1
    t1=$(now)
    echo "$t1 - $t0" | bc -l
}
bytes() { python3 -c "import sys; f = lambda s: (int(s.split('/')[0], 16) << 32) + int(s.split('/')[1], 16); print(f(sys.argv[2]) - (f(sys.argv[1]) // (16 << 20)) * (16 << 20))" "$1" "$2"; }
pg_bytes=$(bytes "$pg_start" "$pg_end"); kv_bytes=$(bytes "$kv_start" "$kv_end")
: > "$S/r-pg"; : > "$S/r-kv"; : > "$S/r-ours"; : > "$S/cpu-pg"; : > "$S/cpu-ours"
for run in $(seq "$RUNS"); do
    s=$(stream pg "$PORT" repl "$pg_start" "$pg_end" "$PGBIN/pg_receivewal"); echo "$pg_bytes / $s / 1048576" | bc -l >> "$S/r-pg"
    awk '{ print $1 + $2 }' "$S/time-pg" >> "$S/cpu-pg"
    s=$(stream kv "$PGWAL_PORT" repl "$kv_start" "$kv_end" "$PGBIN/pg_receivewal"); echo "$kv_bytes / $s / 1048576" | bc -l >> "$S/r-kv"
    s=$(stream ours "$PORT" repl "$pg_start" "$pg_end" "${PG[@]}" receivewal); echo "$pg_bytes / $s / 1048576" | bc -l >> "$S/r-ours"
    awk '{ print $1 + $2 }' "$S/time-ours" >> "$S/cpu-ours"
    log "run $run: PG->pg_receivewal $(tail -1 "$S/r-pg") MB/s, PgWal->pg_receivewal $(tail -1 "$S/r-kv") MB/s, PG->pgwal receivewal $(tail -1 "$S/r-ours") MB/s"
done
cmp -s "$S/recv-kv/$(seg_of "$kv_start")" "$S/kv/pg_wal/$(seg_of "$kv_start")" || log "WARNING: the PgWal stream's first segment differs from the server's"

# ---- 2. lag under a steady load ----
log "lag: pg_receivewal --synchronous with a slot, $RATE commits/s for $LAG_SECONDS s"
stop_serve
lag_pg() {
    local dir="$S/lag-pg"; rm -rf "$dir"; mkdir "$dir"
    "$PGBIN/pg_receivewal" -D "$dir" -h 127.0.0.1 -p "$PORT" -U repl -S lagslot --create-slot >/dev/null 2>&1
    "$PGBIN/pg_receivewal" -D "$dir" -h 127.0.0.1 -p "$PORT" -U repl -S lagslot --synchronous >/dev/null 2>&1 &
    local recv=$!
    "${as_pg[@]}" "$PGBIN/pgbench" -h 127.0.0.1 -p "$PORT" -U postgres -c 4 -j 4 -R "$RATE" -T "$LAG_SECONDS" -N postgres >/dev/null 2>&1 &
    local load=$!
    : > "$S/lag-pg.txt"
    while kill -0 "$load" 2>/dev/null; do
        psql_pg "SELECT COALESCE((EXTRACT(EPOCH FROM flush_lag) * 1000)::text, 'null') FROM pg_stat_replication WHERE application_name = 'pg_receivewal'" >> "$S/lag-pg.txt"
        sleep 0.2
    done
    kill -INT "$recv"; wait "$recv" || true
}
lag_kv() {
    local dir="$S/lag-kv"; rm -rf "$dir"; mkdir "$dir"
    "${PG[@]}" kv -D "$S/kv" serve --listen "127.0.0.1:$PGWAL_PORT" -U repl --load "$RATE" --stats 0.2 > "$S/serve-lag.log" 2>&1 &
    SERVE_PID=$!
    for _ in $(seq 100); do psql_kv "IDENTIFY_SYSTEM" >/dev/null 2>&1 && break; sleep 0.1; done
    "$PGBIN/pg_receivewal" -D "$dir" -h 127.0.0.1 -p "$PGWAL_PORT" -U repl -S lagslot --create-slot >/dev/null 2>&1
    "$PGBIN/pg_receivewal" -D "$dir" -h 127.0.0.1 -p "$PGWAL_PORT" -U repl -S lagslot --synchronous >/dev/null 2>&1 &
    local recv=$!
    sleep "$LAG_SECONDS"
    kill -INT "$recv"; wait "$recv" || true
    stop_serve
    grep 'application_name=pg_receivewal' "$S/serve-lag.log" | grep -o 'flush_lag=[^ ]*' | sed 's/flush_lag=//; s/ms$//; s/^-$/null/' > "$S/lag-kv.txt" || true
}
lag_pg
lag_kv

# ---- 3. base backups of the PgWal store ----
"${PG[@]}" kv -D "$S/kv" serve --listen "127.0.0.1:$PGWAL_PORT" -U repl > "$S/serve.log" 2>&1 &
SERVE_PID=$!
for _ in $(seq 100); do psql_kv "IDENTIFY_SYSTEM" >/dev/null 2>&1 && break; sleep 0.1; done
size_mb=$(du -sm --exclude=pg_wal "$S/kv" | cut -f1)
all_mb=$(du -sm "$S/kv" | cut -f1)   # what cp -a copies (pg_wal included)
: > "$S/b-pg"; : > "$S/b-ours"; : > "$S/b-cp"
for run in $(seq "$RUNS"); do
    for tool in pg ours cp; do
        rm -rf "$S/bb"
        t0=$(now)
        case $tool in
            pg) "$PGBIN/pg_basebackup" -D "$S/bb" -X fetch -c fast -h 127.0.0.1 -p "$PGWAL_PORT" -U repl >/dev/null 2>&1 ;;
            ours) "${PG[@]}" basebackup -D "$S/bb" -X fetch -c fast -h 127.0.0.1 -p "$PGWAL_PORT" -U repl >/dev/null 2>&1 ;;
            cp) cp -a "$S/kv" "$S/bb" && sync -f "$S/bb" ;;
        esac
        t1=$(now)
        echo "$([[ $tool == cp ]] && echo "$all_mb" || echo "$size_mb") / ($t1 - $t0)" | bc -l >> "$S/b-$tool"
    done
done
stop_serve

printf '\n## Streaming (%s MB of WAL on each server, %s runs, medians)\n\n' "$WAL_MB" "$RUNS"
printf '| server -> client | MB/s | client CPU s |\n|---|---|---|\n'
printf '| PostgreSQL 15 -> pg_receivewal | %.0f | %.2f |\n' "$(median < "$S/r-pg")" "$(median < "$S/cpu-pg")"
printf '| PgWal walsender -> pg_receivewal | %.0f | |\n' "$(median < "$S/r-kv")"
printf '| PostgreSQL 15 -> pgwal receivewal | %.0f | %.2f |\n' "$(median < "$S/r-ours")" "$(median < "$S/cpu-ours")"
printf '\n## flush_lag with pg_receivewal --synchronous, %s commits/s for %s s (ms)\n\n' "$RATE" "$LAG_SECONDS"
printf '| server | samples | caught up (NULL) | p50 of the others | p99 of the others |\n|---|---|---|---|---|\n'
for side in pg kv; do
    name=$([[ $side == pg ]] && echo "PostgreSQL 15" || echo "PgWal")
    printf '| %s | %s | %s | %.2f | %.2f |\n' "$name" "$(wc -l < "$S/lag-$side.txt")" "$(grep -c null "$S/lag-$side.txt" || true)" \
        "$(grep -v null "$S/lag-$side.txt" | median)" "$(grep -v null "$S/lag-$side.txt" | pct 99)"
done
printf '\n## Base backup of the PgWal store (%s MB without pg_wal, %s MB with it, %s runs, medians)\n\n' "$size_mb" "$all_mb" "$RUNS"
printf '| tool | MB/s |\n|---|---|\n'
printf '| pg_basebackup -X fetch -c fast | %.0f |\n' "$(median < "$S/b-pg")"
printf '| pgwal basebackup -X fetch -c fast | %.0f |\n' "$(median < "$S/b-ours")"
printf '| cp -a + sync of the whole directory (limit) | %.0f |\n' "$(median < "$S/b-cp")"
