// SmallTmpfs: a small tmpfs mounted for one test, to make a file system full on purpose: mounted
// with `mount -t tmpfs -o size=N` (as root, else through `sudo -n`; neither is a test failure that
// says so, not a skip), optionally filled with a file to leave just a few bytes free, and always
// unmounted by Dispose.
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Cli;

internal sealed class SmallTmpfs : IDisposable
{
    private readonly TempDirectory _mountPoint = new("tmpfs");
    private readonly bool _sudo;

    public SmallTmpfs(int megabytes)
    {
        string[] mount = ["mount", "-t", "tmpfs", "-o", $"size={megabytes}m", "tmpfs", _mountPoint.Path];
        var r = Environment.UserName == "root" ? PgTools.Run(mount[0], mount[1..]) : PgTools.Run("sudo", ["-n", .. mount]);
        if (r.ExitCode != 0)
        {
            _mountPoint.Dispose();
            Assert.Fail($"this test needs a small tmpfs to fill up: `{string.Join(' ', mount)}` failed (run as root, or allow it through sudo -n): {r.Stderr.Trim()}");
        }
        _sudo = Environment.UserName != "root";
    }

    public string Path => _mountPoint.Path;

    public string Combine(params string[] parts) => _mountPoint.Combine(parts);

    /// <summary>Fills the file system with one file until about <paramref name="leaveBytes"/> remain free.</summary>
    public void Fill(long leaveBytes)
    {
        long free = new DriveInfo(Path).AvailableFreeSpace;
        using var file = new FileStream(Combine("fill"), FileMode.Create, FileAccess.Write);
        var chunk = new byte[1 << 20];
        for (long left = free - leaveBytes; left > 0; left -= chunk.Length)
            file.Write(chunk, 0, (int)Math.Min(chunk.Length, left));
    }

    public void Unfill() => File.Delete(Combine("fill"));

    public void Dispose()
    {
        string[] umount = ["umount", Path];
        var r = _sudo ? PgTools.Run("sudo", ["-n", .. umount]) : PgTools.Run(umount[0], umount[1..]);
        if (r.ExitCode != 0)
            PgTools.Run(_sudo ? "sudo" : "umount", _sudo ? ["-n", "umount", "-l", Path] : ["-l", Path]);   // busy: detach it anyway
        _mountPoint.Dispose();
    }
}
