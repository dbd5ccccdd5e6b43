// KvValueTests: values up to the documented 16 MB stored from the shell — `kv put KEY -` from
// standard input and `--value-file` — come back byte for byte from `kv get`; `--hex` round-trips
// binary keys and values (0x00 and 0xFF included) through put, get, scan and delete; a value one
// byte over 16 MB, on standard input or in a file, is a usage error that stores nothing.
using System.Diagnostics;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Cli;

public sealed class KvValueTests
{
    private const int MaxValue = 16 << 20;

    [Fact]
    public void Put_FromStdinAndFromFile_16MB_RoundTrips()
    {
        using var dir = new TempDirectory("kvvalue");
        string data = dir.Combine("data");
        var fromStdin = Value(MaxValue, seed: 1);
        var fromFile = Value(MaxValue, seed: 2);
        string file = dir.Combine("value.bin");
        File.WriteAllBytes(file, fromFile);

        var put = RunWithStdin(["kv", "-D", data, "put", "big:stdin", "-"], fromStdin);
        Assert.True(put.ExitCode == 0, $"put -: exit {put.ExitCode}: {put.Stderr}");
        put = PgTools.Pgwal(["kv", "-D", data, "put", "big:file", "--value-file", file]);
        Assert.True(put.ExitCode == 0, $"put --value-file: exit {put.ExitCode}: {put.Stderr}");

        AssertValue(PgTools.Pgwal(["kv", "-D", data, "get", "big:stdin"]), fromStdin, "the value read from stdin");
        AssertValue(PgTools.Pgwal(["kv", "-D", data, "get", "big:file"]), fromFile, "the value read from the file");
    }

    [Fact]
    public void Put_OneByteOver16MB_IsAUsageError_AndStoresNothing()
    {
        using var dir = new TempDirectory("kvvalue");
        string data = dir.Combine("data"), file = dir.Combine("value.bin");
        var tooBig = Value(MaxValue + 1, seed: 3);
        File.WriteAllBytes(file, tooBig);
        var r = RunWithStdin(["kv", "-D", data, "put", "k", "-"], tooBig);
        CliAssert.CleanError(r, 2, "the value on standard input is longer than 16777216 bytes", "put - of 16 MB + 1");
        r = PgTools.Pgwal(["kv", "-D", data, "put", "k", "--value-file", file]);
        CliAssert.CleanError(r, 2, "a value must be at most 16777216 bytes", "put --value-file of 16 MB + 1");
        Assert.False(Directory.Exists(data));
    }

    [Fact]
    public void Hex_RoundTripsBinaryKeysAndValues()
    {
        using var dir = new TempDirectory("kvhex");
        string data = dir.Combine("data");
        ToolResult Kv(params string[] args) => PgTools.Pgwal(["kv", "-D", data, .. args]);
        Assert.Equal(0, Kv("put", "--hex", "00ff00", "ff00fe0a00").ExitCode);
        Assert.Equal(0, Kv("put", "--hex", "FF", "").ExitCode);   // upper case in, an empty value
        Assert.Equal(0, Kv("put", "--hex", "00", "7f80").ExitCode);

        Assert.Equal("ff00fe0a00\n", Kv("get", "--hex", "00ff00").StdoutText);
        Assert.Equal("ff00fe0a00\n", Kv("get", "--hex", "00FF00").StdoutText);   // hex digits in either case
        Assert.Equal("\n", Kv("get", "--hex", "ff").StdoutText);
        Assert.Equal("00\t7f80\n00ff00\tff00fe0a00\nff\t\n", Kv("scan", "--hex").StdoutText);
        Assert.Equal("00ff00\tff00fe0a00\n", Kv("scan", "--hex", "0001", "ff").StdoutText);
        Assert.Equal("\\x00\t\\x7f\\x80\n", Kv("scan", "--limit", "1").StdoutText);   // without --hex: escaped

        var absent = Kv("get", "--hex", "0000");
        Assert.Equal(1, absent.ExitCode);
        Assert.Equal("pgwal kv get: key \"0000\" not found\n", absent.Stderr);
        Assert.Equal(0, Kv("delete", "--hex", "00ff00").ExitCode);
        var deleted = Kv("delete", "--hex", "00ff00");
        Assert.Equal(1, deleted.ExitCode);
        Assert.Contains("key \"00ff00\" not found", deleted.Stderr);
    }

    // get prints the value's bytes and a newline.
    private static void AssertValue(ToolResult get, byte[] expected, string what)
    {
        Assert.True(get.ExitCode == 0, $"get of {what}: exit {get.ExitCode}: {get.Stderr}");
        Assert.True(get.Stdout.Length == expected.Length + 1 && get.Stdout.AsSpan(0, expected.Length).SequenceEqual(expected) && get.Stdout[^1] == '\n',
            $"{what} came back as {get.Stdout.Length} bytes, not {expected.Length} + newline, or different");
    }

    private static byte[] Value(int length, int seed)
    {
        var value = new byte[length];
        new Random(seed).NextBytes(value);
        value[0] = 0x00;
        value[^1] = 0xFF;
        return value;
    }

    private static ToolResult RunWithStdin(string[] args, byte[] stdin)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "pgwal.dll"));
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        psi.Environment["LC_ALL"] = "C";
        using var p = Process.Start(psi)!;
        var stdout = new MemoryStream();
        var copy = p.StandardOutput.BaseStream.CopyToAsync(stdout);
        var stderr = p.StandardError.ReadToEndAsync();
        try
        {
            p.StandardInput.BaseStream.Write(stdin);
            p.StandardInput.Close();
        }
        catch (IOException)
        {
            // it stopped reading (a value over the limit): its exit code says why
        }
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(2)), "pgwal did not finish");
        copy.Wait();
        return new ToolResult(p.ExitCode, stdout.ToArray(), stderr.Result);
    }
}
