#!/usr/bin/env bash
# compare-pitr.sh -- archive recovery against crash (backup) recovery of the same WAL, and a base
# backup against `cp -a` of the same directory. Same machine, same run, medians.
#
# Usage: [WAL_MB=256] [RUNS=3] [BENCH_DIR=/tmp/pgwal-bench] [PGWAL=native|jit|cmd] bench/compare-pitr.sh
#
# 1. A PgWal.Kv store archives through archive_command = 'pgwal archive push --repo R %p' (zstd),
#    set in its postgresql.conf. `pgwal kv backup --no-wal` takes a base backup; then `kv bench -w A`
#    (16 clients, 1 kB values) writes until WAL_MB of WAL lies after it; the store is shut down (its
#    last segment archived).
# 2. Recovery of the same backup and the same WAL, each from a fresh copy, RUNS times, alternating:
#    - from pg_wal: every archived segment restored into the copy's pg_wal first (not timed), then
#      `pgwal recover` (backup recovery, the crash-recovery code path);
#    - archive recovery, in-process: recovery.signal, `pgwal recover --repo R` (RepositoryRestorer);
#    - archive recovery, restore_command = 'pgwal archive get --repo R %f %p' (a process per file);
#    - the same with `--prefetch 8 --spool DIR`.
#    Timed: the whole `pgwal recover` (start, restore, replay, end-of-recovery checkpoint). MB/s is
#    the WAL replayed (from the JSON) over that time.
# 3. The primary's data directory (about the size of the store) is copied RUNS times each by
#    `pgwal kv backup` (WAL included, fsynced) and by `cp -a` + `sync -f` (the limit).
set -euo pipefail
WAL_MB=${WAL_MB:-256}
RUNS=${RUNS:-3}
BENCH_DIR=${BENCH_DIR:-/tmp/pgwal-bench}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=pgwal-cli.sh
source "$ROOT/bench/pgwal-cli.sh"
log() { printf '[compare-pitr] %s\n' "$*" >&2; }

mkdir -p "$BENCH_DIR"
S=$(mktemp -d "$BENCH_DIR/pitr-XXXXXX")
trap 'rm -rf "$S"' EXIT
trap 'exit 130' INT TERM
PGWAL_CMD="${PG[*]}"
log "pgwal: $PG_DESC; scratch $S"

"${PG[@]}" archive init --repo "$S/repo" --compress zstd >/dev/null
"${PG[@]}" kv -D "$S/primary" put seed 1 >/dev/null
cat > "$S/primary/postgresql.conf" <<CONF
archive_mode = on
archive_command = '$PGWAL_CMD archive push --repo $S/repo %p'
CONF
"${PG[@]}" kv -D "$S/primary" backup "$S/base" --no-wal >/dev/null 2>&1
# Write until WAL_MB of WAL lies after the backup (kv bench runs for a time, so loop).
start_lsn=$(sed -n 's/^START WAL LOCATION: \([^ ]*\).*/\1/p' "$S/base/backup_label")
to_bytes() { local hi=${1%/*} lo=${1#*/}; echo $(( (16#$hi << 32) + 16#$lo )); }
while :; do
    "${PG[@]}" kv -D "$S/primary" bench -w A -k 200000 --value-size 1000 -c 16 -T 5 --json > /dev/null 2>&1
    end_lsn=$("${PG[@]}" controldata "$S/primary" | sed -n 's/^Latest checkpoint location: *//p')
    (( ( $(to_bytes "$end_lsn") - $(to_bytes "$start_lsn") ) >= WAL_MB * 1048576 )) && break
done
# The archived segment names, from `archive list --json`'s ranges.
archived_segments() {
    "${PG[@]}" archive list --repo "$S/repo" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
per = 0x100000000 // d["segment_size"]
for t in d["timelines"]:
    for first, last in t["ranges"]:
        a = int(first[8:16], 16) * per + int(first[16:], 16)
        b = int(last[8:16], 16) * per + int(last[16:], 16)
        for n in range(a, b + 1):
            print(f"{first[:8]}{n // per:08X}{n % per:08X}")'
}
segments=$(archived_segments | wc -l)
log "WAL after the backup: $start_lsn .. $end_lsn; $segments segments archived"

# A fresh copy of the backup; it does not archive (the copy of the primary's postgresql.conf would).
copy_base() { rm -rf "$1"; cp -a "$S/base" "$1"; echo "archive_mode = off" > "$1/postgresql.auto.conf"; }
run_recover() {   # name dir [extra args] -> prints "seconds mb"
    local t0 t1 json
    t0=$(date +%s.%N)
    json=$("${PG[@]}" recover -D "$2" --json -q "${@:3}" | tail -n 1)
    t1=$(date +%s.%N)
    python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print("%.3f %.1f" % (float(sys.argv[3]) - float(sys.argv[2]), d["replayed_mb"]))' "$json" "$t0" "$t1"
}
declare -A times mbs
for r in $(seq "$RUNS"); do
    d="$S/r"
    copy_base "$d"   # 1: WAL in pg_wal
    archived_segments | while read -r f; do "${PG[@]}" archive get --repo "$S/repo" "$f" "$d/pg_wal/$f"; done
    read -r t m < <(run_recover pgwal "$d"); times[pgwal]+="$t "; mbs[pgwal]=$m
    copy_base "$d"   # 2: in-process
    touch "$d/recovery.signal"
    read -r t m < <(run_recover repo "$d" --repo "$S/repo"); times[repo]+="$t "; mbs[repo]=$m
    copy_base "$d"   # 3: restore_command
    touch "$d/recovery.signal"; echo "restore_command = '$PGWAL_CMD archive get --repo $S/repo %f %p'" >> "$d/postgresql.auto.conf"
    read -r t m < <(run_recover cmd "$d"); times[cmd]+="$t "; mbs[cmd]=$m
    copy_base "$d"   # 4: restore_command with prefetch
    mkdir -p "$S/spool"; rm -rf "$S/spool"/*
    touch "$d/recovery.signal"; echo "restore_command = '$PGWAL_CMD archive get --repo $S/repo --prefetch 8 --spool $S/spool %f %p'" >> "$d/postgresql.auto.conf"
    read -r t m < <(run_recover prefetch "$d"); times[prefetch]+="$t "; mbs[prefetch]=$m
    log "run $r: pg_wal ${times[pgwal]##* }... done"
done
median() { python3 -c 'import statistics,sys; print(f"{statistics.median(float(x) for x in sys.argv[1:]):.2f}")' "$@"; }
base=$(median ${times[pgwal]})
printf '\n%-58s %10s %8s %8s\n' "recovery of the same backup and WAL" "median s" "MB/s" "vs pg_wal"
for k in pgwal repo cmd prefetch; do
    case $k in
        pgwal) label="WAL in pg_wal (backup recovery = crash-recovery path)" ;;
        repo) label="archive recovery, in-process repository (--repo)" ;;
        cmd) label="archive recovery, restore_command = pgwal archive get" ;;
        prefetch) label="archive recovery, restore_command with --prefetch 8" ;;
    esac
    m=$(median ${times[$k]})
    printf '%-58s %10s %8.0f %8.2f\n' "$label" "$m" "$(python3 -c "print(${mbs[$k]}/$m)")" "$(python3 -c "print($m/$base)")"
done

size_mb=$(du -sm "$S/primary" | cut -f1)
declare -a tb tc
for r in $(seq "$RUNS"); do
    rm -rf "$S/b1" "$S/b2"
    # The backup's own time (BaseBackup: start checkpoint, copy, stop, WAL, manifest), as the
    # command prints it; the command's start-up and the store's open and close are not in it.
    out=$("${PG[@]}" kv -D "$S/primary" backup "$S/b1" 2>/dev/null)
    tb+=("$(sed -n 's/.* in \([0-9.]*\) s: .*/\1/p' <<< "$out" | head -n 1)")
    t0=$(date +%s.%N); cp -a "$S/primary" "$S/b2"; sync -f "$S/b2"; t1=$(date +%s.%N)
    tc+=("$(python3 -c "print($t1-$t0)")")
done
mb=$(du -sm "$S/b1" | cut -f1)
mb_b=$(median "${tb[@]}"); mb_c=$(median "${tc[@]}")
printf '\n%-58s %10s %8s\n' "copy of the primary ($size_mb MB; backup $mb MB)" "median s" "MB/s"
printf '%-58s %10s %8.0f\n' "pgwal kv backup (fsynced, manifest, WAL)" "$mb_b" "$(python3 -c "print($mb/$mb_b)")"
printf '%-58s %10s %8.0f\n' "cp -a + sync -f" "$mb_c" "$(python3 -c "print($size_mb/$mb_c)")"
