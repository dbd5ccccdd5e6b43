# shellcheck shell=bash
# pg-scratch.sh -- the scratch PostgreSQL 15 cluster every comparison script starts (sourced by
# compare-postgres.sh, compare-recovery.sh, compare-waldump.sh and kv-postgres.sh). It runs as the
# `postgres` user (postgres refuses root), listens on 127.0.0.1 only, keeps its sockets in the scratch
# directory; each caller adds its own settings.
#   pg_scratch_start DATA DIR PORT   initdb DATA (trust, superuser postgres); append the common settings,
#                                    then the caller's (stdin), to postgresql.conf; start, waiting; log DIR/log
#   pg_scratch_stop DATA             immediate stop if it is running (for EXIT traps; nothing to keep)
#   pg_scratch_durable_conf          the settings the durable-write comparisons pass as the caller's
# PGBIN (default /usr/lib/postgresql/15/bin) is read when the functions run.

pg_scratch_as_pg=(runuser -u postgres --)

# The settings of the durable-write comparisons (compare-postgres.sh, kv-postgres.sh): every commit
# fdatasynced, full-page writes on, WAL sized so that no checkpoint is forced during a run.
pg_scratch_durable_conf="shared_buffers = 256MB
wal_buffers = 16MB
wal_level = replica
fsync = on
synchronous_commit = on
wal_sync_method = fdatasync
full_page_writes = on
max_wal_size = 16GB
min_wal_size = 1GB
checkpoint_timeout = 1h
autovacuum = off"

pg_scratch_start() {
    local data=$1 dir=$2 port=$3 bin=${PGBIN:-/usr/lib/postgresql/15/bin}
    "${pg_scratch_as_pg[@]}" "$bin/initdb" -D "$data" -A trust -U postgres >/dev/null
    {
        printf "listen_addresses = '127.0.0.1'\nport = %s\nunix_socket_directories = '%s'\nmax_connections = 100\n" "$port" "$dir"
        cat
    } >> "$data/postgresql.conf"
    "${pg_scratch_as_pg[@]}" "$bin/pg_ctl" -D "$data" -l "$dir/log" -w start >/dev/null
}

pg_scratch_stop() {
    if [[ -f "$1/postmaster.pid" ]]; then
        "${pg_scratch_as_pg[@]}" "${PGBIN:-/usr/lib/postgresql/15/bin}/pg_ctl" -D "$1" -m immediate stop >/dev/null 2>&1 || true
    fi
}
