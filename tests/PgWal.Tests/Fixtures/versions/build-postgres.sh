#!/usr/bin/env bash
# build-postgres.sh -- builds PostgreSQL 16, 17 or 18 from source, to make that version's WAL
# fixtures and record its own tools' output (pg_waldump, pg_controldata) as the oracle. CI never
# runs this: the tests compare against the committed outputs.
#
# Usage: build-postgres.sh MAJOR PREFIX        e.g. build-postgres.sh 17 /opt/pg17
#   17, 18  the upstream tarballs of Debian's source packages (postgresql-17 in trixie,
#           postgresql-18 in sid), from the mirror this machine's apt already uses: the newest
#           minor release the suite's index names that the mirror has (sha256 recorded).
#   16      Debian ships it no more. Set PG16_SRC to a PostgreSQL git repository; the script builds
#           PG16_REF, by default the REL_16 branch point (the parent of master's "Stamp HEAD as
#           17devel"), from a `git archive` of it. Its describers are those of 16's beta; where a
#           minor release changed one, the fixture README says so.
# Configure: --without-icu --without-readline --with-lz4 --with-zstd (bison, flex, liblz4-dev and
# libzstd-dev are installed when missing). The build directory is PREFIX.build; PREFIX/bin gets
# postgres, initdb, pg_ctl, pg_waldump, pg_controldata, pg_resetwal, pg_basebackup, psql, pgbench,
# and contrib's extensions are installed too (the workload uses bloom and test_decoding).
set -euo pipefail
MAJOR=${1:?usage: build-postgres.sh MAJOR PREFIX}
PREFIX=${2:?usage: build-postgres.sh MAJOR PREFIX}
log() { printf '[build-postgres %s] %s\n' "$MAJOR" "$*" >&2; }
trap 'log "failed (line $LINENO)"' ERR
case $MAJOR in 16|17|18) ;; *) log "MAJOR must be 16, 17 or 18"; exit 2 ;; esac
if [[ -x $PREFIX/bin/pg_waldump && -x $PREFIX/bin/postgres && -f $PREFIX/lib/postgresql/bloom.so ]]; then
    log "already built: $("$PREFIX/bin/postgres" --version)"; exit 0
fi
missing=()
for p in bison flex liblz4-dev libzstd-dev zlib1g-dev pkg-config gcc make; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if (( ${#missing[@]} )); then
    log "installing ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
BUILD=$PREFIX.build
rm -rf "$BUILD"; mkdir -p "$BUILD"

source_from_debian() {   # $1 package, $2 suite: the newest upstream tarball of it the mirror has
    local uri index version orig dir
    uri=$(awk '/^URIs:/ { print $2; exit } /^deb / { print $2; exit }' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -1)
    [[ -n $uri ]] || { log "no Debian mirror found in this machine's apt configuration"; exit 1; }
    command -v curl >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null; }
    index="$BUILD/Sources-$2"
    curl -fsS --max-time 300 -o "$index.xz" "$uri/dists/$2/main/source/Sources.xz"
    version=$(xz -dc "$index.xz" | awk -v p="$1" '$1 == "Package:" { found = ($2 == p) } found && $1 == "Version:" && !done { print $2; done = 1 }')
    [[ -n $version ]] || { log "$1 is not in $2's source index"; exit 1; }
    version=${version%%-*}   # upstream part, e.g. 17.12
    dir="$uri/pool/main/p/$1"
    # A partial mirror can list a version whose files it lacks: step down the minor releases.
    local major=${version%%.*} minor=${version#*.}
    while (( minor >= 0 )); do
        orig="$BUILD/${1}_${major}.${minor}.orig.tar.bz2"
        if curl -fsS --max-time 600 -o "$orig" "$dir/${1}_${major}.${minor}.orig.tar.bz2" 2>/dev/null; then
            log "source: $(basename "$orig") (sha256 $(sha256sum "$orig" | cut -c1-16)...; $2 lists $version)"
            mkdir -p "$BUILD/src"
            tar -xf "$orig" -C "$BUILD/src" --strip-components=1
            printf '%s %s (%s)\n' "$(basename "$orig")" "$(sha256sum "$orig" | cut -d' ' -f1)" "$2" > "$BUILD/src/SOURCE_COMMIT"
            return
        fi
        rm -f "$orig"
        minor=$((minor - 1))
    done
    log "no $1 source tarball on the mirror"; exit 1
}

case $MAJOR in
    17) source_from_debian postgresql-17 trixie ;;
    18) source_from_debian postgresql-18 sid ;;
    16)
        [[ -n ${PG16_SRC:-} ]] || { log "set PG16_SRC to a PostgreSQL git repository (Debian has no 16 source any more)"; exit 2; }
        ref=${PG16_REF:-}
        if [[ -z $ref ]]; then
            stamp=$(git -C "$PG16_SRC" log --format=%H -1 --grep '^Stamp HEAD as 17devel' --all)
            [[ -n $stamp ]] || { log "no 'Stamp HEAD as 17devel' commit in $PG16_SRC"; exit 1; }
            ref=$stamp^
        fi
        log "git archive $ref of $PG16_SRC"
        mkdir -p "$BUILD/src"
        git -C "$PG16_SRC" archive --format=tar "$ref" | tar -x -C "$BUILD/src"
        git -C "$PG16_SRC" log -1 --format='%H %cd %s' "$ref" > "$BUILD/src/SOURCE_COMMIT" ;;
esac

cd "$BUILD/src"
log "configure"
./configure --prefix="$PREFIX" --without-icu --without-readline --with-lz4 --with-zstd >"$BUILD/configure.log" 2>&1 \
    || { log "configure failed: see $BUILD/configure.log"; exit 1; }
log "make (this takes a while)"
make -j"$(nproc)" -s >"$BUILD/make.log" 2>&1 || { log "make failed: see $BUILD/make.log"; exit 1; }
make -s install >"$BUILD/install.log" 2>&1 || { log "make install failed: see $BUILD/install.log"; exit 1; }
log "contrib (bloom, test_decoding for the workload)"
make -C contrib -j"$(nproc)" -s >>"$BUILD/make.log" 2>&1 && make -C contrib -s install >>"$BUILD/install.log" 2>&1 \
    || { log "contrib failed: see $BUILD/make.log"; exit 1; }
[[ -f SOURCE_COMMIT ]] && cp SOURCE_COMMIT "$PREFIX/SOURCE_COMMIT"
log "done: $("$PREFIX/bin/postgres" --version); $("$PREFIX/bin/pg_waldump" --version)"
