// DamageBaseline: a data directory left by a SIGKILL of a running workload — the kv store's
// (`pgwal kv worker`) or the page test's (`pgwal pagetest`) — with 1 MB segments and data
// checksums, killed once a checkpoint of the workload has written its pages and at least eight
// segments of WAL follow that checkpoint.
// Built once per test class; each case works on a copy. Knows where things are: the redo and
// checkpoint segments, the last segment holding WAL, a middle one between them.
using System.Diagnostics;
using PgWal.Checkpoint;
using PgWal.Format;
using PgWal.Read;
using PgWal.Storage;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Durability;

public sealed class DamageBaseline : IDisposable
{
    public static readonly WalGeometry Geometry = new(WalGeometry.MinSegmentSize);
    private readonly TempDirectory _root = new("baseline");
    private readonly Dictionary<string, Built> _built = [];
    private readonly object _lock = new();

    public sealed record Built(string Data, string Acks, ControlFileData Control, SegmentNumber Redo, SegmentNumber CheckpointSegment, SegmentNumber Last, SegmentNumber Middle)
    {
        public string Name(SegmentNumber segment) => SegmentFileName.Format(Control.CheckPointCopy.ThisTimeline, segment, Geometry);
        public string WalPath(SegmentNumber segment) => Path.Combine(Data, "pg_wal", Name(segment));
    }

    /// <summary>The baseline of <paramref name="workload"/> ("kv" or "pagetest"), built on first use.</summary>
    public Built Get(string workload)
    {
        lock (_lock)
        {
            if (!_built.TryGetValue(workload, out var built))
                _built[workload] = built = Build(workload);
            return built;
        }
    }

    /// <summary>Copies the baseline's data directory (and ack file) to <paramref name="to"/>.</summary>
    public static Built CopyTo(Built source, string to)
    {
        Copy(source.Data, Path.Combine(to, "data"));
        File.Copy(source.Acks, Path.Combine(to, "acks"));
        return source with { Data = Path.Combine(to, "data"), Acks = Path.Combine(to, "acks") };
    }

    private Built Build(string workload)
    {
        string data = _root.Combine(workload, "data"), acks = _root.Combine(workload, "acks");
        var init = PgTools.Pgwal(["init", "-D", data, "--wal-segsize", "1", "-k"]);
        Assert.True(init.ExitCode == 0, init.Stderr);
        string[] args = workload == "kv"
            ? ["kv", "-D", data, "worker", "--clients", "4", "--seed", "3", "--ack-file", acks]
            // (checkpoints every 10 s: with 1 MB segments the WAL after the last one must reach 8
            // segments, which needs 0.8 MB/s of fsynced commits; 5 s needed 1.6, more than a VM
            // with 250 µs fdatasyncs gave)
            : ["pagetest", "-D", data, "--workers", "2", "--pages", "64", "--seed", "3", "--ack-file", acks, "--duration", "120",
               "--checkpoint-timeout", "10", "--max-wal-size", "64", "--shared-buffers", "64"];
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "pgwal.dll"));
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var child = Process.Start(psi)!;
        _ = child.StandardOutput.ReadToEndAsync();
        var stderr = child.StandardError.ReadToEndAsync();
        var clock = Stopwatch.StartNew();
        while (!EnoughWal(data))
        {
            if (child.HasExited)
                Assert.Fail($"{workload} exited early: {stderr.Result}");
            if (clock.Elapsed > TimeSpan.FromSeconds(90))
                Assert.Fail($"{workload} wrote too little WAL in 90 s");
            Thread.Sleep(20);
        }
        child.Kill();              // SIGKILL
        child.WaitForExit();
        var control = ReadControl(data);
        var redo = Geometry.SegmentOf(control.CheckPointCopy.Redo);
        var checkpoint = Geometry.SegmentOf(control.CheckPointLocation);
        var last = LastValidSegment(data, control);
        var middle = new SegmentNumber(Math.Max(checkpoint.Value + 1, (checkpoint.Value + last.Value) / 2));
        Assert.True(middle.Value < last.Value && middle.Value > checkpoint.Value, $"redo {redo.Value}, checkpoint {checkpoint.Value}, middle {middle.Value}, last {last.Value}");
        return new Built(data, acks, control, redo, checkpoint, last, middle);
    }

    // At least eight segments of WAL after the checkpoint record's segment, and the last one at
    // least a quarter full (so it holds records with others after them).
    private static bool EnoughWal(string data)
    {
        if (!TryReadControl(data, out var control))
            return false;
        // A checkpoint of the workload's (not the bootstrap one), so the data files hold its pages.
        if (control!.CheckPointLocation <= Geometry.SegmentStart(new SegmentNumber(1)) + (ulong)PageHeader.LongSize)
            return false;
        var last = LastValidSegment(data, control);
        if (last.Value < Geometry.SegmentOf(control.CheckPointLocation).Value + 8)
            return false;
        var page = new byte[WalGeometry.PageSize];
        var wal = new FileSystemWalStorage(Path.Combine(data, "pg_wal"));
        string name = SegmentFileName.Format(control.CheckPointCopy.ThisTimeline, last, Geometry);
        const int QuarterPage = 32;
        return wal.Read(name, QuarterPage * WalGeometry.PageSize, page) == page.Length
            && SegmentProbe.ClassifyPage(page, Geometry.SegmentStart(last) + QuarterPage * WalGeometry.PageSize, Geometry, control.SystemIdentifier) == PageContent.Valid;
    }

    private static SegmentNumber LastValidSegment(string data, ControlFileData control)
    {
        ulong last = 0;
        var wal = new FileSystemWalStorage(Path.Combine(data, "pg_wal"));
        foreach (var name in wal.ListFiles())
        {
            if (SegmentFileName.TryParse(name, Geometry, out _, out var segment) && segment.Value > last
                && SegmentProbe.ClassifySegment((o, p) => wal.Read(name, o, p), segment, Geometry, control.SystemIdentifier) == SegmentContent.Valid)
                last = segment.Value;
        }
        return new SegmentNumber(last);
    }

    public static ControlFileData ReadControl(string data)
    {
        Assert.True(TryReadControl(data, out var control));
        return control!;
    }

    private static bool TryReadControl(string data, out ControlFileData? control)
    {
        var bytes = new byte[ControlFileData.FileSize];
        int n = new FileSystemDataDirectory(data).Control.Read(bytes);
        return ControlFileData.TryRead(bytes.AsSpan(0, Math.Max(n, 0)), out control, out _);
    }

    private static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            if (Path.GetFileName(file) != "postmaster.pid")
                File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
        foreach (var sub in Directory.GetDirectories(from))
            Copy(sub, Path.Combine(to, Path.GetFileName(sub)));
    }

    public void Dispose() => _root.Dispose();
}
