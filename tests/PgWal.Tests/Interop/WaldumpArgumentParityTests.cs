using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Interop;

// Bad command lines: `pgwal waldump` must fail like pg_waldump 15 — same exit status, same
// messages (program name aside).
public class WaldumpArgumentParityTests
{
    public static TheoryData<string> BadArguments() =>
    [
        "",
        "-s xx",
        "-e 1",
        "--foo",
        "-k",
        "-R 1/2",
        "-R 0/2/3",
        "-B 5 -s 0/1",
        "-B -1 -R 1/2/3 -s 0/1",
        "-n x",
        "-t x",
        "-x y",
        "-F bogus",
        "-r foo",
        "-r custom300",
        "-r custom100 -s 0/1",
        "--stats=foo -s 0/1",
        "-z=x",
        "a b c",
        "-p /nonexistent/dir -s 0/1000000",
        "-p /tmp/pgwal-no-such-dir 000000010000000000000001",
        "-s",
        "--start",
        "--quiet=1",
    ];

    [Theory]
    [MemberData(nameof(BadArguments))]
    public void BadArguments_FailLikePgWaldump(string commandLine)
    {
        string[] args = commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        OutputAssert.SameAsPostgres(PgTools.Waldump(args), InProcessWaldump.Run(args), commandLine);
    }

    [Fact]
    public void RmgrList_IsIdentical()
        => OutputAssert.SameAsPostgres(PgTools.Waldump(["--rmgr=list"]), InProcessWaldump.Run("--rmgr=list"), "--rmgr=list");

    [Fact]
    public void DirectoryWithoutWal_FailsLikePgWaldump()
    {
        using var dir = new TempDirectory("empty");
        string[] args = ["-p", dir.Path, "-s", "0/1000000"];
        OutputAssert.SameAsPostgres(PgTools.Waldump(args), InProcessWaldump.Run(args), "empty dir");
    }

    [Fact]
    public void FileWithBadSegmentSize_FailsLikePgWaldump()
    {
        using var dir = new TempDirectory("badseg");
        File.WriteAllBytes(dir.Combine("000000010000000000000001"), new byte[8192]);
        string[] args = ["-p", dir.Path, "-s", "0/1000000"];
        OutputAssert.SameAsPostgres(PgTools.Waldump(args), InProcessWaldump.Run(args), "zero segment");
        File.WriteAllBytes(dir.Combine("000000010000000000000001"), new byte[100]);
        OutputAssert.SameAsPostgres(PgTools.Waldump(args), InProcessWaldump.Run(args), "short segment");
    }
}
