// DirectoryLockTests: postmaster.pid lets one instance at a time open a data directory. Closing
// removes the file while still holding its lock; an opener that opened the old file just before
// must not end up "holding" a lock on an unlinked file while a third opener locks a new one.
using PgWal.Kv;
using PgWal.Storage;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Durability;

public sealed class DirectoryLockTests
{
    [Fact]
    public void LockAndClose_FromThreadsInALoop_NeverHeldTwiceAtOnce()
    {
        using var dir = new TempDirectory("lock");
        var storage = new FileSystemDataDirectory(dir.Path);
        int holders = 0, violations = 0, acquired = 0;
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(4);
        var threads = Enumerable.Range(0, 3).Select(_ => new Thread(() =>
        {
            while (DateTime.UtcNow < until && Volatile.Read(ref violations) == 0)
            {
                IDisposable? held;
                try
                {
                    held = storage.Lock();
                }
                catch (IOException e) when (IsLockConflict(e))
                {
                    continue;
                }
                if (Interlocked.Increment(ref holders) > 1)
                    Interlocked.Increment(ref violations);
                Interlocked.Increment(ref acquired);
                Thread.SpinWait(50);
                Interlocked.Decrement(ref holders);
                held!.Dispose();
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.True(acquired > 100, $"only {acquired} locks taken");
        Assert.Equal(0, violations);
    }

    [Fact]
    public void SharedLock_ExcludesWritersNotReaders_AndCreatesNothing()
    {
        using var dir = new TempDirectory("lockshared");
        var storage = new FileSystemDataDirectory(dir.Path);
        string pid = dir.Combine("postmaster.pid");
        using (storage.Lock())
        {
            Assert.True(File.Exists(pid));
            Assert.Contains("in use", Assert.Throws<IOException>(() => storage.LockShared()).Message);
        }
        Assert.False(File.Exists(pid));
        var first = storage.LockShared();
        var second = storage.LockShared();
        Assert.NotNull(first);
        Assert.NotNull(second);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));   // a reader writes nothing
        Assert.Contains("in use", Assert.Throws<IOException>(() => storage.Lock()).Message);
        first!.Dispose();
        Assert.Contains("in use", Assert.Throws<IOException>(() => storage.Lock()).Message);
        second!.Dispose();
        storage.Lock()!.Dispose();
        Assert.False(File.Exists(pid));
    }

    [Fact]
    public void LockFileNamingALiveProcess_IsRefused_AsPostgresRefusesIt_AndAStalePidIsTakenOver()
    {
        using var dir = new TempDirectory("lockpg");
        var storage = new FileSystemDataDirectory(dir.Path);
        string pid = dir.Combine("postmaster.pid");
        using var sleeper = System.Diagnostics.Process.Start("sleep", "30");
        try
        {
            // What a running PostgreSQL leaves there: its pid first, and no flock.
            File.WriteAllText(pid, $"{sleeper.Id}\n{dir.Path}\n1700000000\n5432\n");
            var error = Assert.Throws<IOException>(() => storage.Lock());
            Assert.Contains($"is another postmaster (PID {sleeper.Id}) running", error.Message);
            Assert.Throws<IOException>(() => storage.LockShared());
            Assert.StartsWith($"{sleeper.Id}\n", File.ReadAllText(pid));   // left as it was
        }
        finally
        {
            sleeper.Kill();
            sleeper.WaitForExit();
        }
        storage.Lock()!.Dispose();               // a dead process's pid: taken over, then removed
        Assert.False(File.Exists(pid));
    }

    [Fact]
    public void KvStoresOpenedAndClosedByThreads_NeverOverlap_AndLoseNoPut()
    {
        using var dir = new TempDirectory("lockkv");
        var options = new KvOptions { Instance = new WalInstanceOptions { BackgroundCheckpointer = false, SharedBuffers = 64 }, Init = new WalInitOptions { SegmentSize = 1 << 20 } };
        KvStore.Open(dir.Path, options).Dispose();
        int open = 0, overlaps = 0;
        var acked = new System.Collections.Concurrent.ConcurrentBag<string>();
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(6);
        var threads = Enumerable.Range(0, 3).Select(t => new Thread(() =>
        {
            for (int i = 0; DateTime.UtcNow < until && Volatile.Read(ref overlaps) == 0; i++)
            {
                KvStore store;
                try
                {
                    store = KvStore.Open(dir.Path, options);
                }
                catch (IOException e) when (IsLockConflict(e))
                {
                    continue;
                }
                if (Interlocked.Increment(ref open) > 1)
                    Interlocked.Increment(ref overlaps);
                string key = $"t{t}-{i}";
                store.Put(System.Text.Encoding.UTF8.GetBytes(key), "v"u8);
                acked.Add(key);
                Interlocked.Decrement(ref open);
                store.Dispose();
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.Equal(0, overlaps);
        using var reopened = KvStore.Open(dir.Path, options);
        Assert.True(acked.Count > 10, $"only {acked.Count} puts");
        foreach (var key in acked)
            Assert.True(reopened.Get(System.Text.Encoding.UTF8.GetBytes(key)) != null, $"acknowledged put {key} lost");
    }

    [Fact]
    public async Task KvPutsFromConcurrentProcesses_AreExclusive_AndAllAcknowledgedPutsSurvive()
    {
        using var dir = new TempDirectory("lockproc");
        string data = dir.Combine("data");
        Assert.Equal(0, PgTools.Pgwal(["init", "-D", data, "--wal-segsize", "1"]).ExitCode);
        var acked = new System.Collections.Concurrent.ConcurrentBag<string>();
        var workers = Enumerable.Range(0, 4).Select(w => Task.Run(() =>
        {
            for (int i = 0; i < 8; i++)
            {
                var put = PgTools.Pgwal(["kv", "-D", data, "put", $"p{w}-{i}", "v"]);
                if (put.ExitCode == 0)
                    acked.Add($"p{w}-{i}");
                else
                    Assert.Contains("in use by another process", put.Stderr);
            }
        })).ToArray();
        await Task.WhenAll(workers);
        Assert.NotEmpty(acked);
        foreach (var key in acked)
        {
            var get = PgTools.Pgwal(["kv", "-D", data, "get", key]);
            Assert.True(get.ExitCode == 0, $"acknowledged put {key} lost: {get.Stderr}");
        }
    }

    // The clear message is asserted elsewhere (KvFailureTests); here any refusal means "try again".
    private static bool IsLockConflict(IOException e)
        => e.Message.Contains("in use", StringComparison.Ordinal) || e.Message.Contains("being used by another process", StringComparison.Ordinal);
}
