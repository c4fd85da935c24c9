using Apache.Arrow;
using Apache.Arrow.Types;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>Rows of one symbol of a write, with the rows of each file band (<see cref="TableDefinition.BandOf"/>) they fall in.</summary>
internal sealed record SymbolRows(string Symbol, int[] Rows, SortedDictionary<int, List<int>> Bands);

/// <summary>
/// Puts the rows of a write into the table's shape before any lock is taken: columns by name in the
/// table's order, symbols normalised, lineage stamped (<c>ingested_at</c>, <c>run_id</c>, <c>source</c>),
/// null and duplicate keys refused for the whole write. Pure: no I/O.
/// </summary>
internal static class IncomingRows
{
    public static RecordBatch Prepare(TableDefinition table, RecordBatch rows, string? source, string runId, DateTimeOffset now)
    {
        var schema = table.Schema;
        CheckUnexpected(table, rows.Schema);
        var n = rows.Length;
        var arrays = new IArrowArray[schema.FieldsList.Count];
        for (var c = 0; c < arrays.Length; c++)
        {
            var field = schema.FieldsList[c];
            var i = rows.Schema.GetFieldIndex(field.Name, StringComparer.Ordinal);
            if (field.Name == TableDefinition.IngestedAtColumn && field.DataType is TimestampType ts)
            {
                var micros = (now.UtcTicks - DateTime.UnixEpoch.Ticks) / 10;
                arrays[c] = new TimestampArray(ts, Fill(n, micros), ArrowBuffer.Empty, n, 0, 0);
                continue;
            }
            if (field.Name == TableDefinition.RunIdColumn && field.DataType is StringType)
            {
                arrays[c] = Constant(n, runId);
                continue;
            }
            if (field.Name == TableDefinition.SourceColumn && field.DataType is StringType && (source is not null || i < 0))
            {
                var fixedSource = source ?? "unknown";
                arrays[c] = Constant(n, fixedSource);
                continue;
            }
            if (i < 0)
            {
                arrays[c] = field.IsNullable
                    ? RecordBatches.Nulls(field.DataType, n)
                    : throw LakehouseException.Invalid($"missing column '{field.Name}' for {table.Id}");
                continue;
            }
            var array = rows.Column(i);
            CheckType(table, field, array);
            CheckDates(table, field, array);
            if (field.Name == TableDefinition.SourceColumn && array is StringArray given)
            {
                // A row without a source still says where it came from.
                array = Strings(n, r => given.IsNull(r) || given.GetString(r).Length == 0 ? "unknown" : given.GetString(r));
            }
            else
            {
                CheckNulls(table, field, array);
            }
            arrays[c] = field.Name == TableDefinition.SymbolColumn ? NormalizeSymbols((StringArray)array) : array;
        }
        return new RecordBatch(schema, arrays, n);
    }

    /// <summary>Rows grouped by symbol (ordinal order) and band; a key seen twice refuses the whole write.</summary>
    public static List<SymbolRows> Group(TableDefinition table, RecordBatch rows)
    {
        var symbols = (StringArray)rows.Column(TableDefinition.SymbolColumn);
        var dates = (Date32Array)rows.Column(table.DateColumn);
        var extra = table.Key.Skip(2).Select(k => (StringArray)rows.Column(k)).ToArray();
        // By runs of equal symbols (rows come grouped by symbol as a rule): one string and one lookup per run.
        var bySymbol = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        foreach (var (start, count) in RecordBatches.Runs(symbols))
        {
            var s = symbols.GetString(start);
            if (!bySymbol.TryGetValue(s, out var list))
            {
                bySymbol[s] = list = new List<int>(count);
            }
            for (var r = start; r < start + count; r++)
            {
                list.Add(r);
            }
        }
        var days = dates.Values;
        var result = new List<SymbolRows>(bySymbol.Count);
        foreach (var (symbol, list) in bySymbol.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            // Keys rising strictly (one symbol's days in order, no further key column) cannot repeat: the set only
            // when they do not.
            var rising = extra.Length == 0;
            for (var i = 1; i < list.Count && rising; i++)
            {
                rising = days[list[i]] > days[list[i - 1]];
            }
            var seen = rising ? null : new HashSet<(int, string)>();
            var bands = new SortedDictionary<int, List<int>>();
            List<int>? brows = null;
            int bandFirst = int.MaxValue, bandLast = int.MinValue;
            foreach (var r in list)
            {
                var day = days[r];
                if (seen is not null)
                {
                    var rest = extra.Length == 0 ? "" : string.Join('\u001f', extra.Select(e => e.GetString(r)));
                    if (!seen.Add((day, rest)))
                    {
                        var date = DateOnly.FromDayNumber(ArrowRows.UnixEpochDay + day);
                        throw LakehouseException.Invalid(
                            $"duplicate key ({symbol}, {date:yyyy-MM-dd}{(rest.Length == 0 ? "" : ", " + rest.Replace('\u001f', ','))}) in one batch: send each ({string.Join(", ", table.Key)}) once");
                    }
                }
                if (day < bandFirst || day > bandLast)
                {
                    // A new band (or the first): its bounds, so the next rows of it need no date arithmetic.
                    var band = table.BandOf(DateOnly.FromDayNumber(ArrowRows.UnixEpochDay + day));
                    var (first, last) = table.BandBounds(band);
                    (bandFirst, bandLast) = (ArrowRows.DayNumber(first), ArrowRows.DayNumber(last));
                    if (!bands.TryGetValue(band, out brows))
                    {
                        bands[band] = brows = [];
                    }
                }
                brows!.Add(r);
            }
            result.Add(new SymbolRows(symbol, [.. list], bands));
        }
        return result;
    }

    /// <summary>
    /// The checks of <see cref="Prepare"/> and <see cref="Group"/> without building anything: columns,
    /// types, nulls, symbols, and keys across every batch given to the same <paramref name="keys"/>. The
    /// write-ahead log runs it batch by batch while an upload streams in, so a refusal comes before the
    /// acknowledgement and costs one pass over the key columns. Without <paramref name="keys"/> only the
    /// columns are checked (a second table of the same upload: its keys were tracked for the first).
    /// </summary>
    public static void Check(TableDefinition table, RecordBatch rows, string? source, KeyTracker? keys)
    {
        var schema = table.Schema;
        CheckUnexpected(table, rows.Schema);
        foreach (var field in schema.FieldsList)
        {
            if (field.Name is TableDefinition.IngestedAtColumn or TableDefinition.RunIdColumn || (field.Name == TableDefinition.SourceColumn && source is not null))
            {
                continue;
            }
            var i = rows.Schema.GetFieldIndex(field.Name, StringComparer.Ordinal);
            if (i < 0)
            {
                if (!field.IsNullable && field.Name != TableDefinition.SourceColumn)
                {
                    throw LakehouseException.Invalid($"missing column '{field.Name}' for {table.Id}");
                }
                continue;
            }
            var array = rows.Column(i);
            CheckType(table, field, array);
            CheckDates(table, field, array);
            if (field.Name != TableDefinition.SourceColumn)
            {
                CheckNulls(table, field, array);
            }
        }
        keys?.Add(table, rows);
    }

    private static readonly int MinDay = DateOnly.MinValue.DayNumber - ArrowRows.UnixEpochDay;
    private static readonly int MaxDay = DateOnly.MaxValue.DayNumber - ArrowRows.UnixEpochDay;

    /// <summary>A date32 outside 0001-01-01..9999-12-31 is no calendar date: refused for the whole write, naming the row.</summary>
    private static void CheckDates(TableDefinition table, Field field, IArrowArray array)
    {
        if (array is not Date32Array dates)
        {
            return;
        }
        var values = dates.Values;
        for (var r = 0; r < values.Length; r++)
        {
            if ((values[r] < MinDay || values[r] > MaxDay) && !dates.IsNull(r))
            {
                throw LakehouseException.Invalid(
                    $"column '{field.Name}' row {r} is day {values[r]} after 1970-01-01, outside 0001-01-01..9999-12-31: send calendar dates ({table.Id})");
            }
        }
    }

    private static void CheckUnexpected(TableDefinition table, Schema rows)
    {
        foreach (var f in rows.FieldsList)
        {
            if (table.Schema.GetFieldIndex(f.Name, StringComparer.Ordinal) < 0)
            {
                throw LakehouseException.Invalid(
                    $"unexpected column '{f.Name}' for {table.Id}: its columns are {string.Join(", ", table.Schema.FieldsList.Select(x => x.Name))}");
            }
        }
    }

    private static void CheckType(TableDefinition table, Field field, IArrowArray array)
    {
        if (!SameType(array.Data.DataType, field.DataType))
        {
            throw LakehouseException.Invalid($"column '{field.Name}' has type {array.Data.DataType.Name}; {table.Id} stores {field.DataType.Name}");
        }
    }

    private static void CheckNulls(TableDefinition table, Field field, IArrowArray array)
    {
        if (!field.IsNullable && array.NullCount > 0)
        {
            var row = Enumerable.Range(0, array.Length).First(array.IsNull);
            throw table.Key.Contains(field.Name)
                ? LakehouseException.Invalid($"row {row}: key column '{field.Name}' is null; every row needs a {string.Join(", ", table.Key)}")
                : LakehouseException.Invalid($"row {row}: column '{field.Name}' is null; only {string.Join(", ", table.Schema.FieldsList.Where(x => x.IsNullable).Select(x => x.Name))} may be null");
        }
    }

    private static bool SameType(IArrowType a, IArrowType b) => (a, b) switch
    {
        (TimestampType x, TimestampType y) => x.Unit == y.Unit && x.Timezone == y.Timezone,
        _ => a.TypeId == b.TypeId,
    };

    /// <summary>
    /// The symbols normalised; the array itself when every one already is (the usual case). A run of rows
    /// with the same bytes (rows come grouped by symbol) is normalised once.
    /// </summary>
    private static StringArray NormalizeSymbols(StringArray array)
    {
        var n = array.Length;
        string[]? values = null;
        foreach (var (start, count) in RecordBatches.Runs(array))
        {
            var raw = array.GetString(start);
            var normalized = Symbols.Normalize(raw);
            if (values is null && !string.Equals(raw, normalized, StringComparison.Ordinal))
            {
                values = new string[n];
                for (var j = 0; j < start; j++)
                {
                    values[j] = array.GetString(j);
                }
            }
            if (values is not null)
            {
                System.Array.Fill(values, normalized, start, count);
            }
        }
        return values is null ? array : Strings(n, i => values[i]);
    }

    /// <summary>One value on every row (lineage: the run id, the source), built without encoding it n times.</summary>
    private static StringArray Constant(int n, string value)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(value);
        var data = new byte[checked(bytes.Length * n)];
        var offsets = new byte[(n + 1) * sizeof(int)];
        var o = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(offsets.AsSpan());
        for (var i = 0; i < n; i++)
        {
            bytes.CopyTo(data.AsSpan(i * bytes.Length));
            o[i] = i * bytes.Length;
        }
        o[n] = n * bytes.Length;
        return new StringArray(n, new ArrowBuffer(offsets), new ArrowBuffer(data), ArrowBuffer.Empty, 0, 0);
    }

    private static StringArray Strings(int n, Func<int, string> value)
    {
        var b = new StringArray.Builder();
        for (var i = 0; i < n; i++)
        {
            b.Append(value(i));
        }
        return b.Build();
    }

    private static ArrowBuffer Fill(int n, long value)
    {
        var values = new long[n];
        System.Array.Fill(values, value);
        return new ArrowBuffer(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
    }
}

/// <summary>
/// The keys seen so far across the batches of one upload: a bad symbol or a key seen twice refuses it
/// with the same messages as <see cref="IncomingRows.Group"/>. Rows of one symbol usually arrive in date
/// order, so each symbol keeps its last day and only builds a set of days when an older one turns up.
/// </summary>
internal sealed class KeyTracker
{
    private readonly Dictionary<string, SymbolKeys> _symbols = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _normalized = new(StringComparer.Ordinal);
    private HashSet<(string, int, string)>? _wide;

    public int Symbols => _symbols.Count;

    public void Add(TableDefinition table, RecordBatch rows)
    {
        var symbols = (StringArray)rows.Column(TableDefinition.SymbolColumn);
        var dates = (Date32Array)rows.Column(table.DateColumn);
        var extra = table.Key.Skip(2).Select(k => rows.Schema.GetFieldIndex(k, StringComparer.Ordinal) is var i and >= 0 ? (StringArray)rows.Column(i) : null).ToArray();
        ReadOnlySpan<byte> last = default;
        SymbolKeys? current = null;
        var days = dates.Values;
        for (var r = 0; r < rows.Length; r++)
        {
            var bytes = symbols.GetBytes(r);
            if (current is null || !bytes.SequenceEqual(last))
            {
                var raw = symbols.GetString(r);
                if (!_normalized.TryGetValue(raw, out var symbol))
                {
                    _normalized[raw] = symbol = Lakehouse.Flight.Core.Symbols.Normalize(raw);
                }
                if (!_symbols.TryGetValue(symbol, out current))
                {
                    _symbols[symbol] = current = new SymbolKeys(symbol);
                }
                last = bytes;
            }
            if (extra.Length > 0)
            {
                var rest = string.Join('\u001f', extra.Select(e => e?.GetString(r) ?? ""));
                if (!(_wide ??= []).Add((current.Symbol, days[r], rest)))
                {
                    throw Duplicate(table, current.Symbol, days[r], rest);
                }
                continue;
            }
            if (!current.Add(days[r]))
            {
                throw Duplicate(table, current.Symbol, days[r], "");
            }
        }
    }

    private static LakehouseException Duplicate(TableDefinition table, string symbol, int day, string rest)
    {
        var date = DateOnly.FromDayNumber(ArrowRows.UnixEpochDay + day);
        return LakehouseException.Invalid(
            $"duplicate key ({symbol}, {date:yyyy-MM-dd}{(rest.Length == 0 ? "" : ", " + rest.Replace('\u001f', ','))}) in one batch: send each ({string.Join(", ", table.Key)}) once");
    }

    private sealed class SymbolKeys(string symbol)
    {
        private int _last = int.MinValue;
        private HashSet<int>? _days;
        private readonly List<int> _ascending = [];

        public string Symbol { get; } = symbol;

        public bool Add(int day)
        {
            if (_days is not null)
            {
                return _days.Add(day);
            }
            if (day > _last)
            {
                _last = day;
                _ascending.Add(day);
                return true;
            }
            _days = [.. _ascending];
            return _days.Add(day);
        }
    }
}
