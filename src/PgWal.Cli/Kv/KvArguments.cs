// KvArguments: keys and values of `pgwal kv` from the shell. On the command line they are UTF-8
// text, or with --hex an even number of hex digits (any byte, 0x00 and 0xFF included); a value may
// instead come from standard input (VALUE "-") or a file (--value-file), as raw bytes. Sizes are
// checked here against the store's limits (keys 1..1,024 bytes, values up to 16 MB) so that a bad
// one is a usage error naming it, before the store is opened. Output is the inverse: --hex prints
// hex, otherwise get prints the raw bytes and scan escapes what is not printable.
using System.Text;
using PgWal.Cli.Common;
using PgWal.Kv;

namespace PgWal.Cli.Kv;

internal static class KvArguments
{
    /// <summary>A key (<paramref name="name"/> names the argument in messages).</summary>
    public static byte[] Key(string name, string text, bool hex)
    {
        byte[] key = Bytes(name, text, hex);
        if (key.Length is 0 or > KvStore.MaxKeyLength)
            throw new UsageException(CliOptions.Invalid(name, Shorten(text), $"a key must be 1..{KvStore.MaxKeyLength} bytes, got {key.Length}"));
        return key;
    }

    /// <summary>The value of `kv put`: VALUE, "-" (standard input) or --value-file.</summary>
    public static byte[] Value(string? text, string? file, bool hex)
    {
        if (text != null && file != null)
            throw new UsageException("give the value either as VALUE or with --value-file, not both");
        byte[] value;
        if (file != null)
        {
            PathChecks.ExistingFile(file, "value file");
            using var stream = File.OpenRead(file);
            value = ReadAtMost(stream, KvStore.MaxValueLength + 1);
            if (value.Length > KvStore.MaxValueLength)
                throw new UsageException(CliOptions.Invalid("--value-file", file, $"a value must be at most {KvStore.MaxValueLength} bytes, the file holds more"));
            return value;
        }
        if (text == "-")
        {
            using var stdin = Console.OpenStandardInput();
            value = ReadAtMost(stdin, KvStore.MaxValueLength + 1);
            if (value.Length > KvStore.MaxValueLength)
                throw new UsageException($"the value on standard input is longer than {KvStore.MaxValueLength} bytes (the most a value may hold)");
            return value;
        }
        if (text == null)
            throw new UsageException("missing argument VALUE (the value, \"-\" to read it from standard input, or --value-file FILE)");
        value = Bytes("VALUE", text, hex);
        if (value.Length > KvStore.MaxValueLength)
            throw new UsageException(CliOptions.Invalid("VALUE", Shorten(text), $"a value must be at most {KvStore.MaxValueLength} bytes, got {value.Length}"));
        return value;
    }

    /// <summary>An optional scan bound.</summary>
    public static byte[]? Bound(string name, string? text, bool hex) => text == null ? null : Bytes(name, text, hex);

    /// <summary>How a key is shown in messages: hex with --hex, else printable with \xNN escapes.</summary>
    public static string Show(byte[] key, bool hex) => hex ? Convert.ToHexStringLower(key) : Escape(key, 200);

    /// <summary>Printable ASCII as is, backslash and other bytes as \xNN; cut at <paramref name="max"/> bytes.</summary>
    public static string Escape(byte[] bytes, int max)
    {
        var sb = new StringBuilder();
        foreach (byte b in bytes.AsSpan(0, Math.Min(bytes.Length, max)))
        {
            if (b is >= 0x20 and < 0x7F and not (byte)'\\')
                sb.Append((char)b);
            else
                sb.Append($"\\x{b:x2}");
        }
        if (bytes.Length > max)
            sb.Append($"... ({bytes.Length} bytes)");
        return sb.ToString();
    }

    private static byte[] Bytes(string name, string text, bool hex)
    {
        if (!hex)
            return Encoding.UTF8.GetBytes(text);
        if (text.Length % 2 != 0 || !text.All(Uri.IsHexDigit))
            throw new UsageException(CliOptions.Invalid(name, Shorten(text), "--hex wants an even number of hex digits"));
        return Convert.FromHexString(text);
    }

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + $"... ({text.Length} characters)";

    private static byte[] ReadAtMost(Stream stream, int limit)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[1 << 16];
        int n;
        while (buffer.Length < limit && (n = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, limit - buffer.Length))) > 0)
            buffer.Write(chunk, 0, n);
        return buffer.ToArray();
    }
}
