// WalStoragePageSource: an IPageSource over an IWalStorage, so recovery reads WAL through the same
// seam the engine writes it (the real pg_wal directory, or the crash tests' simulated disk).
using PgWal.Format;
using PgWal.Read;

namespace PgWal.Storage;

/// <summary>Reads WAL segments through <see cref="IWalStorage.Read"/>.</summary>
public sealed class WalStoragePageSource(IWalStorage storage, WalGeometry geometry) : IPageSource
{
    /// <inheritdoc/>
    public string DescribeSegment(TimelineId timeline, SegmentNumber segment)
        => SegmentFileName.Format(timeline, segment, geometry);

    /// <inheritdoc/>
    public PageReadResult Read(TimelineId timeline, Lsn start, Span<byte> destination)
    {
        string name = DescribeSegment(timeline, geometry.SegmentOf(start));
        long offset = geometry.OffsetInSegment(start);
        try
        {
            return new PageReadResult(PageReadStatus.Ok, storage.Read(name, offset, destination));
        }
        catch (FileNotFoundException)
        {
            return new PageReadResult(PageReadStatus.SegmentMissing, 0, $"could not find file \"{name}\": No such file or directory");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new PageReadResult(PageReadStatus.Error, 0, $"could not read from file {name}, offset {offset}: {e.Message}");
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
    }
}
