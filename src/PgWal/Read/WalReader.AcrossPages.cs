// WalReader.AcrossPages: a record that continues on following pages is reassembled into a buffer
// (xlogreader.c XLogDecodeNextRecord's contrecord loop): each continuation page must carry
// XLP_FIRST_IS_CONTRECORD and an xlp_rem_len that agrees with what is still missing, and the
// buffer grows only with bytes already read and checked.
using System.Runtime.CompilerServices;
using PgWal.Format;

namespace PgWal.Read;

public sealed partial class WalReader
{
    /// <summary>
    /// Reassembles the record at <paramref name="recPtr"/> (its first page at
    /// <paramref name="pagePtr"/>, <paramref name="available"/> bytes of it in the window), checks its
    /// CRC and points the decoded record at the reassembled bytes. <paramref name="restart"/> is set,
    /// with <paramref name="recPtr"/> moved to the continuation page, when that page says the record
    /// was overwritten (XLP_FIRST_IS_OVERWRITE_CONTRECORD): reading starts again there.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private WalReadError? AssembleAcrossPages(ref Lsn recPtr, Lsn pagePtr, int recOff, uint totalLength, bool gotHeader,
        bool randomAccess, int available, out Lsn nextRecPtr, out bool restart)
    {
        nextRecPtr = Lsn.Invalid;
        restart = false;
        int firstFragment = WalGeometry.PageSize - recOff;
        var error = _window.Ensure(pagePtr, WalGeometry.PageSize, recPtr, out int pageOffset, out _);
        if (error != null)
            return error;
        EnsureAssemblyCapacity(firstFragment);
        _window.Buffer.AsSpan(pageOffset + recOff, firstFragment).CopyTo(_assembly);
        uint gotLength = (uint)firstFragment;
        Lsn contPage = pagePtr;
        uint remaining;
        int contHeaderSize;
        do
        {
            contPage += WalGeometry.PageSize;
            error = _window.Ensure(contPage, PageHeader.ShortSize, recPtr, out int contOffset, out _);
            if (error != null)
                return Aborted(error, recPtr, contPage);
            var contInfo = PageHeader.ReadInfo(_window.Buffer.AsSpan(contOffset));
            if ((contInfo & PageInfo.FirstIsOverwriteContRecord) != 0)
            {
                OverwrittenRecordLsn = recPtr;
                recPtr = contPage;
                restart = true;
                return null;
            }
            if ((contInfo & PageInfo.FirstIsContRecord) == 0)
                return Aborted(_window.Error(CorruptionKind.MissingContinuation, contPage, recPtr,
                    $"there is no contrecord flag at {recPtr}"), recPtr, contPage);
            remaining = PageHeader.ReadRemainingLength(_window.Buffer.AsSpan(contOffset));
            if (remaining == 0 || totalLength != remaining + gotLength)
                return Aborted(_window.Error(CorruptionKind.BadContinuationLength, contPage, recPtr,
                    $"invalid contrecord length {remaining} (expected {(long)totalLength - gotLength}) at {recPtr}"), recPtr, contPage);
            // Like PostgreSQL, trust a length only after the continuation page confirmed it.
            if (totalLength > MaxReadableRecordLength)
                return Aborted(_window.Error(CorruptionKind.RecordTooLong, recPtr, recPtr,
                    $"record length {totalLength} at {recPtr} too long"), recPtr, contPage);
            contHeaderSize = (contInfo & PageInfo.LongHeader) != 0 ? PageHeader.LongSize : PageHeader.ShortSize;
            int chunk = (int)Math.Min(remaining, (uint)(WalGeometry.PageSize - contHeaderSize));
            error = _window.Ensure(contPage, contHeaderSize + chunk, recPtr, out contOffset, out _);
            if (error != null)
                return Aborted(error, recPtr, contPage);
            EnsureAssemblyCapacity((int)gotLength + chunk);
            _window.Buffer.AsSpan(contOffset + contHeaderSize, chunk).CopyTo(_assembly.AsSpan((int)gotLength));
            gotLength += (uint)chunk;
            if (!gotHeader)
            {
                error = ValidateHeader(_assembly, recPtr, randomAccess);
                if (error != null)
                    return Aborted(error, recPtr, contPage);
                gotHeader = true;
            }
        } while (gotLength < totalLength);

        var assembled = _assembly.AsSpan(0, (int)totalLength);
        if (RecordHeader.ComputeCrc(assembled) != RecordHeader.ReadCrc(assembled))
            return Aborted(BadChecksum(recPtr), recPtr, contPage);
        nextRecPtr = contPage + (ulong)contHeaderSize + WalGeometry.MaxAlign((ulong)remaining);
        _record.Reset(recPtr, _assembly, 0);
        return null;
    }
}
