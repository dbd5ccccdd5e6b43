// StderrLoggerProvider: the CLI's log sink — "LOG:  message" lines on stderr, PostgreSQL style.
using Microsoft.Extensions.Logging;

namespace PgWal.Cli.DataDir;

internal sealed class StderrLoggerFactory(LogLevel minimum) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new Logger(minimum);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
    }

    private sealed class Logger(LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
                return;
            string level = logLevel switch
            {
                LogLevel.Warning => "WARNING",
                LogLevel.Error or LogLevel.Critical => "ERROR",
                LogLevel.Debug or LogLevel.Trace => "DEBUG",
                _ => "LOG",
            };
            Console.Error.WriteLine($"{level}:  {formatter(state, exception)}{(exception != null ? ": " + exception.Message : "")}");
        }
    }
}
