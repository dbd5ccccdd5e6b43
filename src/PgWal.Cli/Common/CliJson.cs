// CliJson: the source-generated System.Text.Json metadata for every `--json` object pgwal prints
// (no reflection, so the native AOT build serializes exactly what the JIT build does). The objects
// are dictionaries of primitives, strings, string arrays and nested dictionaries; each runtime type
// a value may have is registered here — a value of another type fails loudly in both builds.
using System.Text.Json.Serialization;

namespace PgWal.Cli.Common;

[JsonSerializable(typeof(Dictionary<string, object?>))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(ulong))]
[JsonSerializable(typeof(double))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(string[][]))]
[JsonSerializable(typeof(Dictionary<string, object?>[]))]
internal sealed partial class CliJson : JsonSerializerContext
{
    /// <summary>One JSON object on one line.</summary>
    public static string Line(Dictionary<string, object?> value) => System.Text.Json.JsonSerializer.Serialize(value, Default.DictionaryStringObject);
}
