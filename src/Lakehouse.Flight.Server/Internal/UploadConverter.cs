using Apache.Arrow;
using Apache.Arrow.Types;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Server.Internal;

/// <summary>
/// Turns uploaded record batches into <see cref="PriceBar"/> rows. The schema is checked first
/// (<see cref="ForSchema"/>), before a single row is read; conversions are lossless or refused:
/// pandas' <c>timestamp[ns]</c> dates must sit exactly on midnight UTC, integers stay integers.
/// </summary>
internal sealed class UploadConverter
{
    private static readonly string[] Required = ["symbol", "date", "open", "high", "low", "close", "volume"];
    private static readonly string[] Optional = ["adj_close", "source", "ingested_at"];

    private readonly Dictionary<string, int> _columns;

    private UploadConverter(Dictionary<string, int> columns) => _columns = columns;

    /// <summary>Columns the upload must carry.</summary>
    public static IReadOnlyList<string> RequiredColumns => Required;

    /// <summary>Checks names and types; throws InvalidArgument naming the first bad column.</summary>
    public static UploadConverter ForSchema(Schema schema)
    {
        var columns = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < schema.FieldsList.Count; i++)
        {
            var field = schema.FieldsList[i];
            var name = field.Name.Trim().ToLowerInvariant();
            if (name.StartsWith("__index_level_", StringComparison.Ordinal))
            {
                // pandas' RangeIndex when preserve_index is left on: carries no data of ours.
                continue;
            }
            if (!Required.Contains(name) && !Optional.Contains(name))
            {
                throw LakehouseException.Invalid(
                    $"unexpected column '{field.Name}': an upload carries {string.Join(", ", Required)} and optionally {string.Join(", ", Optional)}");
            }
            if (!columns.TryAdd(name, i))
            {
                throw LakehouseException.Invalid($"column '{name}' appears twice in the upload");
            }
            CheckType(name, field.DataType);
        }
        var missing = Required.Where(r => !columns.ContainsKey(r)).ToArray();
        if (missing.Length > 0)
        {
            throw LakehouseException.Invalid($"missing column(s) {string.Join(", ", missing.Select(m => $"'{m}'"))}: an upload carries {string.Join(", ", Required)}");
        }
        return new UploadConverter(columns);
    }

    private static void CheckType(string name, IArrowType type)
    {
        var id = type.TypeId;
        var ok = name switch
        {
            "symbol" or "source" => id is ArrowTypeId.String or ArrowTypeId.LargeString,
            "date" => id is ArrowTypeId.Date32 or ArrowTypeId.Date64 || (type is TimestampType ts && IsUtc(ts)),
            "open" or "high" or "low" or "close" or "adj_close" => id is ArrowTypeId.Double,
            "volume" => id is ArrowTypeId.Int64 or ArrowTypeId.Int32 or ArrowTypeId.Int16 or ArrowTypeId.Int8
                or ArrowTypeId.UInt32 or ArrowTypeId.UInt16 or ArrowTypeId.UInt8,
            "ingested_at" => id is ArrowTypeId.Timestamp,
            _ => false,
        };
        if (ok)
        {
            return;
        }
        var want = name switch
        {
            "symbol" or "source" => "utf8 or large_utf8",
            "date" => "date32, date64 or a UTC/naive timestamp at midnight",
            "volume" => "an integer type (int64)",
            "ingested_at" => "timestamp",
            _ => "float64",
        };
        var hint = id == ArrowTypeId.Dictionary ? " (dictionary-encoded columns are not accepted: send plain values)" : "";
        throw LakehouseException.Invalid($"column '{name}' has type {Describe(type)}; expected {want}{hint}");
    }

    /// <summary>Appends the rows of one batch; throws InvalidArgument naming the column and row of the first bad value.</summary>
    public void AddRows(RecordBatch batch, long firstRow, List<PriceBar> into)
    {
        var symbol = batch.Column(_columns["symbol"]);
        var date = batch.Column(_columns["date"]);
        var open = (DoubleArray)batch.Column(_columns["open"]);
        var high = (DoubleArray)batch.Column(_columns["high"]);
        var low = (DoubleArray)batch.Column(_columns["low"]);
        var close = (DoubleArray)batch.Column(_columns["close"]);
        var volume = batch.Column(_columns["volume"]);
        var adj = _columns.TryGetValue("adj_close", out var a) ? (DoubleArray)batch.Column(a) : null;
        var source = _columns.TryGetValue("source", out var s) ? batch.Column(s) : null;
        var ingested = _columns.TryGetValue("ingested_at", out var t) ? (TimestampArray)batch.Column(t) : null;
        for (var i = 0; i < batch.Length; i++)
        {
            var row = firstRow + i;
            into.Add(new PriceBar(
                String(symbol, i, "symbol", row),
                Date(date, i, row),
                Value(open, i, "open", row),
                Value(high, i, "high", row),
                Value(low, i, "low", row),
                Value(close, i, "close", row),
                adj?.GetValue(i),
                Volume(volume, i, row),
                source is null ? "" : (OptionalString(source, i) ?? ""),
                ingested?.GetTimestamp(i) ?? DateTimeOffset.UnixEpoch));
        }
    }

    private static double Value(DoubleArray array, int i, string name, long row) =>
        array.GetValue(i) ?? throw Null(name, row);

    private static string String(IArrowArray array, int i, string name, long row) =>
        OptionalString(array, i) ?? throw Null(name, row);

    private static string? OptionalString(IArrowArray array, int i) => array switch
    {
        StringArray s => s.IsNull(i) ? null : s.GetString(i),
        LargeStringArray l => l.IsNull(i) ? null : l.GetString(i, System.Text.Encoding.UTF8),
        _ => null,
    };

    private static long Volume(IArrowArray array, int i, long row) => array switch
    {
        Int64Array x => x.GetValue(i),
        Int32Array x => x.GetValue(i),
        Int16Array x => x.GetValue(i),
        Int8Array x => x.GetValue(i),
        UInt32Array x => x.GetValue(i),
        UInt16Array x => x.GetValue(i),
        UInt8Array x => x.GetValue(i),
        _ => null,
    } ?? throw Null("volume", row);

    private static DateOnly Date(IArrowArray array, int i, long row)
    {
        switch (array)
        {
            case Date32Array d32:
                return d32.GetDateOnly(i) ?? throw Null("date", row);
            case Date64Array d64:
            {
                var ms = d64.GetValue(i) ?? throw Null("date", row);
                return FromUnits(ms, 86_400_000L, "date64", row);
            }
            case TimestampArray ts:
            {
                var v = ts.GetValue(i) ?? throw Null("date", row);
                var perDay = ((TimestampType)ts.Data.DataType).Unit switch
                {
                    TimeUnit.Second => 86_400L,
                    TimeUnit.Millisecond => 86_400_000L,
                    TimeUnit.Microsecond => 86_400_000_000L,
                    _ => 86_400_000_000_000L,
                };
                return FromUnits(v, perDay, "timestamp", row);
            }
            default:
                throw LakehouseException.Invalid($"column 'date' has an unsupported type {Describe(array.Data.DataType)}");
        }
    }

    private static DateOnly FromUnits(long value, long perDay, string type, long row)
    {
        if (value % perDay != 0)
        {
            throw LakehouseException.Invalid(
                $"column 'date' row {row}: {type} value {value} is not at midnight UTC; send dates (date32) or midnight timestamps, converting would lose the time");
        }
        var days = value / perDay;
        if (days is < -719_162 or > 2_932_896)
        {
            throw LakehouseException.Invalid($"column 'date' row {row}: {type} value {value} is out of range");
        }
        return DateOnly.FromDayNumber((int)(days + 719_162));
    }

    private static bool IsUtc(TimestampType ts) =>
        string.IsNullOrEmpty(ts.Timezone) || ts.Timezone is "UTC" or "utc" or "Etc/UTC" or "+00:00" or "Z";

    private static LakehouseException Null(string name, long row) =>
        LakehouseException.Invalid($"column '{name}' row {row} is null; only adj_close may be null");

    private static string Describe(IArrowType type) => type switch
    {
        TimestampType ts => $"timestamp[{ts.Unit.ToString().ToLowerInvariant()}{(string.IsNullOrEmpty(ts.Timezone) ? "" : ", tz=" + ts.Timezone)}]",
        DictionaryType d => $"dictionary<{d.ValueType.Name}>",
        _ => type.Name,
    };
}
