// ErrorTextTests: exceptions as the one line `pgwal CMD: error: ...` shows — .NET's wording for file
// errors rewritten as PostgreSQL's (`... "/path": strerror`), argument decorations and second lines
// dropped, aggregates unwrapped to the failure, and no type name ever; and the exit code each kind
// of failure gets at a command's boundary.
using PgWal.Cli.Common;

namespace PgWal.Tests.Cli;

public sealed class ErrorTextTests
{
    [Fact]
    public void FileErrors_InPostgresWords()
    {
        var missingDir = Assert.ThrowsAny<IOException>(() => File.ReadAllBytes("/nonexistent-pgwal/x"));
        Assert.Equal("could not access \"/nonexistent-pgwal/x\": No such file or directory", ErrorText.Of(missingDir));
        var missingFile = Assert.ThrowsAny<IOException>(() => File.ReadAllBytes("/nonexistent-pgwal"));
        Assert.Equal("could not open file \"/nonexistent-pgwal\": No such file or directory", ErrorText.Of(missingFile));
        Assert.Equal("WAL engine is faulted: file \"/d/pg_wal/xlogtemp.1.2\": No space left on device",
            ErrorText.Of(new IOException("WAL engine is faulted: No space left on device : '/d/pg_wal/xlogtemp.1.2'")));
        Assert.Equal("could not create \"/d\": File exists", ErrorText.Of(new IOException("The file '/d' already exists.")));
    }

    [Fact]
    public void ArgumentErrors_WithoutParameterNameOrActualValue()
    {
        Assert.Equal("kv: a key must be 1..1024 bytes (got 0)", ErrorText.Of(new ArgumentException("kv: a key must be 1..1024 bytes (got 0)", "key")));
        Assert.Equal("shared_buffers must be at least 16 buffers",
            ErrorText.Of(new ArgumentOutOfRangeException("SharedBuffers", 5, "shared_buffers must be at least 16 buffers")));
    }

    [Fact]
    public void Aggregates_AreTheirFirstFailure_AndTypeNamesNeverShow()
    {
        var aggregate = new AggregateException(new AggregateException(new IOException("disk gone")), new IOException("disk gone"));
        Assert.Equal("disk gone", ErrorText.Of(aggregate));
        Assert.Equal("out of memory", ErrorText.Of(new OutOfMemoryException("Exception of type 'System.OutOfMemoryException' was thrown.")));
        Assert.Equal("internal error (PGWAL_DEBUG=1 prints the details)", ErrorText.Of(new InvalidCastException("Unable to cast object of type 'System.String' to type 'System.Int32'.")));
        Assert.Equal("internal error (PGWAL_DEBUG=1 prints the details)", ErrorText.Of(new InvalidOperationException("")));
    }

    [Fact]
    public void Boundary_MapsEachFailureToItsExitCode()
    {
        var stderr = new StringWriter();
        var flushFailed = new PgWal.Kv.CommitOutcomeUnknownException(new Lsn(0x1_0000_0028), new IOException("WAL engine is faulted: No space left on device : '/d/pg_wal/x'"));
        Assert.Equal(4, CommandBoundary.Report("pgwal kv put", flushFailed, stderr));
        Assert.Equal("pgwal kv put: error: the commit ending at 1/28 may or may not be durable: WAL engine is faulted: file \"/d/pg_wal/x\": No space left on device; "
            + "reopen the store (recovery keeps exactly the durable commits) and read it back to find out\n", stderr.ToString());

        stderr = new StringWriter();
        Assert.Equal(4, CommandBoundary.Report("pgwal kv delete", new OutcomeUnknownException("the delete of key \"k\" is durable, but closing the store failed: x"), stderr));
        Assert.Equal("pgwal kv delete: error: the delete of key \"k\" is durable, but closing the store failed: x\n", stderr.ToString());

        stderr = new StringWriter();
        Assert.Equal(2, CommandBoundary.Report("pgwal bench", new UsageException("give exactly one of --records and --duration"), stderr));
        Assert.Equal("pgwal bench: error: give exactly one of --records and --duration\npgwal bench: hint: Try \"pgwal bench --help\" for more information.\n", stderr.ToString());

        stderr = new StringWriter();
        Assert.Equal(3, CommandBoundary.Report("pgwal init", new NullReferenceException(), stderr));
        Assert.Equal("pgwal init: error: Object reference not set to an instance of an object.\n", stderr.ToString());
    }
}
