// Pglz: PostgreSQL's built-in LZ compressor ("pglz"), used for WAL full-page images when
// wal_compression = pglz. It mirrors src/common/pg_lzcompress.c of PostgreSQL 15 byte for byte:
// control bytes carrying 8 literal/tag flags LSB first, 2-byte tags (4-bit length-3, 12-bit
// offset) or 3-byte tags (length nibble 0xF plus an extension byte for lengths 18..273), a
// 4096-entry history of hash chains over 512..8192 buckets, and PGLZ_strategy_default's limits.
// The bucket hash treats input bytes as signed, as C's plain `char` is on x86-64, so the output
// equals what an x86-64 PostgreSQL server writes (an ARM build, where char is unsigned, can
// choose different matches; both decode with either implementation).
using System.Runtime.CompilerServices;

namespace PgWal.Compression;

/// <summary>
/// PostgreSQL's pglz compression format: <see cref="Compress"/> reproduces <c>pglz_compress</c>
/// with <c>PGLZ_strategy_default</c>, <see cref="Decompress"/> reproduces <c>pglz_decompress</c>.
/// </summary>
/// <remarks>Thread-safe: the compressor's history table is a per-thread reusable buffer.</remarks>
public static class Pglz
{
    // PGLZ_strategy_default.
    private const int MinInputSize = 32;       // shorter inputs are not compressed
    private const int MinCompressionRate = 25; // the result must save at least 25%
    private const int FirstSuccessBy = 1024;   // give up if no match before 1 kB of output
    private const int MatchSizeGood = 128;     // stop searching a chain once a match is this long...
    private const int MatchSizeDrop = 10;      // ...lowering that bar by 10% per visited entry

    private const int MaxHistoryLists = 8192;  // hash buckets for inputs of 1 kB and more
    private const int HistorySize = 4096;      // history entries; entry 0 means "none"
    private const int MaxMatch = 273;          // 18 + 255, the longest 3-byte tag
    private const int MaxOffset = 0x0fff;      // offsets must stay below this (12-bit field)

    /// <summary>One history entry: a position of the input, linked into its bucket's chain.</summary>
    private struct HistEntry
    {
        public short Next;      // older entry of the same bucket, 0 = end of chain
        public short Prev;      // newer entry of the same bucket, 0 = this entry is the head
        public short Bucket;    // the bucket this entry is linked into
        public int Position;    // input offset this entry stands for
    }

    /// <summary>The compressor's work arrays, reused by every call made on one thread.</summary>
    private sealed class History
    {
        public readonly short[] Heads = new short[MaxHistoryLists];
        public readonly HistEntry[] Entries = new HistEntry[HistorySize + 1];
    }

    [ThreadStatic]
    private static History? t_history;

    /// <summary>
    /// The destination size <see cref="Compress"/> needs for a source of <paramref name="length"/>
    /// bytes (PostgreSQL's <c>PGLZ_MAX_OUTPUT</c>: the length plus 4 bytes of slop).
    /// </summary>
    /// <param name="length">Length of the uncompressed input.</param>
    /// <returns><paramref name="length"/> + 4.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The length is negative or the result would overflow.</exception>
    public static int MaxCompressedSize(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, int.MaxValue - 4);
        return length + 4;
    }

    /// <summary>
    /// How many compressed bytes can be needed to decode the first <paramref name="rawSize"/>
    /// bytes of a value (PostgreSQL's <c>pglz_maximum_compressed_size</c>): all-literal output
    /// (9 bits per byte, rounded up) plus 2 bytes for a tag that may straddle the end, capped at
    /// <paramref name="totalCompressedSize"/>.
    /// </summary>
    /// <param name="rawSize">Number of decompressed bytes wanted.</param>
    /// <param name="totalCompressedSize">Size of the whole compressed value.</param>
    /// <returns>The number of leading compressed bytes that suffices.</returns>
    public static int MaximumCompressedSize(int rawSize, int totalCompressedSize)
    {
        long size = ((long)rawSize * 9 + 7) / 8 + 2;
        return (int)Math.Min(size, totalCompressedSize);
    }

    /// <summary>
    /// Compresses <paramref name="source"/> exactly as PostgreSQL's <c>pglz_compress</c> does with
    /// <c>PGLZ_strategy_default</c>.
    /// </summary>
    /// <param name="source">The data to compress.</param>
    /// <param name="destination">
    /// Output buffer of at least <see cref="MaxCompressedSize"/>(<paramref name="source"/>.Length)
    /// bytes. Its contents are unspecified when the method returns -1.
    /// </param>
    /// <returns>
    /// The compressed length, or -1 when PostgreSQL would not compress: the source is shorter than
    /// 32 bytes, no match was found within the first 1024 output bytes, or the output would not
    /// be at least 25% smaller than the source.
    /// </returns>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too small.</exception>
    public static int Compress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        int slen = source.Length;
        if (slen < MinInputSize)
            return -1;
        if (destination.Length < MaxCompressedSize(slen))
            throw new ArgumentException("Destination must hold MaxCompressedSize(source.Length) bytes.", nameof(destination));

        // The output must be strictly shorter than this (integer maths exactly as in C).
        int resultMax = slen > int.MaxValue / 100
            ? slen / 100 * (100 - MinCompressionRate)
            : slen * (100 - MinCompressionRate) / 100;

        int mask = (slen < 128 ? 512 : slen < 256 ? 1024 : slen < 512 ? 2048 : slen < 1024 ? 4096 : 8192) - 1;

        History history = t_history ??= new History();
        Span<short> heads = history.Heads.AsSpan(0, mask + 1);
        heads.Clear();
        Span<HistEntry> entries = history.Entries;
        int histNext = 1;
        bool recycle = false;

        int bp = 0;             // output position
        int ctrlPos = -1;       // where the current control byte goes (-1: not allocated yet)
        int ctrlBits = 0;       // the current control byte's value so far
        int ctrlBit = 0;        // the bit for the next item; 0 (or 0x100) means "start a new byte"
        bool foundMatch = false;
        int dp = 0;

        while (dp < slen)
        {
            // Checked once per item; an item emits at most 4 bytes, hence PGLZ_MAX_OUTPUT's slop.
            if (bp >= resultMax)
                return -1;
            if (!foundMatch && bp >= FirstSuccessBy)
                return -1;

            if ((ctrlBit & 0xff) == 0)
            {
                if (ctrlPos >= 0)
                    destination[ctrlPos] = (byte)ctrlBits;
                ctrlPos = bp++;
                ctrlBits = 0;
                ctrlBit = 1;
            }

            int bucket = Bucket(source, dp, mask);
            int matchLen = FindMatch(source, dp, heads[bucket], entries, out int matchOff);
            if (matchLen > 2)
            {
                ctrlBits |= ctrlBit;
                if (matchLen > 17)
                {
                    destination[bp] = (byte)(((matchOff & 0xf00) >> 4) | 0x0f);
                    destination[bp + 1] = (byte)matchOff;
                    destination[bp + 2] = (byte)(matchLen - 18);
                    bp += 3;
                }
                else
                {
                    destination[bp] = (byte)(((matchOff & 0xf00) >> 4) | (matchLen - 3));
                    destination[bp + 1] = (byte)matchOff;
                    bp += 2;
                }

                AddHistory(heads, entries, ref histNext, ref recycle, dp, bucket);
                for (int end = dp + matchLen, p = dp + 1; p < end; p++)
                    AddHistory(heads, entries, ref histNext, ref recycle, p, Bucket(source, p, mask));
                dp += matchLen;
                foundMatch = true;
            }
            else
            {
                destination[bp++] = source[dp];
                AddHistory(heads, entries, ref histNext, ref recycle, dp, bucket);
                dp++;
            }
            ctrlBit <<= 1;
        }

        destination[ctrlPos] = (byte)ctrlBits;
        return bp >= resultMax ? -1 : bp;
    }

    /// <summary>
    /// Decompresses pglz data exactly as PostgreSQL's <c>pglz_decompress</c> does, stopping when
    /// either the source is consumed or <paramref name="destination"/> is full. Never reads or
    /// writes outside the given spans, whatever the input.
    /// </summary>
    /// <param name="source">The compressed data.</param>
    /// <param name="destination">Receives the output; its length is the wanted raw size.</param>
    /// <param name="checkComplete">
    /// When true, the result is -1 unless the source was consumed to its last byte and the
    /// destination filled to its last byte (the check PostgreSQL applies to full-page images).
    /// </param>
    /// <returns>The number of bytes written, or -1 if the data is corrupt.</returns>
    public static int Decompress(ReadOnlySpan<byte> source, Span<byte> destination, bool checkComplete)
    {
        int sp = 0, dp = 0;
        int slen = source.Length, dlen = destination.Length;

        while (sp < slen && dp < dlen)
        {
            int ctrl = source[sp++];
            for (int item = 0; item < 8 && sp < slen && dp < dlen; item++, ctrl >>= 1)
            {
                if ((ctrl & 1) == 0)
                {
                    destination[dp++] = source[sp++];
                    continue;
                }

                // A tag: 2 bytes, or 3 when the length nibble is 0xF.
                if (slen - sp < 2)
                    return -1;
                int len = (source[sp] & 0x0f) + 3;
                int off = ((source[sp] & 0xf0) << 4) | source[sp + 1];
                sp += 2;
                if (len == 18)
                {
                    if (sp >= slen)
                        return -1;
                    len += source[sp++];
                }
                if (off == 0 || off > dp)
                    return -1;
                len = Math.Min(len, dlen - dp);

                // Copy len bytes from dp - off. While the regions overlap, copy the off bytes that
                // form one period of the repetition and double the period; the source start stays put.
                while (off < len)
                {
                    destination.Slice(dp - off, off).CopyTo(destination.Slice(dp));
                    len -= off;
                    dp += off;
                    off += off;
                }
                destination.Slice(dp - off, len).CopyTo(destination.Slice(dp));
                dp += len;
            }
        }

        if (checkComplete && (dp != dlen || sp != slen))
            return -1;
        return dp;
    }

    /// <summary>
    /// pglz_hist_idx: the bucket for the 4 bytes at <paramref name="pos"/> (or the one byte, near the
    /// end). Bytes are sign-extended like x86-64's signed <c>char</c>, which matters after masking.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Bucket(ReadOnlySpan<byte> s, int pos, int mask)
    {
        if (s.Length - pos < 4)
            return (sbyte)s[pos] & mask;
        return (((sbyte)s[pos] << 6) ^ ((sbyte)s[pos + 1] << 4) ^ ((sbyte)s[pos + 2] << 2) ^ (sbyte)s[pos + 3]) & mask;
    }

    /// <summary>
    /// pglz_hist_add: makes the next history entry (unlinking it from its old chain once the table
    /// has wrapped) the head of <paramref name="bucket"/>'s chain for position <paramref name="pos"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddHistory(Span<short> heads, Span<HistEntry> entries, ref int histNext, ref bool recycle, int pos, int bucket)
    {
        ref HistEntry e = ref entries[histNext];
        if (recycle)
        {
            // The recycled entry is the oldest, hence the tail of its chain. As in C, entry 0
            // doubles as the "none" sentinel whose Prev may be scribbled on harmlessly.
            if (e.Prev == 0)
                heads[e.Bucket] = e.Next;
            else
                entries[e.Prev].Next = e.Next;
            entries[e.Next].Prev = e.Prev;
        }

        short head = heads[bucket]; // read after unlinking: the old chain may be this bucket's
        e.Next = head;
        e.Prev = 0;
        e.Bucket = (short)bucket;
        e.Position = pos;
        entries[head].Prev = (short)histNext;
        heads[bucket] = (short)histNext;
        if (++histNext > HistorySize)
        {
            histNext = 1;
            recycle = true;
        }
    }

    /// <summary>
    /// pglz_find_match: walks the chain starting at entry <paramref name="entryNo"/> (newest first)
    /// for the longest earlier occurrence of the input at <paramref name="pos"/>, giving up on
    /// offsets of 0x0fff and beyond and accepting shorter matches the longer the walk gets.
    /// </summary>
    /// <returns>The best match length (only a length above 2 is a usable match).</returns>
    private static int FindMatch(ReadOnlySpan<byte> source, int pos, int entryNo, ReadOnlySpan<HistEntry> entries, out int offset)
    {
        int len = 0, off = 0;
        int goodMatch = MatchSizeGood;
        ReadOnlySpan<byte> input = source.Slice(pos, Math.Min(source.Length - pos, MaxMatch));

        while (entryNo != 0)
        {
            ref readonly HistEntry e = ref entries[entryNo];
            int thisOff = pos - e.Position;
            if (thisOff >= MaxOffset)
                break;

            // C compares byte by byte, or via memcmp of the best length first once that is 16 or
            // more; either way a candidate only counts if its full (capped) match length is longer,
            // so one whose byte at index len differs can be skipped without comparing the rest.
            if (len < input.Length && source[e.Position + len] == input[len])
            {
                int thisLen = input.CommonPrefixLength(source.Slice(e.Position, input.Length));
                if (thisLen > len)
                {
                    len = thisLen;
                    off = thisOff;
                }
            }

            entryNo = e.Next;
            if (entryNo != 0)
            {
                if (len >= goodMatch)
                    break;
                goodMatch -= goodMatch * MatchSizeDrop / 100;
            }
        }

        offset = off;
        return len;
    }
}
