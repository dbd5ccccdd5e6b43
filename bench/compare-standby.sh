#!/usr/bin/env bash
# compare-standby.sh -- a primary with one synchronous standby on 127.0.0.1, PgWal against PostgreSQL 15,
# same machine, same run, medians.
#
# Usage: [RUNS=3] [DURATION=5] [RATE=2000] [LAG_SECONDS=15] [FAILOVERS=3] [BENCH_DIR=/tmp/pgwal-bench]
#        [BENCH_PORT=54391] [PGWAL=native|jit|cmd] bench/compare-standby.sh
#
# 1. Durable commits/s with one synchronous standby, at synchronous_commit = on and remote_apply,
#    1, 16 and 64 clients, DURATION s each, RUNS runs alternating:
#    PostgreSQL: primary + standby (pg_basebackup -R, application_name s1, synchronous_standby_names
#    = 's1'), pgbench -f with SELECT pg_logical_emit_message(true, ...) (one 100 B record + commit).
#    PgWal: `pgwal kv bench -w commit` (one 100 B value per durable commit, a B-tree update) with
#    --listen --synchronous-standby-names s1, and `pgwal kv standby` made from a copy of the store.
# 2. Replay lag at RATE commits/s for LAG_SECONDS: pg_stat_replication.replay_lag sampled every
#    0.2 s (pgbench -c 4 -R RATE -N against PostgreSQL; `pgwal kv serve --load RATE --stats 0.2`
#    for PgWal, whose replay_lag has the same definition); p50 / p99 of the non-null samples.
# 3. Failover time, FAILOVERS times: kill -9 of the primary under load, then `pg_ctl promote -w` /
#    `pgwal promote -D` (each waits until the standby has left recovery); seconds from the kill to
#    the promote command's return.
set -euo pipefail
RUNS=${RUNS:-3}
DURATION=${DURATION:-5}
RATE=${RATE:-2000}
LAG_SECONDS=${LAG_SECONDS:-15}
FAILOVERS=${FAILOVERS:-3}
BENCH_DIR=${BENCH_DIR:-/tmp/pgwal-bench}
PORT=${BENCH_PORT:-54391}
PG_STANDBY_PORT=$((PORT + 1)); KV_PORT=$((PORT + 2))
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLIENTS=(1 16 64)
LEVELS=(on remote_apply)
# shellcheck source-path=SCRIPTDIR source=pg-scratch.sh
source "$ROOT/bench/pg-scratch.sh"
# shellcheck source-path=SCRIPTDIR source=pgwal-cli.sh
source "$ROOT/bench/pgwal-cli.sh"
log() { printf '[compare-standby] %s\n' "$*" >&2; }
as_pg=(runuser -u postgres --)
export PGWAL_REPLICATION_PASSWORD=bench-password PGPASSWORD=bench-password

mkdir -p "$BENCH_DIR"
S=$(mktemp -d "$BENCH_DIR/standby-XXXXXX")
chmod 755 "$S"; chown postgres: "$S"
PIDS=()
stop_all() {
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; done
    PIDS=()
    pg_scratch_stop "$S/pg-standby"; pg_scratch_stop "$S/pg"
}
trap 'stop_all; rm -rf "$S"' EXIT
trap 'exit 130' INT TERM
log "pgwal: $PG_DESC; scratch $S"
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
pct() { sort -g | awk -v p="$1" '{ a[NR] = $1 } END { if (NR == 0) { print "nan"; exit } i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; print a[i] }'; }
psql_at() { "${as_pg[@]}" "$PGBIN/psql" -X -A -t -h 127.0.0.1 -p "$1" -U postgres -d postgres -c "$2"; }
now() { date +%s.%N; }

# ---- PostgreSQL: primary and standby ----
pg_primary_start() {
    pg_scratch_start "$S/pg" "$S" "$PORT" <<CONF
$pg_scratch_durable_conf
max_wal_senders = 10
synchronous_standby_names = 's1'
hot_standby = on
CONF
    echo "host replication all 127.0.0.1/32 trust" >> "$S/pg/pg_hba.conf"
    "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$S/pg" reload >/dev/null
}
pg_standby_start() {
    rm -rf "$S/pg-standby"
    "${as_pg[@]}" "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$PORT" -U postgres -D "$S/pg-standby" -R -X stream -c fast -d "application_name=s1" >/dev/null
    echo "port = $PG_STANDBY_PORT" >> "$S/pg-standby/postgresql.auto.conf"
    "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$S/pg-standby" -l "$S/pg-standby.log" -w start >/dev/null
    until [[ $(psql_at "$PORT" "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") == 1 ]]; do sleep 0.2; done
}
log "PostgreSQL 15 primary on 127.0.0.1:$PORT and standby on :$PG_STANDBY_PORT"
pg_primary_start
pg_standby_start
cat > "$S/msg.sql" <<'SQL'
SELECT pg_logical_emit_message(true, 'bench', repeat('x', 100));
SQL
chown postgres: "$S/msg.sql"

# ---- PgWal: primary store and its standby ----
kv_setup() {
    rm -rf "$S/kv" "$S/kv-standby"
    "${PG[@]}" kv -D "$S/kv" bench -w load --keys 10000 --json >/dev/null 2>&1
    cp -a "$S/kv" "$S/kv-standby"
    rm -f "$S/kv-standby/postmaster.pid"
    touch "$S/kv-standby/standby.signal"
    echo "primary_conninfo = 'host=127.0.0.1 port=$KV_PORT user=replication password=bench-password application_name=s1'" > "$S/kv-standby/postgresql.auto.conf"
}
kv_standby_start() {
    "${PG[@]}" kv -D "$S/kv-standby" standby < /dev/null > "$S/kv-standby.log" 2>&1 &
    KV_STANDBY_PID=$!
    PIDS+=("$KV_STANDBY_PID")
}
kv_setup
kv_standby_start

# ---- 1. commits/s (PARTS=23 skips it) ----
PARTS=${PARTS:-123}
[[ $PARTS == *1* ]] || RUNS=0
for run in $(seq 1 "$RUNS"); do
    for level in "${LEVELS[@]}"; do
        for c in "${CLIENTS[@]}"; do
            tps=$(PGOPTIONS="-c synchronous_commit=$level" "${as_pg[@]}" env PGOPTIONS="-c synchronous_commit=$level" "$PGBIN/pgbench" -h 127.0.0.1 -p "$PORT" -U postgres -n -f "$S/msg.sql" -c "$c" -j "$c" -T "$DURATION" postgres 2>/dev/null \
                | awk '/^tps = / { print $3; exit }')
            echo "$tps" >> "$S/pg-$level-$c.txt"
            kv=$("${PG[@]}" kv -D "$S/kv" bench -w commit --keys 10000 --value-size 100 -c "$c" -T "$DURATION" --listen "127.0.0.1:$KV_PORT" \
                --synchronous-standby-names s1 --synchronous-commit "$level" --wait-for-standbys 1 --json 2>/dev/null | tail -1)
            echo "$kv" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ops_per_sec"])' >> "$S/kv-$level-$c.txt"
            log "run $run $level c=$c: PostgreSQL $tps, PgWal $(tail -1 "$S/kv-$level-$c.txt") commits/s"
        done
    done
done

# ---- 2. replay lag at a fixed rate ----
log "replay lag at $RATE commits/s for $LAG_SECONDS s"
"${as_pg[@]}" "$PGBIN/pgbench" -h 127.0.0.1 -p "$PORT" -U postgres -i -s 1 -q postgres >/dev/null 2>&1
"${as_pg[@]}" "$PGBIN/pgbench" -h 127.0.0.1 -p "$PORT" -U postgres -n -c 4 -j 4 -R "$RATE" -T "$LAG_SECONDS" -N postgres >/dev/null 2>&1 &
BENCH=$!
end=$(( $(date +%s) + LAG_SECONDS ))
while (( $(date +%s) < end )); do
    psql_at "$PORT" "SELECT COALESCE((EXTRACT(EPOCH FROM replay_lag) * 1000)::text, 'null') FROM pg_stat_replication WHERE application_name = 's1'" >> "$S/lag-pg.txt"
    sleep 0.2
done
wait "$BENCH" || true
"${PG[@]}" kv -D "$S/kv" serve --listen "127.0.0.1:$KV_PORT" --load "$RATE" --stats 0.2 > "$S/serve-lag.log" 2>&1 &
SERVE=$!
sleep "$LAG_SECONDS"
kill -TERM "$SERVE"; wait "$SERVE" || true
grep 'application_name=s1' "$S/serve-lag.log" | grep -o 'replay_lag=[^ ]*' | sed 's/replay_lag=//; s/ms$//; s/^-$/null/' > "$S/lag-kv.txt" || true

# ---- 3. failover time ----
for i in $(seq 1 "$FAILOVERS"); do
    # PostgreSQL: kill -9 the primary under load, promote the standby, then start over from it.
    "${as_pg[@]}" "$PGBIN/pgbench" -h 127.0.0.1 -p "$PORT" -U postgres -n -f "$S/msg.sql" -c 4 -j 4 -T 30 postgres >/dev/null 2>&1 &
    BENCH=$!; sleep 2
    t0=$(now)
    kill -9 "$(head -1 "$S/pg/postmaster.pid")"
    "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$S/pg-standby" -w promote >/dev/null
    echo "$(now) - $t0" | bc >> "$S/failover-pg.txt"
    wait "$BENCH" 2>/dev/null || true
    pg_scratch_stop "$S/pg-standby"; pg_scratch_stop "$S/pg"; rm -rf "$S/pg"
    pg_primary_start; pg_standby_start
    # PgWal: the same with kv serve --load and pgwal promote.
    "${PG[@]}" kv -D "$S/kv" serve --listen "127.0.0.1:$KV_PORT" --load 2000 > "$S/serve-fo.log" 2>&1 &
    SERVE=$!; sleep 2
    t0=$(now)
    kill -9 "$SERVE"; wait "$SERVE" 2>/dev/null || true
    "${PG[@]}" promote -D "$S/kv-standby" >/dev/null
    echo "$(now) - $t0" | bc >> "$S/failover-kv.txt"
    kill -TERM "$KV_STANDBY_PID"; wait "$KV_STANDBY_PID" 2>/dev/null || true
    PIDS=()
    (( i == FAILOVERS )) || { kv_setup; kv_standby_start; }
done
stop_all

# ---- report ----
if (( RUNS > 0 )); then
printf '\n## Durable commits/s with one synchronous standby (median of %s runs, %s s each)\n\n' "$RUNS" "$DURATION"
printf '| synchronous_commit | clients | PostgreSQL 15 (primary + standby) | PgWal (kv primary + kv standby) | PgWal / PostgreSQL |\n|---|---:|---:|---:|---:|\n'
fi
for level in "${LEVELS[@]}"; do
    (( RUNS > 0 )) || break
    for c in "${CLIENTS[@]}"; do
        pg=$(median < "$S/pg-$level-$c.txt"); kv=$(median < "$S/kv-$level-$c.txt")
        printf '| %s | %s | %.0f | %.0f | %.2fx |\n' "$level" "$c" "$pg" "$kv" "$(echo "$kv / $pg" | bc -l)"
    done
done
printf '\n## replay_lag at %s commits/s for %s s (ms; non-null samples)\n\n' "$RATE" "$LAG_SECONDS"
printf '| | samples | p50 | p99 |\n|---|---:|---:|---:|\n'
for side in pg kv; do
    grep -v null "$S/lag-$side.txt" > "$S/lag-$side-nn.txt" || true
    printf '| %s | %s | %s | %s |\n' "$([[ $side == pg ]] && echo 'PostgreSQL 15 standby' || echo 'PgWal kv standby')" "$(wc -l < "$S/lag-$side-nn.txt")" "$(pct 50 < "$S/lag-$side-nn.txt")" "$(pct 99 < "$S/lag-$side-nn.txt")"
done
printf '\n## Failover time: kill -9 of the primary to promote done (s; median of %s)\n\n' "$FAILOVERS"
printf '| PostgreSQL 15 (pg_ctl promote -w) | PgWal (pgwal promote) |\n|---:|---:|\n| %s | %s |\n' "$(median < "$S/failover-pg.txt")" "$(median < "$S/failover-kv.txt")"
