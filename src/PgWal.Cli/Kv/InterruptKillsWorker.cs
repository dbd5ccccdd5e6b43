// InterruptKillsWorker: SIGINT, SIGTERM and SIGHUP of `pgwal demo` / `pgwal torture` kill the
// running kv worker first (KvKillLoop.Interrupt: SIGKILL, waited for, no new one started), then end
// this process with 128 + the signal's number, as the signal itself would have. The data directory
// is left as a crash leaves it: the next open recovers it. (SIGKILL of the parent cannot be
// caught; ParentWatch ends the worker then.)
using System.Runtime.InteropServices;
using PgWal.Cli.Common;

namespace PgWal.Cli.Kv;

internal sealed class InterruptKillsWorker : IDisposable
{
    private readonly PosixSignalRegistration[] _registrations;

    public InterruptKillsWorker(string program, KvKillLoop loop)
    {
        void Handle(PosixSignalContext context)
        {
            context.Cancel = true;
            int pid = loop.Interrupt();
            Console.Out.Flush();
            Console.Error.WriteLine($"{program}: {StopSignals.Name(context.Signal)} received: {(pid != 0 ? $"worker process {pid} killed" : "no worker was running")}; stopping");
            Environment.Exit(StopSignals.ExitCode(context.Signal));
        }
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle),
            PosixSignalRegistration.Create(PosixSignal.SIGHUP, Handle),
        ];
    }

    public void Dispose()
    {
        foreach (var r in _registrations)
            r.Dispose();
    }
}
