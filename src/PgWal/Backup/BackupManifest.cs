// BackupManifest: PostgreSQL 13+'s backup_manifest, in the server's exact line layout so that
// pg_verifybackup checks it: one file per line, CRC-32C checksums written as the little-endian
// bytes of the value in hex, Last-Modified in GMT, the WAL range(s) the backup needs, and a
// SHA-256 over every byte before "Manifest-Checksum".
using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using PgWal.Format;

namespace PgWal.Backup;

internal sealed class BackupManifest
{
    private readonly List<string> _files = [];
    private readonly List<string> _walRanges = [];

    public int FileCount => _files.Count;

    /// <summary>A file; <paramref name="crc32c"/> null: no checksum (MANIFEST_CHECKSUMS 'NONE').</summary>
    public void AddFile(string relativePath, long size, DateTimeOffset lastModified, uint? crc32c)
    {
        string time = lastModified.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        string line = $"{{ \"Path\": {Json(relativePath)}, \"Size\": {size.ToString(CultureInfo.InvariantCulture)}, \"Last-Modified\": \"{time} GMT\"";
        if (crc32c is { } crc)
        {
            Span<byte> le = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(le, crc);
            line += $", \"Checksum-Algorithm\": \"CRC32C\", \"Checksum\": \"{Convert.ToHexStringLower(le)}\"";
        }
        _files.Add(line + " }");
    }

    public void AddWalRange(TimelineId timeline, Lsn start, Lsn end)
        => _walRanges.Add($"{{ \"Timeline\": {timeline.Value.ToString(CultureInfo.InvariantCulture)}, \"Start-LSN\": \"{start}\", \"End-LSN\": \"{end}\" }}");

    public byte[] ToBytes()
    {
        var text = new StringBuilder();
        text.Append("{ \"PostgreSQL-Backup-Manifest-Version\": 1,\n\"Files\": [");
        AppendList(text, _files);
        text.Append("\"WAL-Ranges\": [");
        AppendList(text, _walRanges);
        text.Append("\"Manifest-Checksum\": \"");
        var body = Encoding.UTF8.GetBytes(text.ToString());
        string checksum = Convert.ToHexStringLower(SHA256.HashData(body.AsSpan(0, body.Length - "\"Manifest-Checksum\": \"".Length)));
        return [.. body, .. Encoding.UTF8.GetBytes(checksum + "\"}\n")];
    }

    private static void AppendList(StringBuilder text, List<string> entries)
    {
        for (int i = 0; i < entries.Count; i++)
            text.Append(i == 0 ? "\n" : ",\n").Append(entries[i]);
        text.Append("\n],\n");
    }

    // escape_json for the characters a path can hold.
    private static string Json(string s)
    {
        var text = new StringBuilder("\"");
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case < ' ': text.Append($"\\u{(int)c:x4}"); break;
                default: text.Append(c); break;
            }
        }
        return text.Append('"').ToString();
    }
}
