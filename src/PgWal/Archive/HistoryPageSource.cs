// HistoryPageSource: archived WAL read along a timeline's history, as recovery reads it
// (XLogFileReadAnyTLI): each segment from the newest timeline of the history that began at or
// before it and whose file the repository holds, never going back to an older timeline than the
// file read last. What `show-target --timeline N` reads for N > 1.
using PgWal.Format;
using PgWal.Read;
using PgWal.Timelines;

namespace PgWal.Archive;

internal sealed class HistoryPageSource(WalRepository repository, RepositoryPageSource inner, TimelineHistory history) : IPageSource
{
    private readonly WalGeometry _geometry = inner.Geometry;
    private TimelineId _fileTimeline;

    /// <summary>The timeline whose file holds <paramref name="segment"/> (the history's target when none does).</summary>
    public TimelineId TimelineFor(SegmentNumber segment)
    {
        foreach (var timeline in history.FileCandidates(segment, _geometry, _fileTimeline))
        {
            ArchivedFileName.TryParse(SegmentFileName.Format(timeline, segment, _geometry), out var name);
            if (repository.Contains(name))
                return timeline;
        }
        return history.Target;
    }

    public PageReadResult Read(TimelineId timeline, Lsn start, Span<byte> destination)
    {
        var chosen = TimelineFor(_geometry.SegmentOf(start));
        var result = inner.Read(chosen, start, destination);
        if (result.Status == PageReadStatus.Ok)
            _fileTimeline = chosen;
        return result;
    }

    public string DescribeSegment(TimelineId timeline, SegmentNumber segment) => SegmentFileName.Format(TimelineFor(segment), segment, _geometry);

    public void Dispose() => inner.Dispose();
}
