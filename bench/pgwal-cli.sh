# shellcheck shell=bash
# pgwal-cli.sh -- which pgwal the kill loops run (sourced by crash-loop.sh and torture.sh): sets the
# array PG to $PGWAL when set (e.g. "dotnet path/to/pgwal.dll"), else to the Release build's
# pgwal.dll, building it first when it is missing.
if [[ -z ${PGWAL:-} ]]; then
    pgwal_cli_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    pgwal_cli_dll="$pgwal_cli_root/src/PgWal.Cli/bin/Release/net10.0/pgwal.dll"
    [[ -f $pgwal_cli_dll ]] || dotnet build "$pgwal_cli_root/src/PgWal.Cli" -c Release >/dev/null
    PGWAL="dotnet $pgwal_cli_dll"
fi
read -ra PG <<< "$PGWAL"
