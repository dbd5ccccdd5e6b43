#!/usr/bin/env bash
# =============================================================================
# make-fixtures.sh -- regenerate the real PostgreSQL WAL fixtures used by
#                     the PgWal test-suite: PostgreSQL 15 (the default, into
#                     ../pg15), or 16, 17 or 18 with PG_MAJOR (into ../pgNN).
#
# Usage:   ./make-fixtures.sh [SET...]        (default: all sets)
#          SET is one of: mixed-1mb compression-1mb switch-16mb
#
# Environment (all optional):
#   PG_MAJOR       15 (default), 16, 17 or 18: the version, and Fixtures/pgNN/ the output
#   PGBIN          that version's binaries (default /usr/lib/postgresql/15/bin for 15; for
#                  the others build them first with ../versions/build-postgres.sh, e.g.
#                  PGBIN=/opt/pg17/bin)
#   FIXTURE_PORT   TCP port for the scratch servers (default 54315)
#   KEEP_SCRATCH=1 keep the scratch directory (clusters + logs) for debugging
#
# What it does, for every fixture set:
#   1. initdb a scratch cluster under a fresh `mktemp -d /tmp/pgfix-XXXXXX`
#      (owned by the `postgres` OS user when run as root -- the server refuses
#      to run as root), listening on 127.0.0.1:$FIXTURE_PORT only, with the
#      unix socket inside the scratch directory.
#   2. Moves the start of WAL past the bulky initdb WAL (either pg_resetwal, or
#      CHECKPOINT + pg_switch_wal()), so that the fixture only contains WAL of
#      the workload, then runs the workload.
#   3. Stops the server cleanly (pg_ctl -m fast stop), so the last record is a
#      shutdown checkpoint, computes the first record LSN and the end LSN
#      (= end of the shutdown-checkpoint record) and copies the segment files
#      (24-hex-digit names only, never archive_status) that cover
#      [first, end) into  <set>/pg_wal/<segment>.gz  (gzip -9 -n).
#   4. Decompresses the copy into a temporary directory, runs that version's
#      pg_waldump on it (plain, --stats=record, -b) and fails unless all exit 0.
#      For 16, 17 and 18, whose tools CI does not have, the plain and -b
#      outputs are kept too (waldump.txt.gz, waldump-b.txt.gz), with the
#      pg_controldata output of the stopped cluster (controldata.txt) and
#      its pg_control file (global/pg_control).
#   5. Writes <set>/manifest.txt (segment size, timeline, first/end LSN,
#      the pg_waldump command lines, settings, workload summary, sha256s and
#      the verification numbers) and <set>/waldump-stats.txt (the
#      `pg_waldump --stats=record` output).
#
# Re-running regenerates everything from scratch (old <set>/ directories are
# replaced). Output differs run to run (system identifier, timestamps, xids
# of background activity, exact LSNs) -- tests must read LSNs from the
# manifest, not hard-code them.
#
# A server that is still running when the script exits (error, ^C) is stopped
# by the EXIT trap; the scratch directory is then removed.
# =============================================================================
set -euo pipefail

PG_MAJOR=${PG_MAJOR:-15}
case $PG_MAJOR in 15|16|17|18) ;; *) echo "PG_MAJOR must be 15, 16, 17 or 18" >&2; exit 2 ;; esac
[[ $PG_MAJOR == 15 ]] && PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PGBIN=${PGBIN:?set PGBIN to PostgreSQL $PG_MAJOR binaries (../versions/build-postgres.sh makes them)}
PORT=${FIXTURE_PORT:-54315}
OUTDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/pg$PG_MAJOR
mkdir -p "$OUTDIR"
ALL_SETS=(mixed-1mb compression-1mb switch-16mb promote-1mb)
if [[ $# -gt 0 ]]; then SETS=("$@"); else SETS=("${ALL_SETS[@]}"); fi

SCRATCH=$(mktemp -d /tmp/pgfix-XXXXXX)
chmod 0755 "$SCRATCH"
[[ $EUID -eq 0 ]] && chown postgres: "$SCRATCH"

PGDATA=""          # data directory of the cluster currently in use
SOCK=""            # its unix-socket directory
SETDIR=""          # scratch directory of the current set
declare -A BG_FD=() BG_PID=() BG_SEQ=()

log() { printf '[make-fixtures %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# run a command as the postgres OS user (or as ourselves when not root)
as_pg() { if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

cleanup() {
    local rc=$?
    set +e
    for n in "${!BG_FD[@]}"; do eval "exec ${BG_FD[$n]}>&-"; done
    for n in "${!BG_PID[@]}"; do kill "${BG_PID[$n]}" 2>/dev/null; done
    if [[ -n $PGDATA && -f $PGDATA/postmaster.pid ]]; then
        as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w -t 60 stop >/dev/null 2>&1 ||
            as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1
    fi
    if [[ ${KEEP_SCRATCH:-0} == 1 ]]; then
        log "scratch kept in $SCRATCH"
    else
        rm -rf "$SCRATCH"
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ----------------------------------------------------------------------------
# cluster helpers
# ----------------------------------------------------------------------------
# new_cluster SET SEGSIZE_MB [initdb args...]
new_cluster() {
    local set=$1 segmb=$2; shift 2
    SETDIR=$SCRATCH/$set
    PGDATA=$SETDIR/data
    SOCK=$SETDIR
    as_pg mkdir -p "$SETDIR"
    as_pg "$PGBIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 --locale=C \
        --wal-segsize="$segmb" "$@" >"$SETDIR/initdb.log" 2>&1 ||
        { cat "$SETDIR/initdb.log" >&2; die "initdb failed"; }
    as_pg tee -a "$PGDATA/postgresql.conf" >/dev/null <<EOF

# ---- make-fixtures.sh common settings ----
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$SOCK'
autovacuum = off            # no background vacuum records
checkpoint_timeout = 1d     # only the checkpoints the workload asks for
max_wal_size = 1GB
wal_recycle = off           # no recycled (stale-content) future segments
wal_keep_size = 512MB       # keep every segment of the workload until we copy it
wal_init_zero = on
fsync = off                 # scratch cluster; does not change the WAL format
logging_collector = off
EOF
}

# append settings (one per argument) to postgresql.conf
set_conf() { printf '%s\n' "$@" | as_pg tee -a "$PGDATA/postgresql.conf" >/dev/null; }

pg_start() {
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$SETDIR/server.log" -w -t 120 start >/dev/null ||
        { tail -n 50 "$SETDIR/server.log" >&2; die "server start failed"; }
}
pg_stop() { as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w -t 120 stop >/dev/null; }
pg_restart() { pg_stop; pg_start; }

conninfo() { echo "host=$SOCK port=$PORT user=postgres dbname=${1:-postgres} application_name=${2:-fixture}"; }

# psql_in [DB] : run SQL from stdin, stop at first error
psql_in() {
    as_pg "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 "$(conninfo "${1:-postgres}")" \
        >>"$SETDIR/psql.log" 2>&1 || { tail -n 30 "$SETDIR/psql.log" >&2; die "psql failed"; }
}
# q SQL [DB] : run one SQL string, print unaligned tuples-only result
q() { as_pg "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 "$(conninfo "${2:-postgres}")" -c "$1"; }

# settle_checkpoint: set hint bits on every table first (so the checkpoint is
# not followed by a flood of FPI_FOR_HINT records), then CHECKPOINT
settle_checkpoint() {
    psql_in <<'SQL'
DO $$
DECLARE r regclass;
BEGIN
  FOR r IN SELECT c.oid FROM pg_class c WHERE c.relkind IN ('r', 'm', 't') AND c.relpersistence = 'p'
  LOOP EXECUTE format('SELECT count(*) FROM %s', r); END LOOP;
END $$;
CHECKPOINT;
SQL
}

# --- background sessions (for concurrency: multixacts, lock-updated) --------
# bg_open NAME [DB] : start a psql reading from a FIFO
bg_open() {
    local n=$1 db=${2:-postgres} fd
    as_pg mkfifo "$SETDIR/fifo.$n"
    as_pg "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 "$(conninfo "$db" "$n")" \
        <"$SETDIR/fifo.$n" >>"$SETDIR/bg.$n.log" 2>&1 &
    BG_PID[$n]=$!
    exec {fd}>"$SETDIR/fifo.$n"
    BG_FD[$n]=$fd
    BG_SEQ[$n]=0
}
# bg_send NAME SQL... : send SQL and wait until the session has executed it
bg_send() {
    local n=$1; shift
    local seq=$((BG_SEQ[$n] + 1)) i
    BG_SEQ[$n]=$seq
    printf '%s\n' "$@" "SELECT 'sync_${n}_${seq}';" >&"${BG_FD[$n]}"
    for ((i = 0; i < 600; i++)); do
        [[ $(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$n'
                AND query LIKE '%sync_${n}_${seq}''%' AND state <> 'active'") == 1 ]] && return 0
        kill -0 "${BG_PID[$n]}" 2>/dev/null || { cat "$SETDIR/bg.$n.log" >&2; die "bg session $n died"; }
        sleep 0.05
    done
    die "bg session $n did not reach sync point $seq"
}
bg_close() {
    local n=$1
    printf '\\q\n' >&"${BG_FD[$n]}"
    eval "exec ${BG_FD[$n]}>&-"
    wait "${BG_PID[$n]}" || { cat "$SETDIR/bg.$n.log" >&2; die "bg session $n failed"; }
    unset "BG_FD[$n]" "BG_PID[$n]"
    as_pg rm -f "$SETDIR/fifo.$n"
}

# ----------------------------------------------------------------------------
# LSN / segment arithmetic
# ----------------------------------------------------------------------------
lsn2int() { local hi=${1%/*} lo=${1#*/}; echo $(((16#$hi << 32) | 16#$lo)); }
int2lsn() { printf '%X/%X' $(($1 >> 32)) $(($1 & 0xFFFFFFFF)); }
# segname TLI LSN_INT SEGSIZE
segname() {
    local segno=$(($2 / $3)) per=$((0x100000000 / $3))
    printf '%08X%08X%08X' "$1" $((segno / per)) $((segno % per))
}
# seg_of NAME SEGSIZE -> segment number
seg_of() { local n=$1 per=$((0x100000000 / $2)); echo $(((16#${n:8:8}) * per + 16#${n:16:8})); }

# end_of_record LSN TOTLEN SEGSIZE -> EndRecPtr (accounts for page headers)
end_of_record() {
    local pos=$1 rem=$2 seg=$3 pend avail
    while ((rem > 0)); do
        pend=$(((pos / 8192 + 1) * 8192))
        avail=$((pend - pos))
        if ((rem <= avail)); then
            pos=$((pos + rem)); rem=0
        else
            rem=$((rem - avail)); pos=$pend
            if ((pos % seg == 0)); then pos=$((pos + 40)); else pos=$((pos + 24)); fi
        fi
    done
    echo "$pos"
}

controldata() { as_pg "$PGBIN/pg_controldata" -D "$PGDATA" | sed -n "s/^$1: *//p"; }

# first_record_lsn SEGMENT : the first record in SEGMENT of pg_wal, without zero padding
first_record_lsn() {
    local lsn
    lsn=$(as_pg "$PGBIN/pg_waldump" -p "$PGDATA/pg_wal" -n 1 "$1" 2>/dev/null |
        sed -n 's/.*lsn: \([0-9A-F]*\/[0-9A-F]*\),.*/\1/p' | head -n 1 || true)
    [[ -n $lsn ]] || die "could not find first record in $1"
    int2lsn "$(lsn2int "$lsn")"
}

# keep_control OUT : pg_controldata's output and the control file itself, into OUT
keep_control() {
    as_pg "$PGBIN/pg_controldata" -D "$PGDATA" >"$1/controldata.txt"
    mkdir -p "$1/global"
    cp "$PGDATA/global/pg_control" "$1/global/pg_control"
}

# manifest_header SET SYSID SEGSIZE : the first lines of every manifest.txt
manifest_header() {
    echo "# PgWal fixture: $1"
    echo "# generated by make-fixtures.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "server_version: $(as_pg "$PGBIN/postgres" --version)"
    echo "pg_waldump_version: $("$PGBIN/pg_waldump" --version)"
    echo "system_identifier: $2"
    echo "wal_segment_size: $3"
}

# ----------------------------------------------------------------------------
# collect SET FIRST_SEGMENT "settings text" "workload text"
#   (cluster must be running; it is stopped here)
# ----------------------------------------------------------------------------
collect() {
    local set=$1 firstseg=$2 settings=$3 workload=$4
    local out=$OUTDIR/$set
    local segsize tli sysid ckpt first end endint lastseg f n

    pg_stop
    segsize=$(controldata 'Bytes per WAL segment')
    tli=$(controldata "Latest checkpoint's TimeLineID")
    sysid=$(controldata 'Database system identifier')
    ckpt=$(controldata 'Latest checkpoint location')
    [[ $(controldata 'Database cluster state') == 'shut down' ]] || die "cluster not cleanly shut down"

    # first record in the first segment
    first=$(first_record_lsn "$firstseg")
    # end of the shutdown checkpoint record
    local totlen
    totlen=$(as_pg "$PGBIN/pg_waldump" -p "$PGDATA/pg_wal" -s "$ckpt" -n 1 |
        sed -n 's/.*len (rec\/tot): *[0-9]*\/ *\([0-9]*\),.*/\1/p')
    endint=$(end_of_record "$(lsn2int "$ckpt")" "$totlen" "$segsize")
    end=$(int2lsn "$endint")
    lastseg=$(segname "$tli" $((endint - 1)) "$segsize")
    log "$set: first=$first end=$end segments $firstseg..$lastseg"

    rm -rf "$out"
    mkdir -p "$out/pg_wal"
    local verify=$SETDIR/verify
    mkdir -p "$verify"
    local s0 s1 segno segs=()
    s0=$(seg_of "$firstseg" "$segsize"); s1=$(seg_of "$lastseg" "$segsize")
    for ((segno = s0; segno <= s1; segno++)); do
        f=$(segname "$tli" $((segno * segsize)) "$segsize")
        [[ -f $PGDATA/pg_wal/$f ]] || die "segment $f missing"
        segs+=("$f")
        gzip -9 -n -c "$PGDATA/pg_wal/$f" >"$out/pg_wal/$f.gz"
        gzip -d -c "$out/pg_wal/$f.gz" >"$verify/$f"     # verify from the gz copy
        cmp -s "$verify/$f" "$PGDATA/pg_wal/$f" || die "gzip round trip of $f"
    done
    chmod -R a+rX "$verify"

    # ---- verification ------------------------------------------------------
    local W="$PGBIN/pg_waldump"
    "$W" -p "$verify" -s "$first" -e "$end" >"$SETDIR/waldump.txt" ||
        die "$set: pg_waldump failed"
    "$W" -p "$verify" -s "$first" -e "$end" --stats=record >"$out/waldump-stats.txt" ||
        die "$set: pg_waldump --stats=record failed"
    "$W" -p "$verify" -s "$first" -e "$end" -b >"$SETDIR/waldump-b.txt" ||
        die "$set: pg_waldump -b failed"
    if [[ $PG_MAJOR != 15 ]]; then
        # The oracle, for CI machines without this version's tools.
        gzip -9 -n -c "$SETDIR/waldump.txt" >"$out/waldump.txt.gz"
        gzip -9 -n -c "$SETDIR/waldump-b.txt" >"$out/waldump-b.txt.gz"
        keep_control "$out"
    fi
    local nrec nfpw lastlsn rmgrs origin methods=""
    nrec=$(grep -c '^rmgr:' "$SETDIR/waldump.txt")
    nfpw=$(grep -c 'FPW' "$SETDIR/waldump.txt" || true)
    lastlsn=$(tail -n 1 "$SETDIR/waldump.txt" | sed -n 's/.*lsn: \([0-9A-F]*\/[0-9A-F]*\),.*/\1/p')
    [[ $(lsn2int "$lastlsn") == $(lsn2int "$ckpt") ]] || die "$set: last record $lastlsn is not the shutdown checkpoint $ckpt"
    tail -n 1 "$SETDIR/waldump.txt" | grep -q 'CHECKPOINT_SHUTDOWN' || die "$set: last record is not CHECKPOINT_SHUTDOWN"
    rmgrs=$(awk '/^rmgr:/ {print $2}' "$SETDIR/waldump.txt" | sort | uniq -c |
        awk '{printf "%s%s=%s", sep, $2, $1; sep=", "}')
    local nimg m
    nimg=$(grep -c '^[[:space:]]*blkref #[0-9]*:.*(FPW)' "$SETDIR/waldump-b.txt" || true)
    for m in pglz lz4 zstd; do
        methods+="$m=$(grep -c "method: $m" "$SETDIR/waldump-b.txt" || true) "
    done
    origin=$(grep -c 'origin: node' "$SETDIR/waldump.txt" || true)
    local types
    types=$(awk '/^rmgr:/ {r=$2; sub(/.*desc: /, ""); split($0, a, " "); print r "/" a[1]}' \
        "$SETDIR/waldump.txt" | sort | uniq -c | awk '{printf "    %-40s %6d\n", $2, $1}')

    # ---- manifest ------------------------------------------------------------
    {
        manifest_header "$set" "$sysid" "$segsize"
        echo "wal_block_size: $(controldata 'WAL block size')"
        echo "timeline: $tli"
        echo "first_record_lsn: $first"
        echo "end_lsn: $end"
        echo "last_record_lsn: $ckpt    # the CHECKPOINT_SHUTDOWN record; end_lsn = its end"
        echo "data_checksums: $(controldata 'Data page checksum version')    # 0 = off"
        echo "segments:"
        for f in "${segs[@]}"; do
            printf '  - %s  size=%s  sha256=%s  gz_size=%s\n' "$f" \
                "$(stat -c %s "$verify/$f")" "$(sha256sum "$verify/$f" | cut -d' ' -f1)" \
                "$(stat -c %s "$out/pg_wal/$f.gz")"
        done
        echo "pg_waldump_commands:    # run from this directory after: mkdir -p /tmp/x && for f in pg_wal/*.gz; do gzip -dc \$f > /tmp/x/\$(basename \$f .gz); done"
        echo "  - pg_waldump -p /tmp/x -s $first -e $end"
        echo "  - pg_waldump -p /tmp/x -s $first -e $end --stats=record"
        echo "  - pg_waldump -p /tmp/x -s $first -e $end -b"
        echo "  - pg_waldump -p /tmp/x -s $first -e $end --stats    # per-rmgr statistics"
        echo "  # without -e pg_waldump runs into the zero-filled tail and exits 1"
        echo "  # (\"invalid record length at $(int2lsn $(((endint + 7) & ~7))): wanted 24, got 0\")"
        echo "settings:"
        printf '%s\n' "$settings" | sed 's/^/  /'
        echo "workload:"
        printf '%s\n' "$workload" | sed 's/^/  /'
        echo "verification:"
        echo "  records: $nrec"
        echo "  records_with_FPW_blocks: $nfpw"
        echo "  fpw_block_images: $nimg"
        echo "  compressed_fpi_by_method: $methods"
        echo "  commit_records_with_origin: $origin    # pg_waldump does not print the per-record origin (block id 253)"
        echo "  records_by_rmgr: $rmgrs"
        echo "  record_types (rmgr/first word of desc):"
        echo "$types"
    } >"$out/manifest.txt"
    log "$set: $nrec records, $nfpw records with FPW, methods: $methods"
}

# =============================================================================
# Set a: mixed-1mb
# =============================================================================
make_mixed() {
    local set=mixed-1mb
    log "$set: initdb"
    new_cluster $set 1 --data-checksums
    local settings="initdb: --wal-segsize=1 --data-checksums -E UTF8 --locale=C
wal_level = logical
track_commit_timestamp = on
max_prepared_transactions = 5
full_page_writes = on   (switched off and on again mid-way -> XLOG FPW_CHANGE)
wal_compression = off
max_connections = 100 -> 50 (changed by a restart mid-way -> XLOG PARAMETER_CHANGE)
autovacuum = off, checkpoint_timeout = 1d, wal_recycle = off, wal_keep_size = 512MB, fsync = off
pg_resetwal -x 32700 -m 2040,1 -O 1630 before first start (see workload)"
    set_conf "wal_level = logical" "track_commit_timestamp = on" \
        "max_prepared_transactions = 5" "full_page_writes = on" "wal_compression = off" \
        "max_connections = 100"
    # Start WAL in a fresh segment after initdb's WAL, and put the xid/multixact
    # counters just before SLRU page boundaries so that the workload produces
    # CLOG ZEROPAGE, CommitTs ZEROPAGE and MultiXact ZERO_OFF_PAGE/ZERO_MEM_PAGE.
    as_pg "$PGBIN/pg_resetwal" -x 32700 -m 2040,1 -O 1630 -D "$PGDATA" >/dev/null
    local firstseg
    firstseg=$(controldata "Latest checkpoint's REDO WAL file")
    mkdir -p "$SCRATCH/ts" && chown postgres: "$SCRATCH/ts" 2>/dev/null || true
    pg_start

    # ---- phase 1: extensions, logical slot, schema, initial load --------------
    log "$set: phase 1 (schema, load)"
    psql_in <<'SQL'
CREATE EXTENSION bloom;
CREATE TABLE t_main (id int PRIMARY KEY, grp int NOT NULL, val text, cnt int DEFAULT 0)
    WITH (fillfactor = 80);
CREATE INDEX t_main_grp ON t_main (grp);          -- few distinct keys: btree DEDUP
CREATE INDEX t_main_val ON t_main (val);
INSERT INTO t_main SELECT g, g % 10, 'v' || g, 0 FROM generate_series(1, 2000) g;
CREATE SEQUENCE s1 CACHE 1;
SELECT nextval('s1') FROM generate_series(1, 70);
SELECT setval('s1', 1000);
CREATE TABLE t_serial (id bigserial PRIMARY KEY, note text);
INSERT INTO t_serial (note) SELECT 'n' || g FROM generate_series(1, 40) g;
SQL
    # COPY -> Heap2 MULTI_INSERT
    seq 2001 3000 | awk '{printf "%d\t%d\tc%d\n", $1, $1 % 10, $1}' >"$SETDIR/copy.tsv"
    chmod a+r "$SETDIR/copy.tsv"
    echo "\\copy t_main (id, grp, val) FROM '$SETDIR/copy.tsv'" | psql_in
    settle_checkpoint

    # ---- phase 2: DML variety, xact shapes ------------------------------------
    log "$set: phase 2 (dml, xacts)"
    {
        cat <<'SQL'
UPDATE t_main SET cnt = cnt + 1 WHERE id % 7 = 0;            -- HOT
UPDATE t_main SET val = val || 'x' WHERE id % 11 = 0;        -- non-HOT
DELETE FROM t_main WHERE id % 13 = 0;
BEGIN; SELECT id FROM t_main WHERE id BETWEEN 1 AND 5 FOR UPDATE; COMMIT;   -- Heap LOCK
INSERT INTO t_main VALUES (5000, 1, 'spec', 0) ON CONFLICT (id) DO NOTHING; -- speculative insert + CONFIRM
INSERT INTO t_main VALUES (1, 1, 'upsert', 0) ON CONFLICT (id) DO UPDATE SET cnt = t_main.cnt + 100;
-- aborted transactions
BEGIN; INSERT INTO t_main VALUES (6000, 1, 'aborted', 0); ROLLBACK;
BEGIN; CREATE TABLE t_aborted (x int); INSERT INTO t_aborted VALUES (1); ROLLBACK;
-- repeated non-HOT updates of the same rows: btree bottom-up deletion (DELETE)
UPDATE t_main SET val = val || 'a' WHERE id BETWEEN 100 AND 400;
UPDATE t_main SET val = val || 'b' WHERE id BETWEEN 100 AND 400;
UPDATE t_main SET val = val || 'c' WHERE id BETWEEN 100 AND 400;
UPDATE t_main SET val = val || 'd' WHERE id BETWEEN 100 AND 400;
-- logical decoding messages
SELECT pg_logical_emit_message(false, 'fixture', 'non-transactional message');
BEGIN; SELECT pg_logical_emit_message(true, 'fixture', 'transactional message'); COMMIT;
SELECT pg_logical_emit_message(true, 'fixture-big', repeat(md5('pgwal'), 640));     -- 20480 bytes, spans pages
SELECT pg_logical_emit_message(false, 'fixture-bin', decode(repeat('00ff7f80', 64), 'hex'));
SELECT pg_create_restore_point('rp1');
-- two-phase commit
BEGIN; INSERT INTO t_main VALUES (7001, 1, '2pc-commit', 0); PREPARE TRANSACTION 'fx1';
BEGIN; INSERT INTO t_main VALUES (7002, 2, '2pc-rollback', 0); PREPARE TRANSACTION 'fx2';
BEGIN; SAVEPOINT a; UPDATE t_main SET cnt = -1 WHERE id = 2; SAVEPOINT b;
       INSERT INTO t_main VALUES (7003, 3, '2pc-subxact', 0); PREPARE TRANSACTION 'fx3';
COMMIT PREPARED 'fx1';
ROLLBACK PREPARED 'fx2';
SQL
        # 70 subtransactions with an xid each: xact ASSIGNMENT after 64
        echo "BEGIN;"
        for i in $(seq 1 70); do
            echo "SAVEPOINT sp$i; INSERT INTO t_serial (note) VALUES ('subxact $i');"
            if ((i % 20 == 10)); then echo "ROLLBACK TO SAVEPOINT sp$i;"; fi
        done
        echo "COMMIT;"
        echo "BEGIN;"
        for i in $(seq 1 8); do echo "SAVEPOINT q$i; INSERT INTO t_serial (note) VALUES ('aborted subxact $i');"; done
        echo "ROLLBACK;"
        cat <<'SQL'
-- Heap TRUNCATE + Storage CREATE
CREATE TABLE t_trunc (id int, v text);
INSERT INTO t_trunc SELECT g, 'x' || g FROM generate_series(1, 100) g;
TRUNCATE t_trunc;
INSERT INTO t_trunc VALUES (1, 'after truncate');
DROP TABLE t_trunc;
SQL
    } | psql_in
    # checkpoint while 'fx3' is still prepared (it shows up in RUNNING_XACTS)
    settle_checkpoint
    q "COMMIT PREPARED 'fx3'" >/dev/null

    # ---- phase 3: concurrency (multixacts, lock-updated), pgbench ----------
    log "$set: phase 3 (multixacts, pgbench)"
    psql_in <<'SQL'
CREATE TABLE t_lock (id int PRIMARY KEY, v int);
INSERT INTO t_lock SELECT g, g FROM generate_series(1, 20) g;
SQL
    bg_open sessA
    local i
    for i in $(seq 1 12); do
        # two sessions share-lock the same row -> MultiXact CREATE_ID
        bg_send sessA "BEGIN;" "SELECT * FROM t_lock WHERE id = $i FOR SHARE;"
        q "BEGIN; SELECT * FROM t_lock WHERE id = $i FOR SHARE; COMMIT;" >/dev/null
        bg_send sessA "COMMIT;"
    done
    # key-share lock + concurrent no-key update -> multixact with an updater
    bg_send sessA "BEGIN;" "SELECT * FROM t_lock WHERE id = 15 FOR KEY SHARE;"
    q "UPDATE t_lock SET v = v + 1 WHERE id = 15" >/dev/null
    bg_send sessA "COMMIT;"
    # no-key update in progress, other session locks FOR KEY SHARE and follows
    # the update chain -> Heap2 LOCK_UPDATED
    bg_send sessA "BEGIN;" "UPDATE t_lock SET v = v + 100 WHERE id = 16;"
    q "BEGIN; SELECT * FROM t_lock WHERE id = 16 FOR KEY SHARE; COMMIT;" >/dev/null
    bg_send sessA "COMMIT;"
    bg_send sessA "BEGIN;" "UPDATE t_lock SET v = v + 100 WHERE id = 17;" "COMMIT;"
    q "BEGIN; SELECT * FROM t_lock WHERE id = 17 FOR KEY SHARE; COMMIT;" >/dev/null
    bg_close sessA

    # small pgbench (own tables; the builtin -i -s 1 would be ~13 MB of WAL)
    psql_in <<'SQL'
CREATE TABLE pb_branches (bid int PRIMARY KEY, bbalance int, filler char(88)) WITH (fillfactor = 100);
CREATE TABLE pb_tellers (tid int PRIMARY KEY, bid int, tbalance int, filler char(84)) WITH (fillfactor = 100);
CREATE TABLE pb_accounts (aid int PRIMARY KEY, bid int, abalance int, filler char(84)) WITH (fillfactor = 90);
CREATE TABLE pb_history (tid int, bid int, aid int, delta int, mtime timestamp, filler char(22));
INSERT INTO pb_branches VALUES (1, 0);
INSERT INTO pb_tellers SELECT g, 1, 0 FROM generate_series(1, 10) g;
INSERT INTO pb_accounts SELECT g, 1, 0 FROM generate_series(1, 1000) g;
SQL
    as_pg tee "$SETDIR/pgbench.sql" >/dev/null <<'EOF'
\set aid random(1, 1000)
\set tid random(1, 10)
\set delta random(-5000, 5000)
BEGIN;
UPDATE pb_accounts SET abalance = abalance + :delta WHERE aid = :aid;
SELECT abalance FROM pb_accounts WHERE aid = :aid;
UPDATE pb_tellers SET tbalance = tbalance + :delta WHERE tid = :tid;
UPDATE pb_branches SET bbalance = bbalance + :delta WHERE bid = 1;
INSERT INTO pb_history (tid, bid, aid, delta, mtime) VALUES (:tid, 1, :aid, :delta, CURRENT_TIMESTAMP);
END;
EOF
    settle_checkpoint
    as_pg "$PGBIN/pgbench" -n -c 4 -j 2 -t 75 -f "$SETDIR/pgbench.sql" -h "$SOCK" -p "$PORT" -U postgres postgres \
        >"$SETDIR/pgbench.log" 2>&1 || { cat "$SETDIR/pgbench.log" >&2; die "pgbench failed"; }
    settle_checkpoint
    q "SELECT pg_switch_wal()" >/dev/null

    # ---- phase 4: other index access methods ---------------------------------
    log "$set: phase 4 (index AMs)"
    psql_in <<'SQL'
CREATE TABLE t_idx (id int, h int, arr int[], tsv tsvector, pt point, txt text);
CREATE INDEX t_idx_hash ON t_idx USING hash (h);
CREATE INDEX t_idx_gin ON t_idx USING gin (arr);                           -- fastupdate: pending list
CREATE INDEX t_idx_gin2 ON t_idx USING gin (tsv) WITH (fastupdate = off);
CREATE INDEX t_idx_gist ON t_idx USING gist (pt);
CREATE INDEX t_idx_spgist ON t_idx USING spgist (txt);                     -- radix tree
CREATE INDEX t_idx_spgist_pt ON t_idx USING spgist (pt);                   -- quad tree
CREATE INDEX t_idx_brin ON t_idx USING brin (id) WITH (pages_per_range = 2);
CREATE INDEX t_idx_bloom ON t_idx USING bloom (id, h);                     -- Generic WAL
INSERT INTO t_idx
SELECT g, g % 20, ARRAY[g % 7, g % 100, 1000 + g % 3],
       to_tsvector('simple', 'word' || (g % 30) || ' w' || g),
       point(g % 97, g / 97),
       'key' || lpad(((g * 7919) % 5000)::text, 5, '0') || CASE WHEN g % 4 = 0 THEN 'suffix' ELSE '' END
FROM generate_series(1, 2000) g;
SELECT gin_clean_pending_list('t_idx_gin');
SELECT brin_summarize_new_values('t_idx_brin');
SELECT brin_desummarize_range('t_idx_brin', 0);
SELECT brin_summarize_range('t_idx_brin', 0);
SQL
    settle_checkpoint
    psql_in <<'SQL'
DELETE FROM t_idx WHERE id % 3 = 0 OR id > 1600;
VACUUM (INDEX_CLEANUP ON) t_idx;                                          -- index vacuum records + Storage TRUNCATE
SELECT txid_current();
VACUUM t_idx;                                                             -- deleted gist pages -> FSM
INSERT INTO t_idx
SELECT g, g % 20, ARRAY[g % 5, 2000 + g], to_tsvector('simple', 'again ' || g),
       point(g % 50, g % 40), 'new' || g
FROM generate_series(2001, 2400) g;
-- hash: kill index entries with an index scan, then fill the page -> VACUUM_ONE_PAGE
DELETE FROM t_idx WHERE id > 2300 AND h = 5;
SET enable_seqscan = off; SET enable_bitmapscan = off;
SELECT count(*) FROM t_idx WHERE h = 5;
RESET enable_seqscan; RESET enable_bitmapscan;
INSERT INTO t_idx (id, h) SELECT 3000 + g, 5 FROM generate_series(1, 400) g;
-- GIN posting tree: one key in 3000 rows, bulk-moved from the pending list
CREATE TABLE t_gin (id int, a int[] DEFAULT '{1}');
CREATE INDEX t_gin_a ON t_gin USING gin (a) WITH (fastupdate = on);
SQL
    seq 1 3000 >"$SETDIR/gin.txt"; chmod a+r "$SETDIR/gin.txt"
    echo "\\copy t_gin (id) FROM '$SETDIR/gin.txt'" | psql_in
    psql_in <<'SQL'
SELECT gin_clean_pending_list('t_gin_a');                                 -- CREATE_PTREE
DELETE FROM t_gin WHERE id <= 300;
VACUUM t_gin;                                                             -- VACUUM_DATA_LEAF_PAGE
-- SP-GiST with a leaf root page: VACUUM_ROOT
CREATE TABLE t_spg_small (t text);
CREATE INDEX ON t_spg_small USING spgist (t);
INSERT INTO t_spg_small SELECT 'small' || g FROM generate_series(1, 20) g;
DELETE FROM t_spg_small WHERE t LIKE '%1%';
VACUUM t_spg_small;
-- BRIN: summary tuple grows and no longer fits on its (full) page -> UPDATE
CREATE TABLE t_brin (id int, t text) WITH (fillfactor = 50);
INSERT INTO t_brin SELECT g, repeat('a', 300) || lpad(g::text, 6, '0') FROM generate_series(1, 300) g;
CREATE INDEX t_brin_t ON t_brin USING brin (t) WITH (pages_per_range = 1);
-- (values made of md5 hex: not compressible, so the summary really grows)
UPDATE t_brin SET t = (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 30) g) WHERE id = 1;
UPDATE t_brin SET t = (SELECT string_agg(md5((g + 7)::text), '') FROM generate_series(1, 30) g) WHERE id = 40;
SQL
    settle_checkpoint

    # ---- phase 5: vacuum family, btree page deletion ------------------------
    log "$set: phase 5 (vacuum)"
    psql_in <<'SQL'
DELETE FROM t_main WHERE id BETWEEN 1200 AND 2400;
VACUUM t_main;                      -- PRUNE/VACUUM/VISIBLE, btree HALFDEAD/UNLINK
SELECT txid_current();
VACUUM t_main;                      -- deleted btree pages become recyclable
INSERT INTO t_main SELECT g, g % 10, 'r' || g, 0 FROM generate_series(1200, 2000) g;   -- REUSE_PAGE
VACUUM FREEZE t_main;               -- FREEZE_PAGE
CREATE TABLE t_hint (id int, v text);
INSERT INTO t_hint SELECT g, repeat('h', 50) FROM generate_series(1, 300) g;
SQL
    q "CHECKPOINT" >/dev/null                               # (no settle: t_hint keeps unset hint bits)
    q "SELECT count(*) FROM t_hint" >/dev/null              # hint bits -> FPI_FOR_HINT

    # ---- phase 6: storage/catalog level operations -----------------------------
    log "$set: phase 6 (tablespace, database, relmap, origin, backup)"
    psql_in <<SQL
CREATE TABLESPACE fixture_ts LOCATION '$SCRATCH/ts';
CREATE TABLE t_ts (id int, v text) TABLESPACE fixture_ts;
INSERT INTO t_ts SELECT g, 'ts' || g FROM generate_series(1, 50) g;
DROP TABLE t_ts;
DROP TABLESPACE fixture_ts;
CREATE DATABASE fixture_db STRATEGY FILE_COPY;
SQL
    psql_in fixture_db <<'SQL'
CREATE TABLE t_other_db (id int PRIMARY KEY, v text);
INSERT INTO t_other_db SELECT g, 'db' || g FROM generate_series(1, 50) g;
SQL
    psql_in <<'SQL'
DROP DATABASE fixture_db;
-- a logical slot makes VACUUM FULL of a catalog emit Heap2 REWRITE records for
-- catalog tuples newer than the slot's catalog_xmin
SELECT pg_create_logical_replication_slot('fixture_slot', 'test_decoding');
CREATE TABLE t_rewrite (id int);
VACUUM FULL pg_class;               -- RelMap UPDATE + Heap2 REWRITE
SELECT pg_replication_origin_create('fixture_origin');
SQL
    # writes carrying a replication origin (pg_waldump does not print the
    # per-record origin, so the LSN range is recorded in the manifest)
    local origin_start origin_end
    origin_start=$(q "SELECT pg_current_wal_insert_lsn()")
    psql_in <<'SQL'
SELECT pg_replication_origin_session_setup('fixture_origin');
BEGIN;
SELECT pg_replication_origin_xact_setup('0/AABBCCDD', '2024-01-02 03:04:05+00');
INSERT INTO t_main VALUES (8001, 1, 'from origin', 0);
UPDATE t_main SET cnt = cnt + 1 WHERE id = 8001;
COMMIT;
INSERT INTO t_main VALUES (8002, 2, 'from origin autocommit', 0);
SELECT pg_replication_origin_session_reset();
SELECT pg_replication_origin_advance('fixture_origin', '0/AABBCE00');
SQL
    origin_end=$(q "SELECT pg_current_wal_insert_lsn()")
    psql_in <<'SQL'
SELECT pg_backup_start('fixture', true);
INSERT INTO t_main VALUES (8100, 1, 'during backup', 0);
SELECT lsn FROM pg_backup_stop(false);
SELECT pg_replication_origin_drop('fixture_origin');
ALTER SYSTEM SET full_page_writes = off;
SELECT pg_reload_conf();
SELECT pg_sleep(1);
SQL
    settle_checkpoint
    q "UPDATE t_main SET cnt = cnt + 1 WHERE id % 50 = 0" >/dev/null    # no FPIs
    psql_in <<'SQL'
ALTER SYSTEM RESET full_page_writes;
ALTER SYSTEM SET max_connections = 50;
SELECT pg_reload_conf();
SELECT pg_sleep(1);
SQL
    # ---- phase 7: restart with a changed parameter -> PARAMETER_CHANGE ------
    log "$set: phase 7 (restart)"
    pg_restart
    psql_in <<'SQL'
UPDATE t_main SET cnt = cnt + 1 WHERE id % 50 = 1;
CREATE TABLE t_after_restart AS SELECT g AS id FROM generate_series(1, 100) g;
SELECT pg_drop_replication_slot('fixture_slot');
-- freeze every database (template0 included) so that the oldest multixact
-- advances -> MultiXact TRUNCATE_ID
UPDATE pg_database SET datallowconn = true WHERE datname = 'template0';
SQL
    local db
    for db in template0 template1 postgres; do q "VACUUM FREEZE" "$db" >/dev/null; done
    psql_in <<'SQL'
UPDATE pg_database SET datallowconn = false WHERE datname = 'template0';
CHECKPOINT;
SQL
    local workload="pg_resetwal -x 32700 -m 2040,1 -O 1630 after initdb (WAL starts at the reset checkpoint, prev = 0/0)
phase 1: CREATE EXTENSION bloom; table with 3 btree indexes; 2000 INSERTs (btree splits); sequence + nextval x70; bigserial; COPY 1000 rows (MULTI_INSERT); CHECKPOINT
phase 2: HOT + non-HOT updates, deletes, FOR UPDATE, INSERT ON CONFLICT, aborted xacts (one with CREATE TABLE), repeated non-HOT updates (bottom-up deletion), logical messages (transactional, non-transactional, 20 kB, bytea), restore point 'rp1', 2PC (commit/rollback/prepared-with-subxacts committed after a checkpoint), 70 savepoints (ASSIGNMENT), aborted subxacts, TRUNCATE; CHECKPOINT
phase 3: multixacts from two concurrent sessions (FOR SHARE, KEY SHARE + update, LOCK_UPDATED), pgbench -n -c 4 -j 2 -t 75 on own small tables; CHECKPOINT; pg_switch_wal()
phase 4: hash, gin (fastupdate on/off), gist, spgist (text, point), brin (summarize/desummarize), bloom indexes; inserts, deletes, VACUUM x2 (page deletion + reuse), killed hash items + refill (VACUUM_ONE_PAGE), GIN posting tree from a 3000-row pending list (CREATE_PTREE, VACUUM_DATA_LEAF_PAGE), tiny SP-GiST (VACUUM_ROOT), BRIN summary outgrowing its page (UPDATE)
phase 5: btree page deletion + reuse, VACUUM, VACUUM FREEZE, hint-bit FPIs
phase 6: CREATE/DROP TABLESPACE, CREATE DATABASE STRATEGY FILE_COPY (+ writes in it) + DROP DATABASE, logical slot (test_decoding) + VACUUM FULL pg_class (RelMap, Heap2 REWRITE), replication origin session writes + advance + drop, pg_backup_start/stop, full_page_writes off/on
phase 7: restart (max_connections 100 -> 50), a few writes, VACUUM FREEZE of every database (template0 too), CHECKPOINT, clean shutdown
records written in the replication-origin session (origin id 1): between $origin_start and $origin_end;
  5 of them carry the origin block (id 253): Heap INSERT, Heap HOT_UPDATE, Transaction COMMIT, Heap INSERT, Transaction COMMIT
  (Btree records do not: only heap and xact records ask for XLOG_INCLUDE_ORIGIN)"
    collect $set "$firstseg" "$settings" "$workload"
}

# =============================================================================
# Set b: compression-1mb
# =============================================================================
make_compression() {
    local set=compression-1mb
    log "$set: initdb"
    new_cluster $set 1
    set_conf "wal_compression = off" "full_page_writes = on"
    local settings="initdb: --wal-segsize=1 -E UTF8 --locale=C   (no data checksums)
wal_level = replica (default)
full_page_writes = on
wal_compression = pglz, then lz4, then zstd (ALTER SYSTEM + pg_reload_conf())
autovacuum = off, checkpoint_timeout = 1d, wal_recycle = off, wal_keep_size = 512MB, fsync = off"
    pg_start
    psql_in <<'SQL'
CREATE TABLE c (id int PRIMARY KEY, n int, payload text) WITH (fillfactor = 85);
INSERT INTO c
SELECT g, 0, 'row ' || g || ' ' || repeat(chr(65 + g % 26), 40) || ' ' || md5((g % 97)::text) || ' ' || repeat('-', 30)
FROM generate_series(1, 6000) g;
VACUUM c;
CHECKPOINT;
SQL
    local firstseg
    q "SELECT pg_switch_wal()" >/dev/null
    firstseg=$(q "SELECT pg_walfile_name(pg_current_wal_insert_lsn())")
    local m lp=0
    for m in pglz lz4 zstd; do
        lp=$((lp + 1))      # a different, never-updated line pointer per phase
        log "$set: phase $m"
        psql_in <<SQL
ALTER SYSTEM SET wal_compression = '$m';
SELECT pg_reload_conf();
SQL
        psql_in <<SQL
SHOW wal_compression;
CHECKPOINT;
-- one HOT update per heap page: one FPI per page
UPDATE c SET n = n + 1
WHERE ctid = ANY (ARRAY(SELECT ('(' || b || ',$lp)')::tid
                        FROM generate_series(0, pg_relation_size('c') / 8192 - 1) b));
-- and some btree index page images
UPDATE c SET id = id + 100000 WHERE id % 400 = 7;
SQL
    done
    psql_in <<'SQL'
ALTER SYSTEM RESET wal_compression;
SELECT pg_reload_conf();
CHECKPOINT;
SQL
    local workload="table c (6000 rows, ~130 heap pages), VACUUM, CHECKPOINT, pg_switch_wal() (fixture starts in the next segment)
for m in pglz lz4 zstd: ALTER SYSTEM SET wal_compression = m; pg_reload_conf(); CHECKPOINT;
    one HOT update per heap page (-> one compressed FPI per page); 15 non-HOT updates (btree FPIs)
ALTER SYSTEM RESET wal_compression; CHECKPOINT; clean shutdown"
    collect $set "$firstseg" "$settings" "$workload"
}

# =============================================================================
# Set c: switch-16mb
# =============================================================================
make_switch() {
    local set=switch-16mb
    log "$set: initdb"
    new_cluster $set 16
    local settings="initdb: default --wal-segsize (16 MB) -E UTF8 --locale=C
wal_level = replica (default), full_page_writes = on, wal_compression = off
autovacuum = off, checkpoint_timeout = 1d, wal_recycle = off, wal_keep_size = 512MB, fsync = off"
    pg_start
    q "CHECKPOINT" >/dev/null
    local firstseg
    q "SELECT pg_switch_wal()" >/dev/null
    firstseg=$(q "SELECT pg_walfile_name(pg_current_wal_insert_lsn())")
    psql_in <<'SQL'
CREATE TABLE s (id int PRIMARY KEY, v text);
INSERT INTO s SELECT g, 'before switch ' || g FROM generate_series(1, 200) g;
UPDATE s SET v = v || '!' WHERE id % 10 = 0;
SELECT pg_switch_wal();
INSERT INTO s SELECT g, 'after switch ' || g FROM generate_series(201, 300) g;
DELETE FROM s WHERE id % 7 = 0;
CHECKPOINT;
SQL
    local workload="CHECKPOINT; pg_switch_wal() (fixture starts in the next segment)
CREATE TABLE s + 200 inserts + 20 updates; pg_switch_wal();
100 inserts + deletes; CHECKPOINT; clean shutdown"
    collect $set "$firstseg" "$settings" "$workload"
}

# =============================================================================
# Set d: promote-1mb — a promotion to timeline 2 and a torn tail
# =============================================================================
# Timeline 1: a few writes and a clean shutdown; then standby.signal, start, pg_ctl promote:
# timeline 2 begins in the same segment (00000002.history, END_OF_RECOVERY). Writes on 2, a
# CHECKPOINT, a 20 kB logical message in a committed transaction, immediate stop. The tail is then
# torn as a crash would: from the first page boundary inside the message on, the segment is zeroes
# and later segments are gone. Both timelines' segments are kept, and every output is read to the
# end of WAL (no -e), so the outputs end in the version's own error message:
#   waldump-tl1*: -t 1 -s FIRST   -> "invalid record length at ...: wanted 24 / expected at least 24, got 0"
#   waldump*:     -t 2 -s FIRST   -> "invalid magic number 0000 in (log|WAL) segment ..."
make_promote() {
    local set=promote-1mb
    log "$set: initdb"
    new_cluster $set 1 --data-checksums
    set_conf "hot_standby = on"
    local settings="initdb: --wal-segsize=1 -E UTF8 --locale=C --data-checksums
wal_level = replica (default), full_page_writes = on, hot_standby = on
autovacuum = off, checkpoint_timeout = 1d, wal_recycle = off, wal_keep_size = 512MB, fsync = off"
    pg_start
    psql_in <<'SQL'
CREATE TABLE p (id int PRIMARY KEY, v text);
CHECKPOINT;
SQL
    q "SELECT pg_switch_wal()" >/dev/null
    local firstseg
    firstseg=$(q "SELECT pg_walfile_name(pg_current_wal_insert_lsn())")
    psql_in <<'SQL'
INSERT INTO p SELECT g, 'timeline 1 row ' || g FROM generate_series(1, 100) g;
UPDATE p SET v = v || ' updated' WHERE id % 10 = 0;
SQL
    log "$set: clean shutdown, standby.signal, promote"
    pg_stop
    as_pg touch "$PGDATA/standby.signal"
    pg_start
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -w -t 120 promote >/dev/null || die "$set: promote failed"
    [[ $(q "SELECT pg_is_in_recovery()") == f ]] || die "$set: still in recovery after promote"
    psql_in <<'SQL'
INSERT INTO p SELECT g, 'timeline 2 row ' || g FROM generate_series(101, 200) g;
DELETE FROM p WHERE id % 7 = 0;
CHECKPOINT;
BEGIN;
SELECT pg_logical_emit_message(true, 'torn', repeat('torn tail ', 2000));
COMMIT;
SQL
    local msg
    msg=$(q "SELECT pg_current_wal_insert_lsn()")
    log "$set: immediate stop at $msg"
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate -w -t 120 stop >/dev/null
    collect_promote "$firstseg" "$settings"
}

# collect_promote FIRST_SEGMENT "settings": tear the tail, keep both timelines and every output
collect_promote() {
    local set=promote-1mb firstseg=$1 settings=$2
    local out=$OUTDIR/$set W="$PGBIN/pg_waldump" wal=$PGDATA/pg_wal
    local segsize sysid first msglsn msgint tear tearseg f
    segsize=$(controldata 'Bytes per WAL segment')
    sysid=$(controldata 'Database system identifier')
    [[ $(controldata "Latest checkpoint's TimeLineID") == 2 ]] || die "$set: not on timeline 2"
    [[ -f $wal/00000002.history ]] || die "$set: no 00000002.history"
    local tl2first=00000002${firstseg:8}
    [[ -f $wal/$tl2first ]] || die "$set: timeline 2 did not begin in $firstseg ($(ls "$wal"))"
    first=$(first_record_lsn "$firstseg")
    # the message record on timeline 2, and the first page boundary inside it
    msglsn=$(as_pg "$W" -p "$wal" -t 2 -s "$first" -r LogicalMessage 2>/dev/null |
        grep 'prefix "torn"' | sed -n 's/.*lsn: \([0-9A-F]*\/[0-9A-F]*\),.*/\1/p' | tail -n 1 || true)   # exits 1 at the end of WAL
    [[ -n $msglsn ]] || die "$set: the torn message record is not in the WAL"
    msglsn=$(int2lsn "$(lsn2int "$msglsn")")
    msgint=$(lsn2int "$msglsn")
    tear=$(((msgint / 8192 + 1) * 8192))
    tearseg=$(segname 2 "$tear" "$segsize")
    log "$set: message at $msglsn; zeroing $tearseg from $(int2lsn $tear) on, later segments dropped"

    rm -rf "$out"
    mkdir -p "$out/pg_wal"
    local verify=$SETDIR/verify s segs=()
    mkdir -p "$verify"
    for f in $(cd "$wal" && ls | grep -E '^0000000[12][0-9A-F]{16}$' | sort); do
        s=$(seg_of "$f" "$segsize")
        ((s >= $(seg_of "$firstseg" "$segsize") && s <= $(seg_of "$tearseg" "$segsize"))) || continue
        [[ ${f:0:8} == 00000001 && $s -gt $(seg_of "$firstseg" "$segsize") ]] && continue
        cp "$wal/$f" "$verify/$f"
        segs+=("$f")
    done
    cp "$wal/00000002.history" "$verify/" && cp "$wal/00000002.history" "$out/pg_wal/"
    local off=$((tear % segsize))
    dd if=/dev/zero of="$verify/$tearseg" bs=1 seek="$off" count=$((segsize - off)) conv=notrunc status=none
    for f in "${segs[@]}"; do gzip -9 -n -c "$verify/$f" >"$out/pg_wal/$f.gz"; done
    chmod -R a+rX "$verify"

    # the outputs, to the end of WAL on each timeline (pg_waldump exits 1 there)
    local name tli args
    for name in tl1 tl2; do
        tli=${name#tl}
        for args in "" "-b" "--stats=record"; do
            local base=waldump; [[ $name == tl1 ]] && base=waldump-tl1
            local file=$base$([[ $args == -b ]] && echo -b)$([[ $args == --stats=record ]] && echo -stats)
            set +e
            # shellcheck disable=SC2086
            "$W" -p "$verify" -t "$tli" -s "$first" $args >"$SETDIR/$file.txt" 2>"$SETDIR/$file.err"
            local rc=$?
            set -e
            ((rc == 1)) || die "$set: pg_waldump -t $tli $args exited $rc"
            gzip -9 -n -c "$SETDIR/$file.txt" >"$out/$file.txt.gz"
            cp "$SETDIR/$file.err" "$out/$file.stderr.txt"
        done
    done
    keep_control "$out"
    grep -q 'END_OF_RECOVERY' "$SETDIR/waldump.txt" || die "$set: no END_OF_RECOVERY on timeline 2"
    log "$set: timeline 1 ends: $(cat "$out/waldump-tl1.stderr.txt")"
    log "$set: timeline 2 ends: $(cat "$out/waldump.stderr.txt")"
    {
        manifest_header "$set" "$sysid" "$segsize"
        echo "timeline: 2"
        echo "first_record_lsn: $first"
        echo "end_lsn: none    # read to the end of WAL: the torn tail"
        echo "torn_message_lsn: $msglsn"
        echo "torn_from: $(int2lsn $tear)    # zeroes from here to the end of $tearseg"
        echo "segments:"
        for f in "${segs[@]}"; do
            printf '  - %s  sha256=%s\n' "$f" "$(sha256sum "$verify/$f" | cut -d' ' -f1)"
        done
        echo "pg_waldump_commands:    # exit status 1; stdout in *.txt.gz, stderr in *.stderr.txt"
        echo "  - pg_waldump -p /tmp/x -t 1 -s $first [-b | --stats=record]    # waldump-tl1*"
        echo "  - pg_waldump -p /tmp/x -t 2 -s $first [-b | --stats=record]    # waldump*"
        echo "settings:"
        printf '%s\n' "$settings" | sed 's/^/  /'
        echo "workload:"
        echo "  CREATE TABLE p; CHECKPOINT; pg_switch_wal() (fixture starts in the next segment)"
        echo "  timeline 1: 100 inserts, 10 updates; clean shutdown"
        echo "  standby.signal; start; pg_ctl promote (timeline 2 in the same segment)"
        echo "  timeline 2: 100 inserts, deletes, CHECKPOINT, a 20 kB logical message + COMMIT; pg_ctl stop -m immediate"
        echo "  torn: the message's second page and everything after it zeroed"
    } >"$out/manifest.txt"
}

# =============================================================================
[[ -x $PGBIN/postgres ]] || die "no PostgreSQL binaries in $PGBIN"
"$PGBIN/postgres" --version | grep -Eq " $PG_MAJOR(\.|beta|rc)" || die "PGBIN is not PostgreSQL $PG_MAJOR"
for s in "${SETS[@]}"; do
    case $s in
        mixed-1mb) make_mixed ;;
        compression-1mb) make_compression ;;
        switch-16mb) make_switch ;;
        promote-1mb) make_promote ;;
        *) die "unknown set $s (known: ${ALL_SETS[*]})" ;;
    esac
    PGDATA=""     # stopped by collect()
done
# size budget: all .gz fixtures of this version together must stay <= 4.5 MB (WAL) and 4 MB (outputs)
total=$(cat "$OUTDIR"/*/pg_wal/*.gz 2>/dev/null | wc -c)
outputs=$(cat "$OUTDIR"/*/*.gz 2>/dev/null | wc -c)
log "done; WAL .gz files together: $total bytes; kept outputs: $outputs bytes"
((total <= 4718592)) || die "fixtures exceed the 4.5 MB budget ($total bytes)"
((outputs <= 4194304)) || die "kept pg_waldump outputs exceed 4 MB ($outputs bytes)"
