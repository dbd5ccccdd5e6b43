// KvArguments: keys and values of `pgwal kv` from the shell, as UTF-8 text. Sizes are checked here
// against the store's limits (keys 1..1,024 bytes, values up to 16 MB) so that a bad one is a
// usage error naming it, before the store is opened. get prints the raw bytes; scan escapes what
// is not printable.
using System.Text;
using PgWal.Cli.Common;
using PgWal.Kv;

namespace PgWal.Cli.Kv;

internal static class KvArguments
{
    /// <summary>A key (<paramref name="name"/> names the argument in messages).</summary>
    public static byte[] Key(string name, string text)
    {
        byte[] key = Encoding.UTF8.GetBytes(text);
        if (key.Length is 0 or > KvStore.MaxKeyLength)
            throw new UsageException(CliOptions.Invalid(name, Shorten(text), $"a key must be 1..{KvStore.MaxKeyLength} bytes, got {key.Length}"));
        return key;
    }

    /// <summary>The value of `kv put`.</summary>
    public static byte[] Value(string text)
    {
        byte[] value = Encoding.UTF8.GetBytes(text);
        if (value.Length > KvStore.MaxValueLength)
            throw new UsageException(CliOptions.Invalid("VALUE", Shorten(text), $"a value must be at most {KvStore.MaxValueLength} bytes, got {value.Length}"));
        return value;
    }

    /// <summary>An optional scan bound.</summary>
    public static byte[]? Bound(string? text) => text == null ? null : Encoding.UTF8.GetBytes(text);

    /// <summary>How a key is shown in messages: printable with \xNN escapes.</summary>
    public static string Show(byte[] key) => Escape(key, 200);

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

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + $"... ({text.Length} characters)";
}
