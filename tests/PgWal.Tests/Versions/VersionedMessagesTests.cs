// Messages whose wording or stream changed between versions, checked on each version's real WAL:
// 16 added the page header size and offset to "invalid record offset"; 17 moved "first record is
// after ..., skipping over N bytes" from stdout to stderr (pg_log_info). The expected texts are what
// pg_waldump 15 and 17.11 printed for the same requests on these fixtures.
using PgWal.Read;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Versions;

public sealed class VersionedMessagesTests
{
    [Theory]
    [InlineData(15, "invalid record offset at 0/100A008")]
    [InlineData(16, "invalid record offset at 0/100A008: expected at least 24, got 8")]
    [InlineData(17, "invalid record offset at 0/100A008: expected at least 24, got 8")]
    [InlineData(18, "invalid record offset at 0/100A008: expected at least 24, got 8")]
    public void ARecordAskedForInsideAPageHeader_IsRefused_InTheVersionsWords(int major, string expected)
    {
        var fixture = RealWalFixture.Get(major, "mixed-1mb");
        var source = GeneratedCorpus.Named($"pg{major}/mixed-1mb").CopyToMemory();
        var reader = new WalReader(source, new WalReaderOptions { SegmentSize = fixture.SegmentSize });
        var at = new Lsn(0x100A008);
        Assert.True(at > fixture.First && at < fixture.End);

        reader.BeginRead(at);
        var outcome = reader.ReadRecord();

        Assert.False(outcome.IsRecord);
        Assert.Equal(CorruptionKind.InvalidRecordOffset, outcome.Error!.Kind);
        Assert.Equal(expected, outcome.Error.Message);
    }

    [Fact]
    public void AStartInsideARecord_Is_ReportedOnStdout_By15_AndOnStderr_From17()
    {
        // pg_waldump 17.11 -p DIR -s 0/2000030 -n 1 on pg17/switch-16mb:
        //   stdout: the LOCK record at 0/2000048; stderr: the skip line.
        var f17 = RealWalFixture.Get(17, "switch-16mb");
        var r17 = InProcessWaldump.Run("-p", f17.WalDirectory, "-s", "0/2000030", "-n", "1");
        Assert.Equal(0, r17.ExitCode);
        string out17 = System.Text.Encoding.UTF8.GetString(r17.Stdout);
        Assert.StartsWith("rmgr: Standby     len (rec/tot):     42/    42, tx:        738, lsn: 0/02000048, prev 0/02000028, desc: LOCK xid 738 db 5 rel 16384", out17);
        Assert.Equal(": first record is after 0/2000030, at 0/2000048, skipping over 24 bytes", r17.Stderr.TrimEnd()[r17.Stderr.IndexOf(':')..]);

        var f15 = RealWalFixture.Get(15, "switch-16mb");
        var r15 = InProcessWaldump.Run("-p", f15.WalDirectory, "-s", "0/2000030", "-n", "1");
        Assert.Equal(0, r15.ExitCode);
        Assert.Equal("", r15.Stderr);
        Assert.StartsWith("first record is after 0/2000030, at 0/", System.Text.Encoding.UTF8.GetString(r15.Stdout));
    }
}
