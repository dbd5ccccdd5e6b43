// StopSignals: SIGINT and SIGTERM as a request to stop early and finish cleanly (`pgwal bench`,
// `pgwal kv bench`: the run ends, the summary is printed, the data directory is shut down). The
// first signal cancels the token; a second one is left to its default action, so a stuck run can
// still be ended from the keyboard.
using System.Runtime.InteropServices;

namespace PgWal.Cli.Common;

internal sealed class StopSignals : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly PosixSignalRegistration[] _registrations;
    private int _received;

    public StopSignals()
    {
        _registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle), PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle)];
    }

    /// <summary>Cancelled by the first SIGINT or SIGTERM.</summary>
    public CancellationToken Token => _stop.Token;

    /// <summary>"SIGINT" or "SIGTERM" once one arrived, else null.</summary>
    public string? Received { get; private set; }

    private void Handle(PosixSignalContext context)
    {
        if (Interlocked.Increment(ref _received) > 1)
            return;   // the second signal: default action
        context.Cancel = true;
        Received = Name(context.Signal);
        Console.Error.WriteLine($"{Received} received: stopping the run");
        _stop.Cancel();
    }

    /// <summary>Asks the run to stop as a signal would (a "quit" typed at a shell).</summary>
    public void Stop() => _stop.Cancel();

    public static string Name(PosixSignal signal) => signal switch
    {
        PosixSignal.SIGINT => "SIGINT",
        PosixSignal.SIGTERM => "SIGTERM",
        PosixSignal.SIGQUIT => "SIGQUIT",
        PosixSignal.SIGHUP => "SIGHUP",
        _ => signal.ToString(),
    };

    /// <summary>The exit status of a process ended by the signal: 128 + its number.</summary>
    public static int ExitCode(PosixSignal signal) => 128 + signal switch
    {
        PosixSignal.SIGHUP => 1,
        PosixSignal.SIGINT => 2,
        PosixSignal.SIGQUIT => 3,
        _ => 15,
    };

    public void Dispose()
    {
        foreach (var r in _registrations)
            r.Dispose();
        _stop.Dispose();
    }
}
