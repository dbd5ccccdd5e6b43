// pgwal: the PgWal command-line tool. `waldump` follows pg_waldump's own argument syntax (getopt);
// the other commands use System.CommandLine.
using PgWal.Cli;

return await PgWalProgram.RunAsync(args);
