// TarExtractor: unpacks the ustar stream of a BASE_BACKUP archive into a directory as bytes
// arrive, in any chunking. Every header is checked before anything is written: its checksum, the
// ustar magic, an octal size, a type PostgreSQL sends (file, directory, symlink), and a name that
// stays inside the target (no absolute path, no "..", no NUL). The archive must end with its two
// zero blocks and nothing after them ("tar file trailer exceeds 2 blocks"); Finish reports a
// truncated archive. Only the tablespace symlinks in pg_tblspc may point outside.
using System.Buffers;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace PgWal.Replication.Client;

/// <summary>Extracts a tar stream into a directory.</summary>
public sealed class TarExtractor : IDisposable
{
    private const int Block = 512;

    private readonly string _root;
    private readonly UnixFileMode _fileMode, _directoryMode;
    private readonly byte[] _header = new byte[Block];
    private int _headerFill;
    private SafeFileHandle? _file;      // the member being written
    private string _member = "";
    private long _remaining;            // bytes of the member's data still to come
    private long _written;
    private int _padding;               // zero bytes after the data, up to the block boundary
    private int _zeroBlocks;

    /// <summary>Extracts into <paramref name="root"/> (created if missing).</summary>
    public TarExtractor(string root, UnixFileMode fileMode, UnixFileMode directoryMode)
    {
        _root = Path.GetFullPath(root);
        _fileMode = fileMode;
        _directoryMode = directoryMode;
        Directory.CreateDirectory(_root);
    }

    /// <summary>Files written (for the final fsync).</summary>
    public List<string> Files { get; } = [];

    /// <summary>Takes the next bytes of the archive.</summary>
    /// <exception cref="InvalidDataException">A header is invalid, or data follows the trailer.</exception>
    public void Write(ReadOnlySequence<byte> data)
    {
        foreach (var piece in data)
            Write(piece.Span);
    }

    private void Write(ReadOnlySpan<byte> data)
    {
        while (data.Length > 0)
        {
            if (_remaining > 0)
            {
                int n = (int)Math.Min(_remaining, data.Length);
                RandomAccess.Write(_file!, data[..n], _written);
                _written += n;
                _remaining -= n;
                data = data[n..];
                if (_remaining == 0)
                    CloseMember();
                continue;
            }
            if (_padding > 0)
            {
                int n = Math.Min(_padding, data.Length);
                _padding -= n;
                data = data[n..];
                continue;
            }
            int take = Math.Min(Block - _headerFill, data.Length);
            data[..take].CopyTo(_header.AsSpan(_headerFill));
            _headerFill += take;
            data = data[take..];
            if (_headerFill == Block)
            {
                _headerFill = 0;
                Header();
            }
        }
    }

    private void Header()
    {
        if (_header.AsSpan().IndexOfAnyExcept((byte)0) < 0)
        {
            if (++_zeroBlocks > 2)
                throw new InvalidDataException("tar file trailer exceeds 2 blocks");
            return;
        }
        if (_zeroBlocks > 0)
            throw new InvalidDataException("data after the end of the tar archive");
        if (!ChecksumMatches())
            throw new InvalidDataException($"invalid tar header checksum after member \"{_member}\"");
        if (!_header.AsSpan(257, 5).SequenceEqual("ustar"u8))
            throw new InvalidDataException($"tar header after member \"{_member}\" is not ustar");
        string name = Field(345, 155) is { Length: > 0 } prefix ? prefix + "/" + Field(0, 100) : Field(0, 100);
        long size = Octal(124, 12, name);
        byte type = _header[156];
        string path = Resolve(name);
        _member = name;
        switch (type)
        {
            case (byte)'0' or 0:
                OpenMember(path, size);
                break;
            case (byte)'5':
                if (size != 0)
                    throw new InvalidDataException($"tar directory entry \"{name}\" has size {size}");
                CreateDirectory(path);
                break;
            case (byte)'2':
            {
                string target = Field(157, 100);
                if (!name.TrimEnd('/').StartsWith("pg_tblspc/", StringComparison.Ordinal) || target.Length == 0)
                    throw new InvalidDataException($"symbolic link \"{name}\" outside pg_tblspc");
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.CreateSymbolicLink(path, target);
                break;
            }
            default:
                throw new InvalidDataException($"tar member \"{name}\" has unsupported type '{(char)type}'");
        }
    }

    private void OpenMember(string path, long size)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        _file = File.OpenHandle(path, FileMode.Create, FileAccess.Write);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, _fileMode);
        Files.Add(path);
        _written = 0;
        _remaining = size;
        _padding = (int)((Block - size % Block) % Block);
        if (size == 0)
            CloseMember();
    }

    private void CloseMember()
    {
        _file?.Dispose();
        _file = null;
    }

    private void CreateDirectory(string path)
    {
        Directory.CreateDirectory(path);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, _directoryMode);
    }

    // The member's path under the root; names that would leave it are refused.
    private string Resolve(string name)
    {
        string relative = name.StartsWith("./", StringComparison.Ordinal) ? name[2..] : name;
        relative = relative.TrimEnd('/');
        if (relative.Length == 0 || relative.StartsWith('/') || relative.Contains('\\')
            || relative.Split('/').Any(part => part is ".." or ""))
            throw new InvalidDataException($"tar member name \"{name}\" is not a relative path inside the backup");
        string full = Path.GetFullPath(Path.Combine(_root, relative));
        if (!full.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new InvalidDataException($"tar member name \"{name}\" escapes the target directory");
        return full;
    }

    private string Field(int offset, int length)
    {
        var span = _header.AsSpan(offset, length);
        int nul = span.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul < 0 ? span : span[..nul]);
    }

    private long Octal(int offset, int length, string name)
    {
        long value = 0;
        bool any = false;
        foreach (byte b in _header.AsSpan(offset, length))
        {
            if (b is 0 or (byte)' ')
            {
                if (any)
                    break;
                continue;
            }
            if (b is < (byte)'0' or > (byte)'7' || value > (long.MaxValue >> 3))
                throw new InvalidDataException($"tar member \"{name}\" has an invalid size field");
            value = (value << 3) | (uint)(b - '0');
            any = true;
        }
        return value;
    }

    private bool ChecksumMatches()
    {
        long sum = 0;
        for (int i = 0; i < Block; i++)
            sum += i is >= 148 and < 156 ? ' ' : _header[i];
        try
        {
            return Octal(148, 8, "checksum") == sum;
        }
        catch (InvalidDataException)
        {
            return false;
        }
    }

    /// <summary>Checks the archive ended properly.</summary>
    /// <exception cref="InvalidDataException">It is truncated.</exception>
    public void Finish()
    {
        if (_remaining > 0 || _headerFill > 0 || _padding > 0)
            throw new InvalidDataException($"tar archive is truncated (in member \"{_member}\")");
        if (_zeroBlocks != 2)
            throw new InvalidDataException("tar archive does not end with two zero blocks");
    }

    /// <inheritdoc/>
    public void Dispose() => CloseMember();
}
