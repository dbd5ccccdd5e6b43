#!/usr/bin/env bash
# compare-archive.sh -- archive_command / restore_command speed on real 16 MB segments:
# `pgwal archive push|get` against pgBackRest's `archive-push|archive-get` (same compression type
# and level; synchronous, and asynchronous push — pgBackRest's archive-async against pgwal's push
# --async) and against `cp` + fsync (the limit). Same machine,
# same run, tools alternating per segment.
#
# Usage: [SEGMENTS=16] [SCALE=12] [GET_GAP_MS=0] [BENCH_DIR=/tmp/pgwal-bench] [BENCH_PORT=54396] [PGWAL=native|jit|cmd] \
#        bench/compare-archive.sh
#
# 1. A scratch PostgreSQL 15 cluster (as the `postgres` user, 127.0.0.1 only) runs `pgbench -i -s SCALE`
#    and switches WAL; the first SEGMENTS complete segments are the input. The cluster is then stopped
#    (pgBackRest reads its pg_control: `stanza-create --no-online`).
# 2. For each codec (zstd level 3 — pgwal's zstd level —, lz4) and for none/cp, every segment is pushed
#    once per tool, each tool in a fresh repository, one process per segment as PostgreSQL's archiver
#    runs it; then every segment is restored once per tool into a scratch file. Everything runs as the
#    postgres user (pgBackRest refuses root), timed by one Python process (fork + exec + the tool).
#    The prefetch row restores the next 4 segments in the background after each get; the gets here
#    follow each other with no replay in between, so it shows the floor of a get served from the spool
#    only when the background work kept up. GET_GAP_MS pauses between segments of the get pass, as
#    replaying a segment would (the prefetch then has time to work ahead).
# 3. Prints per row: median ms per segment, MB/s (16 MB / median), and the compression ratio
#    (original bytes / repository bytes).
set -euo pipefail
SEGMENTS=${SEGMENTS:-16}
SCALE=${SCALE:-12}
BENCH_DIR=${BENCH_DIR:-/tmp/pgwal-bench}
PORT=${BENCH_PORT:-54396}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=pg-scratch.sh
source "$ROOT/bench/pg-scratch.sh"
# shellcheck source-path=SCRIPTDIR source=pgwal-cli.sh
source "$ROOT/bench/pgwal-cli.sh"
log() { printf '[compare-archive] %s\n' "$*" >&2; }
command -v pgbackrest >/dev/null || { log "pgbackrest is not installed (Debian: apt-get install pgbackrest)"; exit 1; }
as_pg=(runuser -u postgres --)

mkdir -p "$BENCH_DIR"
S=$(mktemp -d "$BENCH_DIR/archive-XXXXXX")
chmod 755 "$S"; chown postgres: "$S"
PGDATA="$S/pg"
trap 'pg_scratch_stop "$PGDATA"; rm -rf "$S"' EXIT
trap 'exit 130' INT TERM

log "making WAL: pgbench -i -s $SCALE on a scratch cluster (127.0.0.1:$PORT)"
pg_scratch_start "$PGDATA" "$S" "$PORT" <<CONF
wal_level = replica
max_wal_size = 8GB
wal_keep_size = 8GB
checkpoint_timeout = 1h
CONF
"${as_pg[@]}" "$PGBIN/pgbench" -h 127.0.0.1 -p "$PORT" -U postgres -i -s "$SCALE" -q postgres >/dev/null 2>&1
current=$("${as_pg[@]}" "$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -XAtq -c "SELECT pg_walfile_name(pg_switch_wal())" postgres)
"${as_pg[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
mapfile -t segs < <(find "$PGDATA/pg_wal" -maxdepth 1 -name '????????????????????????' -printf '%f\n' | sort | awk -v c="$current" '$0 < c' | head -n "$SEGMENTS")
[[ ${#segs[@]} -ge 2 ]] || { log "only ${#segs[@]} segments; raise SCALE"; exit 1; }
# As the archiver would see them: pgBackRest's asynchronous push works ahead through these.
for f in "${segs[@]}"; do "${as_pg[@]}" touch "$PGDATA/pg_wal/archive_status/$f.ready"; done
log "${#segs[@]} segments ${segs[0]} .. ${segs[-1]}; pgwal: $PG_DESC"

# pgBackRest: one stanza per mode, all reading the stopped cluster's pg_control.
pgbr_conf() {   # pgbr_conf NAME TYPE LEVEL ASYNC
    mkdir -p "$S/$1"
    cat > "$S/$1/pgbackrest.conf" <<EOC
[global]
repo1-path=$S/$1/repo
log-path=$S/$1/log
lock-path=$S/$1/lock
spool-path=$S/$1/spool
log-level-console=warn
log-level-file=off
compress-type=$2
compress-level=$3
archive-async=$4
process-max=2
[bench]
pg1-path=$PGDATA
EOC
    chown -R postgres: "$S/$1"
    "${as_pg[@]}" pgbackrest --config="$S/$1/pgbackrest.conf" --stanza=bench stanza-create --no-online >/dev/null
}
pgbr_conf pgbr-zst zst 3 n
pgbr_conf pgbr-zst-async zst 3 y
pgbr_conf pgbr-lz4 lz4 1 n
for codec in zstd lz4 none; do
    "${as_pg[@]}" "${PG[@]}" archive init --repo "$S/pgwal-$codec" --compress "$codec" >/dev/null
done
"${as_pg[@]}" "${PG[@]}" archive init --repo "$S/pgwal-zstd-async" --compress zstd >/dev/null
mkdir -p "$S/cp"; chown postgres: "$S/cp"

cat > "$S/time.py" <<'PY'
import os, statistics, subprocess, sys, time
S, pgwal, segs = sys.argv[1], sys.argv[2].split("\x1f"), sys.argv[3:]
wal = os.path.join(S, "pg", "pg_wal")
def pgbr(name, *args): return ["pgbackrest", f"--config={S}/{name}/pgbackrest.conf", "--stanza=bench", *args]
push = {
    "pgwal zstd": lambda f: pgwal + ["archive", "push", "--repo", f"{S}/pgwal-zstd", f"{wal}/{f}"],
    "pgBackRest zst 3": lambda f: pgbr("pgbr-zst", "archive-push", f"{wal}/{f}"),
    "pgBackRest zst 3 async": lambda f: pgbr("pgbr-zst-async", "archive-push", f"{wal}/{f}"),
    "pgwal zstd async": lambda f: pgwal + ["archive", "push", "--repo", f"{S}/pgwal-zstd-async", "--async", "--spool", f"{S}/pgwal-spool", "--process-max", "2", f"{wal}/{f}"],
    "pgwal lz4": lambda f: pgwal + ["archive", "push", "--repo", f"{S}/pgwal-lz4", f"{wal}/{f}"],
    "pgBackRest lz4 1": lambda f: pgbr("pgbr-lz4", "archive-push", f"{wal}/{f}"),
    "pgwal none": lambda f: pgwal + ["archive", "push", "--repo", f"{S}/pgwal-none", f"{wal}/{f}"],
    "cp + fsync": lambda f: ["sh", "-c", f'cp "{wal}/{f}" "{S}/cp/{f}.tmp" && sync "{S}/cp/{f}.tmp" && mv "{S}/cp/{f}.tmp" "{S}/cp/{f}" && sync "{S}/cp"'],
}
get = {
    "pgwal zstd": lambda f: pgwal + ["archive", "get", "--repo", f"{S}/pgwal-zstd", f, f"{S}/restored"],
    "pgBackRest zst 3": lambda f: pgbr("pgbr-zst", "archive-get", f, f"{S}/restored"),
    "pgwal lz4": lambda f: pgwal + ["archive", "get", "--repo", f"{S}/pgwal-lz4", f, f"{S}/restored"],
    "pgBackRest lz4 1": lambda f: pgbr("pgbr-lz4", "archive-get", f, f"{S}/restored"),
    "pgwal none": lambda f: pgwal + ["archive", "get", "--repo", f"{S}/pgwal-none", f, f"{S}/restored"],
    "pgwal zstd, --prefetch 4": lambda f: pgwal + ["archive", "get", "--repo", f"{S}/pgwal-zstd", "--prefetch", "4", "--spool", f"{S}/spool", f, f"{S}/restored"],
    "cp": lambda f: ["cp", f"{S}/cp/{f}", f"{S}/restored"],
}
gap = int(os.environ.get("GET_GAP_MS", "0")) / 1000
def run(table):
    times = {k: [] for k in table}
    for f in segs:
        if table is get and gap > 0: time.sleep(gap)
        for name, cmd in table.items():
            if os.path.exists(f"{S}/restored"): os.remove(f"{S}/restored")
            t = time.perf_counter()
            r = subprocess.run(cmd(f), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            times[name].append(time.perf_counter() - t)
            if r.returncode != 0: sys.exit(f"{name} {f}: exit {r.returncode}: {r.stderr.decode()}")
            if table is get and open(f"{S}/restored", "rb").read() != open(f"{wal}/{f}", "rb").read():
                sys.exit(f"{name} {f}: restored bytes differ")
    return times
def size(path): return sum(os.path.getsize(os.path.join(d, x)) for d, _, fs in os.walk(path) for x in fs)
original = 16 * 1024 * 1024 * len(segs)
stores = {"pgwal zstd": "pgwal-zstd/wal", "pgBackRest zst 3": "pgbr-zst/repo/archive", "pgBackRest zst 3 async": "pgbr-zst-async/repo/archive",
          "pgwal zstd async": "pgwal-zstd-async/wal",
          "pgwal lz4": "pgwal-lz4/wal", "pgBackRest lz4 1": "pgbr-lz4/repo/archive", "pgwal none": "pgwal-none/wal", "cp + fsync": "cp"}
pt, gt = run(push), run(get)
print(f"\n{len(segs)} real 16 MB segments (pgbench -i), one process per segment; medians\n")
print("| push (archive_command) | ms per segment | MB/s | compression ratio |\n|---|---|---|---|")
for k, v in pt.items():
    m = statistics.median(v)
    print(f"| {k} | {m*1000:.1f} | {16/m:.0f} | {original/max(1,size(os.path.join(S, stores[k]))):.2f} |")
print("\n| get (restore_command) | ms per segment | MB/s |\n|---|---|---|")
for k, v in gt.items():
    m = statistics.median(v)
    print(f"| {k} | {m*1000:.1f} | {16/m:.0f} |")
PY
chown postgres: "$S/time.py"
log "timing push and get (${#segs[@]} segments per tool)"
"${as_pg[@]}" env GET_GAP_MS="${GET_GAP_MS:-0}" python3 "$S/time.py" "$S" "$(IFS=$'\x1f'; echo "${PG[*]}")" "${segs[@]}"
