// ForeignFilesInPgWalTests: pg_wal holds more than segments — backup history files, .partial
// files, timeline history, copies a user made, names in lower case. Only a name of exactly 24
// upper-case hex digits is a segment (PostgreSQL's IsXLogFileName); recycling, recovery's tail
// cleaning and a WAL reset must leave every other file byte for byte as it was.
using System.Security.Cryptography;
using PgWal.Checkpoint;
using PgWal.Format;
using PgWal.Insert;
using PgWal.Storage;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Durability;

public sealed class ForeignFilesInPgWalTests
{
    private static readonly WalGeometry Geometry = new(WalGeometry.MinSegmentSize);

    [Fact]
    public void RecyclingRecoveryAndReset_LeaveNonSegmentFilesUntouched()
    {
        using var dir = new TempDirectory("foreign");
        WalInstance.Initialize(dir.Path, new WalInitOptions { SegmentSize = Geometry.SegmentSize });
        string pgWal = dir.Combine("pg_wal");
        // Old names (behind every redo point: what recycling looks at) and far-future ones (past the
        // end of WAL: what the tail cleaner looks at).
        string[] names =
        [
            "000000010000000000000001.00000028.backup", "000000010000000000000001.partial", "000000010000000000000002.bak",
            "00000001000000000000000a", "00000002.history", "000000010000000000000002.gz",
            "0000000100000000000000F0.partial", "0000000100000000000000f1", "0000000100000000000000F2.bak", "0000000100000000000000F3~",
        ];
        var hashes = new Dictionary<string, string>();
        foreach (var name in names)
        {
            var content = RandomNumberGenerator.GetBytes(name.EndsWith("history") ? 40 : 3000);
            File.WriteAllBytes(Path.Combine(pgWal, name), content);
            hashes[name] = Convert.ToHexString(SHA256.HashData(content));
        }

        var options = new WalInstanceOptions { BackgroundCheckpointer = false, MinWalSize = 2 << 20, MaxWalSize = 4 << 20 };
        var builder = new RecordBuilder();
        var payload = new byte[4000];
        using (var instance = WalInstance.Open(dir.Path, options))
        {
            for (int round = 0; round < 3; round++)
            {
                for (int i = 0; i < 600; i++)
                    instance.Insert(BuiltinRecords.Noop(builder, payload));
                var checkpoint = instance.Checkpoint();
                Assert.True(round == 0 || checkpoint.SegmentsRecycled + checkpoint.SegmentsRemoved > 0, "nothing was recycled or removed");
            }
        }
        var crashed = WalInstance.Open(dir.Path, options);
        for (int i = 0; i < 300; i++)
            crashed.Wal.Flush(crashed.Insert(BuiltinRecords.Noop(builder, payload)));
        crashed.Abandon();
        using (var recovered = WalInstance.Open(dir.Path, options))
            Assert.True(recovered.Recovery.CrashRecovery);

        var storage = new FileSystemDataDirectory(dir.Path);
        var control = ControlFileManager.Read(storage.Control, dir.Path);
        var start = WalReset.DefaultStartSegment(storage, control);
        Assert.True(start.Value > 0xF0, $"the reset starts at segment {start.Value:X}, on a name a .partial file already starts with");
        WalReset.Apply(storage, WalReset.Plan(control, start, null, null));

        foreach (var name in names)
        {
            string path = Path.Combine(pgWal, name);
            Assert.True(File.Exists(path), $"{name} was removed or renamed");
            Assert.Equal(hashes[name], Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path))));
        }
        using var afterReset = WalInstance.Open(dir.Path, options);
        Assert.False(afterReset.Recovery.CrashRecovery);
    }

    [Theory]
    [InlineData("000000010000000000000001", true)]
    [InlineData("00000001000000000000000a", false)]
    [InlineData("000000010000000000000001.partial", false)]
    [InlineData("000000010000000000000001.00000028.backup", false)]
    [InlineData("0000000100000000000000010", false)]
    [InlineData("00000002.history", false)]
    public void TryParse_AcceptsExactlyTwentyFourUpperCaseHexDigits(string name, bool accepted)
        => Assert.Equal(accepted, SegmentFileName.TryParse(name, Geometry, out _, out _));
}
