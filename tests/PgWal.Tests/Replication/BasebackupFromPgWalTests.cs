// Real pg_basebackup 15 against PgWal's walsender (BASE_BACKUP + a second, streaming connection
// with a temporary slot): it backs up a live PgWal.Kv store while 16 clients commit, plain and
// tar, with progress, fast checkpoint and a manifest; real pg_verifybackup accepts the result;
// PgWal opens the copy, replays to the backup's end, and has every commit acknowledged before the
// backup started.
using System.Collections.Concurrent;
using System.Net;
using System.Text;
using PgWal.Kv;
using PgWal.Replication.Server;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Replication;

public sealed class BasebackupFromPgWalTests
{
    private const int SegmentSize = 1 << 20;
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    private static byte[] Key(int i) => Encoding.ASCII.GetBytes($"key{i:D7}");

    private static byte[] Value(int i) => Encoding.ASCII.GetBytes($"value of {i} " + new string('v', i % 300));

    private static KvOptions Options(int port) => new()
    {
        Init = new WalInitOptions { SegmentSize = SegmentSize },
        Instance = new WalInstanceOptions
        {
            SharedBuffers = 256,
            MaxWalSize = 8 * SegmentSize,
            MinWalSize = 2 * SegmentSize,
            WalSender = new WalSenderOptions { Listen = new IPEndPoint(IPAddress.Loopback, port) }.WithPassword(WalSenderFixture.User, WalSenderFixture.Password),
        },
    };

    [Theory]
    [InlineData("p")]
    [InlineData("t")]
    public void BacksUpALiveKvStoreThatPgVerifybackupAcceptsAndPgWalOpens(string format)
    {
        using var dir = new TempDirectory("pgbb");
        string data = dir.Combine("data"), backup = dir.Combine("backup");
        int port = WalSenderFixture.FreePort();
        var acknowledged = new ConcurrentBag<int>();
        HashSet<int> beforeStart;
        ToolResult result;
        using (var store = KvStore.Open(data, Options(port)))
        {
            for (int i = 0; i < 3000; i++)
                store.Put(Key(i), Value(i));
            using var cancel = new CancellationTokenSource();
            int next = 3000;
            var clients = Enumerable.Range(0, 16).Select(_ => new Thread(() =>
            {
                while (!cancel.IsCancellationRequested)
                {
                    int i = Interlocked.Increment(ref next);
                    store.Put(Key(i), Value(i));
                    acknowledged.Add(i);
                }
            })).ToArray();
            foreach (var c in clients)
                c.Start();
            WalSenderFixture.WaitUntil(() => acknowledged.Count >= 200, Patience, () => $"{acknowledged.Count} commits");
            beforeStart = [.. acknowledged];
            result = PgTools.Run(PgTools.Require("pg_basebackup"),
                ["-D", backup, "-F", format, "-X", "stream", "-P", "-c", "fast", "-v", "-h", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", WalSenderFixture.User],
                timeout: Patience, environment: new Dictionary<string, string> { ["PGPASSWORD"] = WalSenderFixture.Password });
            cancel.Cancel();
            foreach (var c in clients)
                c.Join();
            Assert.True(acknowledged.Count > beforeStart.Count, "clients kept committing during the backup");
        }
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("base backup completed", result.Stderr);
        Assert.Matches(@"\d+/\d+ kB \(100%\), 1/1 tablespace", result.Stderr);
        Assert.True(beforeStart.Count > 100, "clients committed before the backup");

        string restored = dir.Combine("restored");
        if (format == "t")
        {
            Assert.True(File.Exists(Path.Combine(backup, "base.tar")) && File.Exists(Path.Combine(backup, "pg_wal.tar")) && File.Exists(Path.Combine(backup, "backup_manifest")));
            Directory.CreateDirectory(restored);
            Assert.Equal(0, PgTools.Run("tar", ["-xf", Path.Combine(backup, "base.tar"), "-C", restored]).ExitCode);
            Assert.Equal(0, PgTools.Run("tar", ["-xf", Path.Combine(backup, "pg_wal.tar"), "-C", Path.Combine(restored, "pg_wal")]).ExitCode);
            File.Copy(Path.Combine(backup, "backup_manifest"), Path.Combine(restored, "backup_manifest"));
        }
        else
        {
            PgWal.Cli.Common.DirectoryCopy.Copy(backup, restored, _ => false);
        }
        var verified = PgTools.Run(PgTools.Require("pg_verifybackup"), [restored]);
        Assert.True(verified.ExitCode == 0, verified.Stderr + verified.StdoutText);
        Assert.Contains("backup successfully verified", verified.StdoutText);

        using var copy = KvStore.Open(restored, new KvOptions { Init = new WalInitOptions { SegmentSize = SegmentSize }, Instance = new WalInstanceOptions { SharedBuffers = 256 } });
        // It replayed to the backup's end (pg_basebackup -v: "write-ahead log end point: X/X").
        var endPoint = System.Text.RegularExpressions.Regex.Match(result.Stderr, @"write-ahead log end point: ([0-9A-F]+/[0-9A-F]+)");
        Assert.True(endPoint.Success, result.Stderr);
        Assert.True(copy.Instance.Recovery.EndOfWal >= Lsn.Parse(endPoint.Groups[1].Value), $"replayed to {copy.Instance.Recovery.EndOfWal}, the backup ends at {endPoint.Groups[1].Value}");
        for (int i = 0; i < 3000; i++)
            Assert.Equal(Value(i), copy.Get(Key(i)));
        foreach (int i in beforeStart)
            Assert.Equal(Value(i), copy.Get(Key(i)));
    }
}
