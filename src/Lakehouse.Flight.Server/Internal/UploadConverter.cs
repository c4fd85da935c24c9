using Apache.Arrow;
using Apache.Arrow.Types;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Server.Internal;

/// <summary>
/// Turns uploaded record batches into batches of a table's schema. The schema is checked first
/// (<see cref="ForSchema"/>), before a single row is read; conversions are lossless or refused:
/// pandas' <c>timestamp[ns]</c> dates must sit exactly on midnight UTC, integers stay integers, and
/// <c>large_utf8</c> and dictionary-encoded strings (pandas categoricals) become utf8. Lineage columns (<c>source</c>, <c>ingested_at</c>) may be sent and
/// are stamped by the store; <c>run_id</c> is the store's alone. Every row's key date must be one the lake
/// accepts (<see cref="LakeDates"/>), in bronze as in silver: one row outside refuses the upload whole.
/// </summary>
internal sealed class UploadConverter
{
    private readonly TableDefinition _table;
    private readonly (int Upload, Field Target)[] _columns;
    private readonly int _dateColumn;
    private readonly DateOnly _today;

    private UploadConverter(TableDefinition table, (int, Field)[] columns, DateOnly today)
    {
        _table = table;
        _columns = columns;
        _today = today;
        _dateColumn = System.Array.FindIndex(columns, c => c.Item2.Name == table.DateColumn);
        var fields = columns.Select(c => c.Item2).ToList();
        Schema = new Schema(fields, null);
    }

    /// <summary>The converted batches' schema: the table's columns the upload carries.</summary>
    public Schema Schema { get; }

    private static IEnumerable<string> Required(TableDefinition table) =>
        table.Schema.FieldsList.Where(f => !f.IsNullable && !TableDefinition.DefaultLineage.Contains(f.Name)).Select(f => f.Name);

    private static IEnumerable<string> Optional(TableDefinition table) =>
        table.Schema.FieldsList.Where(f => f.Name != TableDefinition.RunIdColumn && (f.IsNullable || TableDefinition.DefaultLineage.Contains(f.Name))).Select(f => f.Name);

    /// <summary>Checks names and types; throws InvalidArgument naming the first bad column.</summary>
    /// <param name="table">The table the upload lands in.</param>
    /// <param name="schema">The upload's schema.</param>
    /// <param name="today">The day the accepted dates end after (default: today in UTC, <see cref="LakeDates.Today"/>).</param>
    public static UploadConverter ForSchema(TableDefinition table, Schema schema, DateOnly? today = null)
    {
        var required = Required(table).ToArray();
        var optional = Optional(table).ToArray();
        var columns = new List<(int, Field)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < schema.FieldsList.Count; i++)
        {
            var field = schema.FieldsList[i];
            var name = field.Name.Trim().ToLowerInvariant();
            if (name.StartsWith("__index_level_", StringComparison.Ordinal))
            {
                // pandas' RangeIndex when preserve_index is left on: carries no data of ours.
                continue;
            }
            if (!required.Contains(name) && !optional.Contains(name))
            {
                throw LakehouseException.Invalid(
                    $"unexpected column '{field.Name}': an upload to {table.Name} carries {string.Join(", ", required)} and optionally {string.Join(", ", optional)}");
            }
            if (!seen.Add(name))
            {
                throw LakehouseException.Invalid($"column '{name}' appears twice in the upload");
            }
            var target = table.Schema.GetFieldByName(name);
            CheckType(name, field.DataType, target.DataType, target.IsNullable || TableDefinition.DefaultLineage.Contains(name));
            columns.Add((i, target));
        }
        var missing = required.Where(r => !seen.Contains(r)).ToArray();
        if (missing.Length > 0)
        {
            throw LakehouseException.Invalid(
                $"missing column(s) {string.Join(", ", missing.Select(m => $"'{m}'"))}: an upload to {table.Name} carries {string.Join(", ", required)}");
        }
        return new UploadConverter(table, [.. columns], today ?? LakeDates.Today());
    }

    private static void CheckType(string name, IArrowType type, IArrowType target, bool nullable)
    {
        if (type is NullType)
        {
            // pandas/pyarrow type a column whose every value is None as Arrow's null type: fine where the column may be null.
            if (nullable && target is StringType or Date32Type or DoubleType or Int64Type or Int32Type or TimestampType)
            {
                return;
            }
            throw LakehouseException.Invalid(
                $"column '{name}' has no values (Arrow null type: every value is null); it may not be null: send {Want(target)} values, or leave the column out if it is optional");
        }
        if (type is DictionaryType dictionary)
        {
            CheckDictionary(name, dictionary, target);
            return;
        }
        var id = type.TypeId;
        var ok = target switch
        {
            StringType => id is ArrowTypeId.String or ArrowTypeId.LargeString,
            Date32Type => id is ArrowTypeId.Date32 or ArrowTypeId.Date64 || (type is TimestampType ts && IsUtc(ts)),
            DoubleType => id is ArrowTypeId.Double,
            Int64Type => id is ArrowTypeId.Int64 or ArrowTypeId.Int32 or ArrowTypeId.Int16 or ArrowTypeId.Int8
                or ArrowTypeId.UInt32 or ArrowTypeId.UInt16 or ArrowTypeId.UInt8,
            Int32Type => id is ArrowTypeId.Int32 or ArrowTypeId.Int16 or ArrowTypeId.Int8 or ArrowTypeId.UInt16 or ArrowTypeId.UInt8,
            TimestampType => type is TimestampType t && IsUtc(t),
            _ => false,
        };
        if (ok)
        {
            return;
        }
        throw LakehouseException.Invalid($"column '{name}' has type {Describe(type)}; expected {Want(target)}");
    }

    private static string Want(IArrowType target) => target switch
    {
        StringType => "utf8 or large_utf8",
        Date32Type => "date32, date64 or a UTC/naive timestamp at midnight",
        Int64Type => "an integer type (int64)",
        Int32Type => "an integer type (int32)",
        TimestampType => "a UTC or naive timestamp",
        _ => "float64",
    };

    /// <summary>A dictionary-encoded column (a pandas categorical) is accepted where the table holds strings, if its values are strings.</summary>
    private static void CheckDictionary(string name, DictionaryType type, IArrowType target)
    {
        if (target is not StringType)
        {
            throw LakehouseException.Invalid(
                $"column '{name}' has type {Describe(type)}; expected {Want(target)}: only string columns may be dictionary-encoded, send plain values (in pandas, not a categorical)");
        }
        if (type.ValueType.TypeId is not (ArrowTypeId.String or ArrowTypeId.LargeString))
        {
            throw LakehouseException.Invalid(
                $"column '{name}' has type {Describe(type)}; a dictionary-encoded '{name}' needs utf8 or large_utf8 values (in pandas, a categorical of str)");
        }
    }

    /// <summary>The batch in the table's types; throws InvalidArgument naming the column and row of the first bad value.</summary>
    public RecordBatch Convert(RecordBatch batch, long firstRow)
    {
        var arrays = new IArrowArray[_columns.Length];
        for (var c = 0; c < arrays.Length; c++)
        {
            var (index, target) = _columns[c];
            var array = batch.Column(index) is DictionaryArray dictionary ? Decoded(dictionary, target.Name, firstRow) : batch.Column(index);
            if (!target.IsNullable && !TableDefinition.DefaultLineage.Contains(target.Name) && array.NullCount > 0)
            {
                var row = Enumerable.Range(0, array.Length).First(array.IsNull);
                var nullable = string.Join(", ", _table.Schema.FieldsList.Where(f => f.IsNullable).Select(f => f.Name));
                throw LakehouseException.Invalid($"column '{target.Name}' row {firstRow + row} is null; only {(nullable.Length == 0 ? "no column" : nullable)} may be null");
            }
            arrays[c] = ConvertColumn(target, array, firstRow);
        }
        if (_dateColumn >= 0)
        {
            CheckDates((Date32Array)arrays[_dateColumn], _columns[_dateColumn].Target.Name, firstRow);
        }
        return new RecordBatch(Schema, arrays, batch.Length);
    }

    /// <summary>
    /// The key date of every row inside the lake's dates, bronze included: bronze keeps what it stores for good,
    /// so the whole upload is refused, naming the first such row (docs/decisions.md D34).
    /// </summary>
    private void CheckDates(Date32Array dates, string column, long firstRow)
    {
        var min = ArrowDay(LakeDates.Min);
        var max = ArrowDay(LakeDates.MaxFor(_today));
        var values = dates.Values;
        for (var i = 0; i < values.Length; i++)
        {
            if ((values[i] < min || values[i] > max) && !dates.IsNull(i))
            {
                var day = (long)UnixEpochDay + values[i];
                var what = $"column '{column}' row {firstRow + i}:";
                var reason = day < 0 || day > DateOnly.MaxValue.DayNumber
                    ? $"{what} day {values[i]} after 1970-01-01 is no calendar date"
                    : LakeDates.Reason(DateOnly.FromDayNumber((int)day), what, _today);
                throw LakehouseException.Invalid($"{reason}; the upload was refused whole (nothing was written)");
            }
        }
    }

    private static readonly int UnixEpochDay = new DateOnly(1970, 1, 1).DayNumber;

    private static int ArrowDay(DateOnly date) => date.DayNumber - UnixEpochDay;

    private static IArrowArray ConvertColumn(Field target, IArrowArray array, long firstRow) => (target.DataType, array) switch
    {
        (StringType, LargeStringArray large) => Strings(large),
        (Date32Type, Date64Array d64) => Dates(d64.Length, i => d64.IsNull(i) ? null : d64.GetValue(i), 86_400_000L, "date64", target.Name, firstRow),
        (Date32Type, TimestampArray ts) => Dates(ts.Length, i => ts.IsNull(i) ? null : ts.GetValue(i), PerDay(((TimestampType)ts.Data.DataType).Unit),
            "timestamp", target.Name, firstRow),
        (Int64Type, Int64Array) or (Int32Type, Int32Array) => array,
        (Int64Type, _) => Integers(array, target.Name),
        (Int32Type, _) => Integers32(array),
        (TimestampType t, TimestampArray ts) => Micros(t, ts, target.Name, firstRow),
        (_, NullArray nulls) => AllNull(target.DataType, nulls.Length),
        _ => array,
    };

    /// <summary>A column of <paramref name="length"/> nulls in the table's type (an upload's column of Arrow's null type).</summary>
    private static IArrowArray AllNull(IArrowType type, int length)
    {
        IArrowArray Build<TBuilder>(TBuilder builder, Func<TBuilder, TBuilder> appendNull, Func<TBuilder, IArrowArray> build)
        {
            for (var i = 0; i < length; i++)
            {
                builder = appendNull(builder);
            }
            return build(builder);
        }
        return type switch
        {
            StringType => Build(new StringArray.Builder(), b => b.AppendNull(), b => b.Build()),
            Date32Type => Build(new Date32Array.Builder(), b => b.AppendNull(), b => b.Build()),
            DoubleType => Build(new DoubleArray.Builder(), b => b.AppendNull(), b => b.Build()),
            Int64Type => Build(new Int64Array.Builder(), b => b.AppendNull(), b => b.Build()),
            Int32Type => Build(new Int32Array.Builder(), b => b.AppendNull(), b => b.Build()),
            TimestampType t => Build(new TimestampArray.Builder(t), b => b.AppendNull(), b => b.Build()),
            _ => throw new NotSupportedException($"no null column of {type.Name}"),
        };
    }

    private static long PerDay(TimeUnit unit) => unit switch
    {
        TimeUnit.Second => 86_400L,
        TimeUnit.Millisecond => 86_400_000L,
        TimeUnit.Microsecond => 86_400_000_000L,
        _ => 86_400_000_000_000L,
    };

    private static Date32Array Dates(int n, Func<int, long?> value, long perDay, string type, string column, long firstRow)
    {
        var b = new Date32Array.Builder().Reserve(n);
        for (var i = 0; i < n; i++)
        {
            if (value(i) is not { } v)
            {
                b.AppendNull();
                continue;
            }
            if (v % perDay != 0)
            {
                throw LakehouseException.Invalid(
                    $"column '{column}' row {firstRow + i}: {type} value {v} is not at midnight UTC; send dates (date32) or midnight timestamps, converting would lose the time");
            }
            var days = v / perDay;
            if (days is < -719_162 or > 2_932_896)
            {
                throw LakehouseException.Invalid($"column '{column}' row {firstRow + i}: {type} value {v} is out of range");
            }
            b.Append(DateOnly.FromDayNumber((int)(days + 719_162)));
        }
        return b.Build();
    }

    private static TimestampArray Micros(TimestampType target, TimestampArray ts, string column, long firstRow)
    {
        var (multiply, divide) = ((TimestampType)ts.Data.DataType).Unit switch
        {
            TimeUnit.Second => (1_000_000L, 1L),
            TimeUnit.Millisecond => (1_000L, 1L),
            TimeUnit.Microsecond => (1L, 1L),
            _ => (1L, 1_000L),
        };
        var b = new TimestampArray.Builder(target).Reserve(ts.Length);
        for (var i = 0; i < ts.Length; i++)
        {
            if (ts.GetValue(i) is not { } v)
            {
                b.AppendNull();
                continue;
            }
            if (v % divide != 0)
            {
                throw LakehouseException.Invalid($"column '{column}' row {firstRow + i}: nanoseconds would be lost; send microsecond timestamps");
            }
            b.Append(DateTimeOffset.UnixEpoch.AddTicks(v / divide * multiply * 10));
        }
        return b.Build();
    }

    private static Int64Array Integers(IArrowArray array, string column)
    {
        var b = new Int64Array.Builder().Reserve(array.Length);
        for (var i = 0; i < array.Length; i++)
        {
            long? v = array switch
            {
                Int32Array x => x.GetValue(i),
                Int16Array x => x.GetValue(i),
                Int8Array x => x.GetValue(i),
                UInt32Array x => x.GetValue(i),
                UInt16Array x => x.GetValue(i),
                UInt8Array x => x.GetValue(i),
                _ => throw LakehouseException.Invalid($"column '{column}' has an unsupported integer type"),
            };
            b.Append(v);
        }
        return b.Build();
    }

    private static Int32Array Integers32(IArrowArray array)
    {
        var b = new Int32Array.Builder().Reserve(array.Length);
        for (var i = 0; i < array.Length; i++)
        {
            int? v = array switch
            {
                Int16Array x => x.GetValue(i),
                Int8Array x => x.GetValue(i),
                UInt16Array x => x.GetValue(i),
                UInt8Array x => x.GetValue(i),
                _ => null,
            };
            b.Append(v);
        }
        return b.Build();
    }

    private static StringArray Strings(LargeStringArray large)
    {
        var b = new StringArray.Builder();
        for (var i = 0; i < large.Length; i++)
        {
            b.Append(large.IsNull(i) ? null : large.GetString(i, System.Text.Encoding.UTF8));
        }
        return b.Build();
    }

    /// <summary>
    /// A dictionary-encoded string column as plain utf8, value bytes copied as they are (lossless); an index
    /// outside the dictionary is refused, a null index or a null dictionary value is a null.
    /// </summary>
    private static StringArray Decoded(DictionaryArray array, string column, long firstRow)
    {
        var values = array.Dictionary;
        var b = new StringArray.Builder().Reserve(array.Length);
        for (var i = 0; i < array.Length; i++)
        {
            if (array.IsNull(i))
            {
                b.AppendNull();
                continue;
            }
            var index = IndexAt(array.Indices, i);
            if (index < 0 || index >= values.Length)
            {
                throw LakehouseException.Invalid(
                    $"column '{column}' row {firstRow + i}: dictionary index {index} is outside its dictionary of {values.Length} values");
            }
            var at = (int)index;
            if (values.IsNull(at))
            {
                b.AppendNull();
            }
            else if (values is StringArray strings)
            {
                b.Append(strings.GetBytes(at));
            }
            else
            {
                b.Append(((LargeStringArray)values).GetBytes(at));
            }
        }
        return b.Build();
    }

    private static long IndexAt(IArrowArray indices, int i) => indices switch
    {
        Int8Array x => x.GetValue(i) ?? 0,
        Int16Array x => x.GetValue(i) ?? 0,
        Int32Array x => x.GetValue(i) ?? 0,
        Int64Array x => x.GetValue(i) ?? 0,
        UInt8Array x => x.GetValue(i) ?? 0,
        UInt16Array x => x.GetValue(i) ?? 0,
        UInt32Array x => x.GetValue(i) ?? 0,
        UInt64Array x => x.GetValue(i) is { } v && v <= long.MaxValue ? (long)v : -1,
        _ => throw LakehouseException.Invalid($"dictionary indices of type {indices.Data.DataType.Name} are not supported: use an integer type"),
    };

    private static bool IsUtc(TimestampType ts) =>
        string.IsNullOrEmpty(ts.Timezone) || ts.Timezone is "UTC" or "utc" or "Etc/UTC" or "+00:00" or "Z";

    private static string Describe(IArrowType type) => type switch
    {
        TimestampType ts => $"timestamp[{ts.Unit.ToString().ToLowerInvariant()}{(string.IsNullOrEmpty(ts.Timezone) ? "" : ", tz=" + ts.Timezone)}]",
        DictionaryType d => $"dictionary<values={Describe(d.ValueType)}, indices={d.IndexType.Name}>",
        _ => type.Name,
    };
}
