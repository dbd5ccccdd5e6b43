// BackgroundWalWriter: PostgreSQL's walwriter. A dedicated thread that wakes every WalWriterDelay
// (or when woken early) and runs the engine's background step: write and flush completed pages and
// asynchronous commits, initialise buffer pages ahead of inserters, and start creating upcoming
// segments. It never throws: after a storage failure the engine is faulted and it only idles.
using Microsoft.Extensions.Logging;

namespace PgWal.Write;

internal sealed class BackgroundWalWriter : IDisposable
{
    private readonly Action _step;
    private readonly TimeSpan _delay;
    private readonly ILogger _logger;
    private readonly AutoResetEvent _wake = new(false);
    private readonly Thread _thread;
    private volatile bool _stop;
    private int _wakeRequested;

    public BackgroundWalWriter(Action step, TimeSpan delay, ILogger logger)
    {
        _step = step;
        _delay = delay;
        _logger = logger;
        _thread = new Thread(Run) { IsBackground = true, Name = "pgwal walwriter" };
        _thread.Start();
    }

    /// <summary>True once <see cref="Dispose"/> has begun: a long step should end early.</summary>
    public bool StopRequested => _stop;

    /// <summary>Wakes the writer now (cheap when a wake is already pending).</summary>
    public void Wake()
    {
        if (Interlocked.Exchange(ref _wakeRequested, 1) == 0)
            _wake.Set();
    }

    private void Run()
    {
        while (!_stop)
        {
            _wake.WaitOne(_delay);
            Volatile.Write(ref _wakeRequested, 0);
            if (_stop)
                break;
            try
            {
                _step();
            }
            catch (WalFaultedException)
            {
                // The engine is faulted; callers see the failure. Nothing more to do.
            }
            catch (Exception e)
            {
                _logger.LogError(e, "WAL writer step failed");
            }
        }
    }

    public void Dispose()
    {
        _stop = true;
        _wake.Set();
        _thread.Join();
        _wake.Dispose();
    }
}
