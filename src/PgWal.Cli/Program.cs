// pgwal: the PgWal command-line tool. `waldump`, `controldata` and `resetwal` follow their
// PostgreSQL counterparts' argument syntax (getopt); the other commands use System.CommandLine.
using PgWal.Cli;

return PgWalProgram.Run(args);
