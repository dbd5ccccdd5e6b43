#!/usr/bin/env bash
# check-replication-client.sh -- `pgwal receivewal` and `pgwal basebackup` against a PostgreSQL 15,
# 16, 17 or 18 server, side by side with that version's own pg_receivewal and pg_verifybackup. CI has no 16 to 18 server, so this is run by hand
# (as root) after build-postgres.sh; docs/wal-versions.md records what it printed.
#
# Usage: tests/PgWal.Tests/Fixtures/versions/check-replication-client.sh MAJOR [PGBIN] [PGWAL]
#   PGBIN  defaults to Debian's 15 or /opt/pgMAJOR/bin; PGWAL to the native out/pgwal (built first).
#
# A scratch cluster (as `postgres`, 127.0.0.1 only, SCRAM-SHA-256 for everything, 1 MB segments)
# gets two physical slots, created by each tool (--create-slot). Both tools stream into their own
# directory while pgbench writes; then pg_switch_wal(), and both are stopped once their slots have
# confirmed that LSN. Every completed segment must exist in both directories and in the server's
# pg_wal, byte for byte; the slots' restart_lsn must have moved. Then `pgwal basebackup -X stream`
# (plain) must pass that version's pg_verifybackup, and `-Ft -X fetch` must write base.tar and the
# manifest. Exit 0 when all holds.
set -euo pipefail
MAJOR=${1:?usage: check-replication-client.sh MAJOR [PGBIN] [PGWAL]}
if [[ $MAJOR == 15 ]]; then PGBIN=${2:-/usr/lib/postgresql/15/bin}; else PGBIN=${2:-/opt/pg$MAJOR/bin}; fi
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)
if [[ -n ${3:-} ]]; then PGWAL=$3; else
    dotnet publish "$ROOT/src/PgWal.Cli" -c Release -o "$ROOT/out" >/dev/null; PGWAL=$ROOT/out/pgwal
fi
"$PGBIN/postgres" --version | grep -Eq " $MAJOR(\.|beta|rc)" || { echo "$PGBIN is not PostgreSQL $MAJOR" >&2; exit 2; }

log() { printf '[check-replication-client %s] %s\n' "$MAJOR" "$*" >&2; }
as_pg() { runuser -u postgres -- "$@"; }
SCRATCH=$(mktemp -d /tmp/pgwal-recv-XXXXXX); chmod 755 "$SCRATCH"; chown postgres: "$SCRATCH"
DATA=$SCRATCH/data PORT=$(( 55000 + MAJOR ))
PIDS=()
cleanup() {
    set +e
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    [[ -f $DATA/postmaster.pid ]] && as_pg "$PGBIN/pg_ctl" -D "$DATA" -m immediate stop >/dev/null 2>&1
    [[ ${KEEP_SCRATCH:-0} == 1 ]] && log "kept $SCRATCH" || rm -rf "$SCRATCH"
}
trap cleanup EXIT

export PGPASSWORD=check-$RANDOM PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=postgres
printf '%s\n' "$PGPASSWORD" >"$SCRATCH/pw"; chown postgres: "$SCRATCH/pw"
as_pg "$PGBIN/initdb" -D "$DATA" -U postgres --auth=scram-sha-256 --pwfile="$SCRATCH/pw" \
    --wal-segsize=1 -N >"$SCRATCH/initdb.log" 2>&1 || { cat "$SCRATCH/initdb.log" >&2; exit 1; }
cat >>"$DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$SCRATCH'
max_wal_senders = 4
max_replication_slots = 4
wal_keep_size = 0
fsync = off
CONF
as_pg "$PGBIN/pg_ctl" -D "$DATA" -l "$SCRATCH/log" -w start >/dev/null
psql=("$PGBIN/psql" -XAtq -d postgres)
log "server: $("${psql[@]}" -c 'SELECT version()')"
log "auth: $(grep -E '^host +replication' "$DATA/pg_hba.conf" | head -1 | tr -s ' ')"

mkdir -p "$SCRATCH/pgwal" "$SCRATCH/pg"
"$PGWAL" receivewal -S pgwal_slot --create-slot
"$PGBIN/pg_receivewal" -S pg_slot --create-slot
set -m      # background jobs of a script ignore SIGINT otherwise; both tools stop on it
"$PGWAL" receivewal -D "$SCRATCH/pgwal" -S pgwal_slot -n -v 2>"$SCRATCH/pgwal.err" & PIDS+=($!)
"$PGBIN/pg_receivewal" -D "$SCRATCH/pg" -S pg_slot -n -v 2>"$SCRATCH/pg.err" & PIDS+=($!)

"$PGBIN/pgbench" -i -s 2 -q postgres >/dev/null 2>&1
"$PGBIN/pgbench" -n -c 4 -j 2 -T 5 postgres >/dev/null 2>&1
"${psql[@]}" -c "CHECKPOINT"
end=$("${psql[@]}" -c "SELECT pg_current_wal_insert_lsn()")
"${psql[@]}" -c "SELECT pg_switch_wal()" >/dev/null
log "waiting for both slots to pass $end"
for ((i = 0; i < 300; i++)); do
    behind=$("${psql[@]}" -c "SELECT count(*) FROM pg_replication_slots WHERE restart_lsn IS NULL OR restart_lsn < '$end'")
    [[ $behind == 0 ]] && break
    for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null || { cat "$SCRATCH"/*.err >&2; log "a receiver died"; exit 1; }; done
    sleep 0.2
done
[[ $behind == 0 ]] || { "${psql[@]}" -c "SELECT slot_name, restart_lsn FROM pg_replication_slots" >&2; log "slots did not confirm $end"; exit 1; }
"${psql[@]}" -c "SELECT slot_name, slot_type, active, restart_lsn FROM pg_replication_slots ORDER BY 1" | sed 's/^/  slot: /' >&2
kill -INT "${PIDS[@]}"; wait "${PIDS[@]}" 2>/dev/null || true; PIDS=(); set +m

fails=0 n=0
for f in "$SCRATCH"/pg/*; do
    name=$(basename "$f")
    [[ $name =~ ^[0-9A-F]{24}$ ]] || continue
    n=$((n + 1))
    cmp -s "$f" "$SCRATCH/pgwal/$name" || { log "DIFFERS from pg_receivewal: $name"; fails=$((fails + 1)); }
    [[ ! -f $DATA/pg_wal/$name ]] || cmp -s "$f" "$DATA/pg_wal/$name" || { log "DIFFERS from the server's pg_wal: $name"; fails=$((fails + 1)); }
done
extra=$(comm -13 <(ls "$SCRATCH/pg" | grep -E '^[0-9A-F]{24}$' | sort) <(ls "$SCRATCH/pgwal" | grep -E '^[0-9A-F]{24}$' | sort) | wc -l)
log "pg_receivewal $MAJOR: $n completed segments; pgwal receivewal: $(ls "$SCRATCH/pgwal" | grep -cE '^[0-9A-F]{24}$' || true) ($extra not in pg_receivewal's)"
log "pgwal's -v log ends: $(tail -n 1 "$SCRATCH/pgwal.err")"
((n >= 10 && fails == 0 && extra == 0)) || { log "FAILED ($fails differing segments)"; exit 1; }
log "OK: all $n segments identical to pg_receivewal $MAJOR's and to the server's"

"$PGWAL" basebackup -D "$SCRATCH/bb" -X stream -c fast >"$SCRATCH/bb.log" 2>&1 || { cat "$SCRATCH/bb.log" >&2; log "FAILED: pgwal basebackup"; exit 1; }
chown -R postgres: "$SCRATCH/bb"
as_pg "$PGBIN/pg_verifybackup" "$SCRATCH/bb" >"$SCRATCH/verify.log" 2>&1 || { cat "$SCRATCH/verify.log" >&2; log "FAILED: pg_verifybackup $MAJOR"; exit 1; }
log "pgwal basebackup -X stream: pg_verifybackup $MAJOR says: $(tail -n 1 "$SCRATCH/verify.log")"
"$PGWAL" basebackup -D "$SCRATCH/bbt" -Ft -X fetch -c fast >"$SCRATCH/bbt.log" 2>&1 || { cat "$SCRATCH/bbt.log" >&2; log "FAILED: pgwal basebackup -Ft"; exit 1; }
[[ -s $SCRATCH/bbt/base.tar && -s $SCRATCH/bbt/backup_manifest ]] || { log "FAILED: no base.tar or backup_manifest"; exit 1; }
log "pgwal basebackup -Ft -X fetch: $(ls "$SCRATCH/bbt" | tr '\n' ' ')"
log "OK"
