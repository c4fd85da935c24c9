using Apache.Arrow;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Ingestion.Legacy.Internal;

/// <summary>
/// A legacy single-file store, read one row group at a time through ParquetSharp's Arrow reader
/// (Arrow C++ underneath: it reads what pandas and pyarrow wrote, TIMESTAMP(NANOS) and INT96 dates,
/// dictionary-encoded strings, exactly as pyarrow does). Only the row groups and columns asked for are
/// decoded, so memory is bounded by the row group size, never by the file.
/// </summary>
internal sealed class LegacyFile : IDisposable
{
    private readonly ParquetSharp.Arrow.FileReader _reader;

    private LegacyFile(ParquetSharp.Arrow.FileReader reader, string path, string display)
    {
        _reader = reader;
        Path = path;
        Schema = reader.Schema;
        Layout = LegacyLayout.Resolve(Schema, display);
        RowGroups = reader.NumRowGroups;
        Rows = reader.ParquetReader.FileMetaData.NumRows;
    }

    public string Path { get; }
    public Schema Schema { get; }
    public LegacyLayout Layout { get; }
    public int RowGroups { get; }
    public long Rows { get; }

    /// <param name="path">The file to read.</param>
    /// <param name="display">How messages name it (the name the caller gave; never a resolved server path it did not).</param>
    public static LegacyFile Open(string path, string? display = null)
    {
        display ??= path;
        if (!File.Exists(path))
        {
            throw new LakehouseException(LakehouseErrorKind.NotFound, $"legacy file {display} does not exist: pass --from data/prices_daily.parquet");
        }
        ParquetSharp.Arrow.FileReader reader;
        try
        {
            reader = new ParquetSharp.Arrow.FileReader(path);
        }
        catch (ParquetSharp.ParquetException ex)
        {
            throw LakehouseException.InvalidData($"{display} is not a readable Parquet file: {ParquetError(ex)}", ex);
        }
        try
        {
            return new LegacyFile(reader, path, display);
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    /// <summary>The batches of one row group, only the given top-level fields (columns are found by name in each batch).</summary>
    public async IAsyncEnumerable<RecordBatch> ReadAsync(int rowGroup, IReadOnlyList<int> fields,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var leaves = fields.Select(f => _reader.SchemaManifest.SchemaFields[f].ColumnIndex).ToArray();
        using var stream = _reader.GetRecordBatchReader([rowGroup], leaves);
        while (await stream.ReadNextRecordBatchAsync(cancellationToken).ConfigureAwait(false) is { } batch)
        {
            yield return batch;
        }
    }

    public void Dispose() => _reader.Dispose();

    /// <summary>
    /// What Arrow C++ said, without the native exception's mangled type name (<c>N7parquet22ParquetStatusExceptionE</c>)
    /// or a path: Parquet's own sentence ("Parquet magic bytes not found in footer...") is what a user can act on.
    /// </summary>
    internal static string ParquetError(Exception ex)
    {
        var text = ex.Message.Split('\n')[0];
        var quoted = System.Text.RegularExpressions.Regex.Match(text, @"message:\s*'(?<m>[^']*)'");
        if (quoted.Success)
        {
            text = quoted.Groups["m"].Value;
        }
        text = System.Text.RegularExpressions.Regex.Replace(text, @"\bN\d+[A-Za-z_]\w*E\b", "");
        text = System.Text.RegularExpressions.Regex.Replace(text, @"(?<=^|[\s'""(])/[^\s'""]+", "(the file)");
        text = text.Trim(' ', ':', '(', ')', '.');
        return text.Length == 0 ? "its footer or metadata could not be decoded" : text;
    }
}

/// <summary>Values out of whatever Arrow type a legacy column has.</summary>
internal static class LegacyValues
{
    private const long SecondsPerDay = 86_400;

    public static string? String(IArrowArray array, int i) => array switch
    {
        StringArray s => s.IsNull(i) ? null : s.GetString(i),
        DictionaryArray d => d.IsNull(i) ? null : String(d.Dictionary, Index(d.Indices, i)),
        _ => throw LakehouseException.InvalidData($"a text column has type {array.Data.DataType.Name}; expected a string column"),
    };

    public static double? Double(IArrowArray array, int i)
    {
        if (array.IsNull(i))
        {
            return null;
        }
        return array switch
        {
            DoubleArray d => d.Values[i],
            FloatArray f => f.Values[i],
            Int64Array l => l.Values[i],
            Int32Array n => n.Values[i],
            _ => throw LakehouseException.InvalidData($"a price column has type {array.Data.DataType.Name}; expected float64"),
        };
    }

    /// <summary>Volume as a whole number; a float column (pandas makes one when a value is missing) must hold whole values.</summary>
    public static bool TryVolume(IArrowArray array, int i, out long volume)
    {
        volume = 0;
        if (array.IsNull(i))
        {
            return false;
        }
        switch (array)
        {
            case Int64Array l:
                volume = l.Values[i];
                return true;
            case Int32Array n:
                volume = n.Values[i];
                return true;
            case UInt64Array u when u.Values[i] <= long.MaxValue:
                volume = (long)u.Values[i];
                return true;
            case DoubleArray d when double.IsFinite(d.Values[i]) && Math.Floor(d.Values[i]) == d.Values[i] && Math.Abs(d.Values[i]) < 9e18:
                volume = (long)d.Values[i];
                return true;
            case DoubleArray or UInt64Array:
                return false;
            default:
                throw LakehouseException.InvalidData($"the volume column has type {array.Data.DataType.Name}; expected int64");
        }
    }

    /// <summary>The date32 day of a date or midnight timestamp; a reason when there is none.</summary>
    public static int? Day(IArrowArray array, int i, out string? error)
    {
        error = null;
        if (array.IsNull(i))
        {
            error = "date is null";
            return null;
        }
        switch (array)
        {
            case Date32Array d:
                return d.Values[i];
            case Date64Array d:
                return FromUnits(d.Values[i], SecondsPerDay * 1000, out error);
            case TimestampArray t:
                var unit = ((Apache.Arrow.Types.TimestampType)t.Data.DataType).Unit;
                var perDay = unit switch
                {
                    Apache.Arrow.Types.TimeUnit.Second => SecondsPerDay,
                    Apache.Arrow.Types.TimeUnit.Millisecond => SecondsPerDay * 1_000,
                    Apache.Arrow.Types.TimeUnit.Microsecond => SecondsPerDay * 1_000_000,
                    _ => SecondsPerDay * 1_000_000_000,
                };
                return FromUnits(t.Values[i], perDay, out error);
            case StringArray s:
                var text = s.GetString(i);
                if (DateOnly.TryParseExact(text.Length >= 10 ? text[..10] : text, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture,
                        System.Globalization.DateTimeStyles.None, out var date) && (text.Length == 10 || text[10..].Trim(' ', 'T', '0', ':', '.', 'Z') == ""))
                {
                    return date.DayNumber - UnixEpochDay;
                }
                error = $"date '{text}' is not an ISO date";
                return null;
            default:
                throw LakehouseException.InvalidData($"the date column has type {array.Data.DataType.Name}; expected date32 or timestamp");
        }
    }

    public static readonly int UnixEpochDay = new DateOnly(1970, 1, 1).DayNumber;

    private static int? FromUnits(long value, long perDay, out string? error)
    {
        var day = Math.DivRem(value, perDay, out var rest);
        if (rest < 0)
        {
            day--;
            rest += perDay;
        }
        if (rest != 0)
        {
            error = "date has a time of day (daily bars are dated at midnight)";
            return null;
        }
        error = null;
        return (int)day;
    }

    private static int Index(IArrowArray indices, int i) => indices switch
    {
        Int32Array a => a.Values[i],
        Int8Array a => a.Values[i],
        Int16Array a => a.Values[i],
        Int64Array a => (int)a.Values[i],
        UInt8Array a => a.Values[i],
        UInt16Array a => a.Values[i],
        UInt32Array a => (int)a.Values[i],
        _ => throw LakehouseException.InvalidData($"dictionary indices of type {indices.Data.DataType.Name} are not supported"),
    };
}
