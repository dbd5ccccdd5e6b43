using System.Buffers.Binary;
using PgWal.Diagnostics.Dump;
using PgWal.Diagnostics.Text;
using PgWal.Format;
using PgWal.Read;
using PgWal.Rmgr;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Unit;

// The reader accepts PostgreSQL 15, 16, 17 and 18 pages (their headers and records are laid out
// identically; only the magic differs) and locks onto the version of the first page it reads.
public class ReaderVersionTests
{
    [Theory]
    [InlineData(PageHeader.MagicPg15, WalVersion.Pg15)]
    [InlineData(PageHeader.MagicPg16, WalVersion.Pg16)]
    [InlineData(PageHeader.MagicPg17, WalVersion.Pg17)]
    [InlineData(PageHeader.MagicPg18, WalVersion.Pg18)]
    public void AllPagesOfOneVersion_AreRead(ushort magic, WalVersion version)
    {
        var corpus = GeneratedCorpus.Default;
        var source = corpus.CopyToMemory();
        foreach (var seg in source.Segments)
        {
            var bytes = source.GetSegment(seg)!;
            for (int p = 0; p < bytes.Length; p += 8192)
            {
                if (BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(p)) == PageHeader.MagicPg15)
                    BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(p), magic);
            }
        }
        var reader = new WalReader(source, new WalReaderOptions { SegmentSize = GeneratedCorpus.SegmentSize, StopAt = corpus.End });
        reader.BeginRead(corpus.Starts[0]);
        int n = 0;
        var text = new TextBuffer();
        var formatter = new RecordLineFormatter(new RecordDescribers());
        while (reader.ReadRecord() is { IsRecord: true } o)
        {
            Assert.Equal(version, o.Record!.Version);
            if (n == 0)
                formatter.Append(o.Record, text, false);
            n++;
        }
        Assert.Equal(corpus.Starts.Count, n);
        Assert.Equal(version, reader.Version);
        // PostgreSQL 17 and later print wal_level in checkpoint descriptions.
        Assert.Equal(version >= WalVersion.Pg17, text.ToString().Contains("wal_level"));
    }

    [Fact]
    public void RequiredVersion_RejectsOthers()
    {
        var corpus = GeneratedCorpus.Default;
        var reader = new WalReader(corpus.CopyToMemory(),
            new WalReaderOptions { SegmentSize = GeneratedCorpus.SegmentSize, RequiredVersion = WalVersion.Pg17 });
        reader.BeginRead(corpus.Starts[0]);
        var o = reader.ReadRecord();
        Assert.Equal(CorruptionKind.BadPageMagic, o.Error!.Kind);
        Assert.StartsWith("invalid magic number D110", o.Error.Message);
    }

    [Fact]
    public void SystemIdentifierMismatch_IsReported()
    {
        var corpus = GeneratedCorpus.Default;
        var reader = new WalReader(corpus.CopyToMemory(),
            new WalReaderOptions { SegmentSize = GeneratedCorpus.SegmentSize, SystemIdentifier = 42 });
        reader.BeginRead(corpus.Starts[0]);
        var o = reader.ReadRecord();
        Assert.Equal(CorruptionKind.SystemIdentifierMismatch, o.Error!.Kind);
        Assert.Contains("pg_control database system identifier is 42", o.Error.Message);
    }

    [Fact]
    public void WrongSegmentSize_IsReported()
    {
        var corpus = GeneratedCorpus.Default;
        var source = new MemoryPageSource(2 * GeneratedCorpus.SegmentSize);
        // 1 MB segment 2 (0/200000) presented as the 2 MB segment 1 that starts at the same LSN.
        source.SetSegment(new SegmentNumber(1), corpus.Segments[new SegmentNumber(2)]);
        var reader = new WalReader(source, new WalReaderOptions { SegmentSize = 2 * GeneratedCorpus.SegmentSize });
        reader.BeginRead(corpus.Starts.First(s => s.Value > 0x200100 && s.Value < 0x300000));
        Assert.Equal(CorruptionKind.SegmentSizeMismatch, reader.ReadRecord().Error!.Kind);
    }
}
