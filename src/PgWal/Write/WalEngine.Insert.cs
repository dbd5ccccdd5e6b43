// WalEngine.Insert: XLogInsertRecord and CopyXLogRecordToWAL. Assembly (and the payload CRC) happen
// before any lock; under an insertion lock the record only reserves space, gets xl_prev and the
// header CRC, and is copied into buffer pages — marking continuation pages (xlp_rem_len,
// XLP_FIRST_IS_CONTRECORD) exactly as PostgreSQL does, so the reader and pg_waldump see the same
// bytes as from the single-threaded writer.
using PgWal.Format;
using PgWal.Insert;

namespace PgWal.Write;

public sealed partial class WalEngine
{
    [ThreadStatic] private static RecordAssembler? t_assembler;

    /// <summary>Inserts the builder's record; returns its end LSN (flush up to it to make it durable).</summary>
    /// <exception cref="WalFaultedException">A write or sync failed, now or earlier.</exception>
    /// <exception cref="RecordTooLargeException">The record exceeds the size limit; nothing was inserted.</exception>
    public Lsn Insert(RecordBuilder builder) => Insert(builder, out _);

    /// <summary>Inserts the builder's record; returns its end LSN and, in <paramref name="start"/>, its LSN.</summary>
    /// <exception cref="WalFaultedException">A write or sync failed, now or earlier.</exception>
    /// <exception cref="RecordTooLargeException">The record exceeds the size limit; nothing was inserted.</exception>
    public unsafe Lsn Insert(RecordBuilder builder, out Lsn start)
    {
        ArgumentNullException.ThrowIfNull(builder);
        _fault.ThrowIfSet();
        while (true)
        {
            // Decide images against the redo pointer seen now; re-checked under the insertion lock,
            // since a checkpoint may move it in between (it changes only under all the locks).
            Lsn redo = RedoPointer;
            bool doPageWrites = DoPageWrites;
            var record = Assembler().Assemble(builder, redo, doPageWrites, out Lsn fpwLsn);
            ulong size = WalGeometry.MaxAlign((ulong)record.Length);
            int slot = _locks.Acquire();
            try
            {
                ThrowIfClosed();
                bool nowDoPageWrites = DoPageWrites;
                if (nowDoPageWrites && (!doPageWrites || (fpwLsn != Lsn.Invalid && fpwLsn <= RedoPointer)))
                    continue;   // a page now needs an image this assembly left out: start over
                _position.Reserve(size, out var startPos, out var prev);
                ThrowIfAddressSpaceExhausted(startPos.Value + size);
                start = _geometry.ToRecordStart(startPos);
                record.Complete(prev);
                Copy(slot, record.Bytes, start);
                _locks.AddStats(slot, (long)size, record.ImageCount);
                Lsn end = _geometry.ToRecordEnd(startPos + size);
                // Write-behind: when a quarter of the ring is unwritten, the background writer writes it
                // (on another core) before inserters run out of free pages and must write it themselves.
                if (_background != null && end.Value - _writer.WrittenUpTo.Value > _writeBehindBytes)
                    _background.Wake();
                return end;
            }
            catch (Exception e) when (WalFault.IsStorageFailure(e))
            {
                throw _fault.Set(e);
            }
            finally
            {
                _locks.Release(slot);
            }
        }
    }

    /// <summary>
    /// Ends the current segment with an XLOG SWITCH record; the next record starts in the next
    /// segment (the rest of this one is zeros). Returns the switch record's position (End = its end,
    /// as pg_switch_wal reports), or Start = End = the current position when already at a segment start.
    /// </summary>
    /// <exception cref="WalFaultedException">A write or sync failed, now or earlier.</exception>
    public InsertResult SwitchSegment() => SwitchSegment(markUnimportant: false);

    /// <summary>
    /// <see cref="SwitchSegment()"/>; with <paramref name="markUnimportant"/> (archive_timeout's
    /// switch, XLOG_MARK_UNIMPORTANT) the switch alone does not count as WAL written since a
    /// position (<see cref="HasImportantWalSince"/>), so an idle instance neither checkpoints nor
    /// switches again because of it.
    /// </summary>
    /// <exception cref="WalFaultedException">A write or sync failed, now or earlier.</exception>
    public unsafe InsertResult SwitchSegment(bool markUnimportant)
    {
        _fault.ThrowIfSet();
        var record = Assembler().Assemble(new RecordBuilder().Begin(RmgrIds.Xlog, XlogInfo.Switch));
        _locks.AcquireAll();
        try
        {
            ThrowIfClosed();
            if (!_position.ReserveSwitch(WalGeometry.MaxAlign((ulong)record.Length), out var startPos, out var endPos, out var prev))
                return new InsertResult(_geometry.ToRecordEnd(startPos), _geometry.ToRecordEnd(startPos));
            ThrowIfAddressSpaceExhausted(endPos.Value);
            Lsn start = _geometry.ToRecordStart(startPos);
            record.Complete(prev);
            Lsn copied = Copy(InsertionLocks.Exclusive, record.Bytes, start);
            // The rest of the segment is written as all-zero pages (no headers), like PostgreSQL.
            Lsn segmentEnd = _geometry.ToRecordEnd(endPos);
            for (Lsn page = WalGeometry.PageCeiling(copied); page < segmentEnd; page += WalGeometry.PageSize)
                new Span<byte>(_ring.Get(page, _locks, InsertionLocks.Exclusive), PageHeader.ShortSize).Clear();
            _locks.AddStats(InsertionLocks.Exclusive, (long)(endPos.Value - startPos.Value), 0);
            _unimportantSwitch = markUnimportant ? new UnimportantSwitch(_geometry.ToRecordEnd(startPos), segmentEnd) : null;
            return new InsertResult(start, SwitchRecordEnd(start));
        }
        catch (Exception e) when (WalFault.IsStorageFailure(e))
        {
            throw _fault.Set(e);
        }
        finally
        {
            _locks.Release(InsertionLocks.Exclusive);
        }
    }

    // The last switch, when it was unimportant: inserted from the position From (everything before
    // it) to To (the next segment's start). Written under all insertion locks; a later important
    // record leaves it in place but moves InsertedUpTo beyond To.
    private sealed record UnimportantSwitch(Lsn From, Lsn To);
    private volatile UnimportantSwitch? _unimportantSwitch;

    /// <summary>
    /// Whether WAL other than an unimportant switch was inserted after <paramref name="position"/>
    /// (GetLastImportantRecPtr compared with it): what decides whether an idle checkpoint or an
    /// archive_timeout switch is skipped.
    /// </summary>
    public bool HasImportantWalSince(Lsn position)
    {
        Lsn now = InsertedUpTo;
        if (now <= position)
            return false;
        return _unimportantSwitch is not { } s || s.To != now || s.From != position;
    }

    // Called right after a reservation, under its insertion lock: a reservation that ends past the
    // last usable segment is never copied; the engine faults (nothing after it can be written, and
    // LSNs must not wrap to 0/0), so the flushes acknowledged so far stay the end of the WAL.
    private void ThrowIfAddressSpaceExhausted(ulong reservedEnd)
    {
        if (reservedEnd > _usableLimit)
            throw _fault.Set(new IOException($"WAL address space exhausted: no record can end beyond {_geometry.EndOfAddressSpace}"));
    }

    // XLogInsertRecord's EndPos for a switch: the record's own end, past a page header it crossed.
    private Lsn SwitchRecordEnd(Lsn start)
    {
        Lsn end = start + RecordHeader.Size;
        if (start.Value / WalGeometry.PageSize != end.Value / WalGeometry.PageSize)
            end += (ulong)_geometry.PageHeaderSizeAt(WalGeometry.PageStart(end));
        return end;
    }


    private RecordAssembler Assembler()
    {
        var compression = _compression;
        var assembler = t_assembler ??= new RecordAssembler(compression);
        if (assembler.Compression != compression)
            assembler.Compression = compression;
        return assembler;
    }

    // CopyXLogRecordToWAL. Returns the LSN after the last byte copied.
    private unsafe Lsn Copy(int slot, ReadOnlySpan<byte> record, Lsn start)
    {
        Lsn cursor = start;
        int written = 0;
        byte* target = _ring.Get(cursor, _locks, slot);
        int free = WalGeometry.PageSize - WalGeometry.OffsetInPage(cursor);
        while (record.Length - written > free)
        {
            record.Slice(written, free).CopyTo(new Span<byte>(target, free));
            written += free;
            cursor = WalGeometry.PageStart(cursor) + WalGeometry.PageSize;
            target = _ring.Get(cursor, _locks, slot);
            PageHeader.MarkContinuation(new Span<byte>(target, PageHeader.ShortSize), (uint)(record.Length - written));
            int header = _geometry.PageHeaderSizeAt(cursor);
            target += header;
            cursor += (ulong)header;
            free = WalGeometry.PageSize - header;
        }
        int rest = record.Length - written;
        record[written..].CopyTo(new Span<byte>(target, rest));
        return cursor + (ulong)rest;
    }
}
