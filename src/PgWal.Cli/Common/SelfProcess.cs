// SelfProcess: a ProcessStartInfo that runs this same pgwal again with other arguments — the native
// executable itself, or `dotnet pgwal.dll` under the JIT host — for the child processes pgwal starts
// (the kv worker of the kill loops, the prefetcher of `archive get --prefetch`).
using System.Diagnostics;

namespace PgWal.Cli.Common;

internal static class SelfProcess
{
    public static ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        var start = new ProcessStartInfo { FileName = Environment.ProcessPath!, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "pgwal.dll"));
        foreach (string a in args)
            start.ArgumentList.Add(a);
        return start;
    }
}
