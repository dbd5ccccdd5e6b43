// ControlFileManager: the in-memory copy of global/pg_control and its durable updates
// (xlog.c ControlFile + UpdateControlFile, under ControlFileLock). Every change is written whole
// and fsynced before the new value is visible; one writer at a time.
using PgWal.Format;
using PgWal.Storage;

namespace PgWal.Checkpoint;

internal sealed class ControlFileManager(IControlFileStorage storage, ControlFileData initial)
{
    private readonly object _lock = new();
    private ControlFileData _current = initial;   // replaced under _lock after the write succeeded

    public ControlFileData Current => Volatile.Read(ref _current);

    /// <summary>Applies <paramref name="change"/> and writes the result durably.</summary>
    public ControlFileData Update(Func<ControlFileData, ControlFileData> change)
    {
        lock (_lock)
        {
            var next = change(_current) with { Time = DateTimeOffset.UtcNow.ToUnixTimeSeconds() };
            Write(storage, next);
            Volatile.Write(ref _current, next);
            return next;
        }
    }

    public static void Write(IControlFileStorage storage, ControlFileData data)
    {
        var bytes = new byte[ControlFileData.FileSize];
        data.Write(bytes);
        storage.WriteDurably(bytes);
    }

    /// <summary>Reads and validates the control file.</summary>
    /// <exception cref="InvalidDataException">Missing, short, wrong version or bad CRC.</exception>
    public static ControlFileData Read(IControlFileStorage storage, string location)
    {
        var bytes = new byte[ControlFileData.FileSize];
        int n = storage.Read(bytes);
        if (n < 0)
            throw new FileNotFoundException($"could not open file \"{Path.Combine(location, "global", "pg_control")}\": No such file or directory (is \"{location}\" an initialised data directory? run pgwal init)");
        if (!ControlFileData.TryRead(bytes.AsSpan(0, n), out var data, out var error))
            throw new InvalidDataException($"{Path.Combine(location, "global", "pg_control")}: {error}");
        return data!;
    }
}
