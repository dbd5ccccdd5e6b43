// RecordDescribers: the table pg_waldump consults (rmgrdesc.c): PostgreSQL's builtin resource
// managers by id, application describers registered for custom ids 128..255, and for unregistered
// custom ids the generic "custom###" name with description "rmid: N", exactly as pg_waldump 15.
using PgWal.Diagnostics.Text;
using PgWal.Format;
using PgWal.Read;
using PgWal.Rmgr.Describe;

namespace PgWal.Rmgr;

/// <summary>Maps resource manager ids to describers.</summary>
public sealed class RecordDescribers
{
    private readonly IRecordDescriber[] _table = new IRecordDescriber[256];

    /// <summary>A table with PostgreSQL's builtin describers and generic custom ones.</summary>
    public RecordDescribers()
    {
        for (int id = 0; id < 256; id++)
            _table[id] = RmgrIds.IsBuiltin((byte)id) ? BuiltinDescribers.Create((byte)id) : new UnknownCustomDescriber((byte)id);
    }

    /// <summary>The describer for <paramref name="rmgrId"/>.</summary>
    public IRecordDescriber this[byte rmgrId] => _table[rmgrId];

    /// <summary>Registers an application describer for a custom id (128–255).</summary>
    public void Register(byte rmgrId, IRecordDescriber describer)
    {
        ArgumentNullException.ThrowIfNull(describer);
        if (!RmgrIds.IsCustom(rmgrId))
            throw new ArgumentOutOfRangeException(nameof(rmgrId), rmgrId, "custom resource manager ids are 128..255");
        _table[rmgrId] = describer;
    }

    /// <summary>A custom resource manager pg_waldump knows nothing about.</summary>
    private sealed class UnknownCustomDescriber(byte id) : IRecordDescriber
    {
        public string Name { get; } = $"custom{id:D3}";

        public string? Identify(byte info) => null;

        public void Describe(DecodedRecord record, TextBuffer output) => output.Append("rmid: "u8).AppendUInt(id);
    }
}
