// ParentWatch: a worker process (`pgwal kv worker --parent-pid P`) must not outlive the `pgwal
// demo` / `pgwal torture` that started it — left alone it would commit at full speed forever. Two
// independent ways, because each alone has a hole:
//   - PR_SET_PDEATHSIG(SIGKILL): the kernel kills us when the parent *thread* that forked us exits
//     (so the parent starts workers from its main thread). If the parent died before the prctl, no
//     signal comes: getppid() is then no longer P, and we end at once.
//   - standard input is a pipe from the parent that it never writes to: EOF means every copy of its
//     write end is closed — the parent exited, however it died (also where prctl does not exist).
// Either way the worker ends with SIGKILL, as the parent would have killed it. SIGINT and SIGHUP,
// which a terminal sends to the whole process group, are ignored: the parent handles them and
// kills the worker itself (InterruptKillsWorker), so it never sees the worker die first.
using System.Runtime.InteropServices;
using PgWal.Cli.Common;

namespace PgWal.Cli.Kv;

internal static class ParentWatch
{
    private static PosixSignalRegistration[]? s_ignored;   // kept alive for the process's life

    public static void DieWithParent(int parentPid)
    {
        s_ignored = [PosixSignalRegistration.Create(PosixSignal.SIGINT, c => c.Cancel = true), PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => c.Cancel = true)];
        Posix.KillWhenParentDies();
        if (Posix.GetParentProcessId() != parentPid)
            Posix.KillSelf();   // the parent is gone already (we were re-parented)
        var watcher = new Thread(() =>
        {
            try
            {
                using var stdin = Console.OpenStandardInput();
                var buffer = new byte[256];
                while (stdin.Read(buffer) > 0)
                {
                }
            }
            catch (IOException)
            {
                // a broken pipe is the same news as EOF
            }
            Posix.KillSelf();
        }) { IsBackground = true, Name = "parent watch" };
        watcher.Start();
    }
}
