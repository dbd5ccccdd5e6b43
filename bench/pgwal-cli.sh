# shellcheck shell=bash
# pgwal-cli.sh -- which pgwal a bench script runs (sourced by every script here). Sets the array PG:
#   PGWAL unset or "native"  the native (AOT) build, published first (incremental) with the README's command
#                            `dotnet publish src/PgWal.Cli -c Release -o out` -> out/pgwal
#   PGWAL=jit                the JIT build: dotnet src/PgWal.Cli/bin/Release/net10.0/pgwal.dll (built first)
#   PGWAL="cmd ..."          anything else, e.g. PGWAL=/path/to/pgwal or PGWAL="dotnet /path/pgwal.dll"
# PG_DESC names the choice for reports. Exits with a message when the build fails.
pgwal_cli_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
case ${PGWAL:-native} in
    native)
        printf '[pgwal-cli] dotnet publish src/PgWal.Cli -c Release -o out (native)\n' >&2
        dotnet publish "$pgwal_cli_root/src/PgWal.Cli" -c Release -o "$pgwal_cli_root/out" >/dev/null \
            || { printf '[pgwal-cli] publishing the native pgwal failed\n' >&2; exit 1; }
        PG=("$pgwal_cli_root/out/pgwal")
        PG_DESC="native (AOT) $pgwal_cli_root/out/pgwal" ;;
    jit)
        dotnet build "$pgwal_cli_root/src/PgWal.Cli" -c Release >/dev/null \
            || { printf '[pgwal-cli] building pgwal failed\n' >&2; exit 1; }
        PG=(dotnet "$pgwal_cli_root/src/PgWal.Cli/bin/Release/net10.0/pgwal.dll")
        PG_DESC="JIT ${PG[*]}" ;;
    *)
        read -ra PG <<< "$PGWAL"
        PG_DESC="$PGWAL" ;;
esac
