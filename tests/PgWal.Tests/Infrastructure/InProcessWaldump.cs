// InProcessWaldump: runs `pgwal waldump` in this process (fast; no JIT start-up per call).
using PgWal.Cli.WalDump;

namespace PgWal.Tests.Infrastructure;

internal static class InProcessWaldump
{
    public static ToolResult Run(params string[] args)
    {
        var stdout = new MemoryStream();
        var stderr = new StringWriter();
        int code = WalDumpCommand.Run(args, stdout, stderr);
        return new ToolResult(code, stdout.ToArray(), stderr.ToString());
    }
}
