using System.Globalization;
using System.Text;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Types;

namespace Lakehouse.Flight.Server.Internal.Sql;

/// <summary>
/// SQL result values as text, for the doors that do not speak Arrow (HTTP JSON and CSV, the CLI's table): every type the
/// engine answers (<see cref="DuckArrow"/>). Dates are ISO (<c>2024-01-02</c>), instants ISO in UTC with <c>Z</c>, plain
/// timestamps ISO without it, binary as base64; JSON numbers stay numbers, except NaN and infinities, which JSON has
/// not: those are strings (<c>"NaN"</c>), never a silent null.
/// </summary>
internal static class SqlText
{
    /// <summary>The value at <paramref name="row"/> as .NET: string, bool, long, ulong, double, or null.</summary>
    public static object? Value(IArrowArray array, int row) => array.IsNull(row) ? null : array switch
    {
        StringArray a => a.GetString(row),
        BooleanArray a => a.GetValue(row),
        Int8Array a => (long)a.GetValue(row)!.Value,
        Int16Array a => (long)a.GetValue(row)!.Value,
        Int32Array a => (long)a.GetValue(row)!.Value,
        Int64Array a => a.GetValue(row),
        UInt8Array a => (long)a.GetValue(row)!.Value,
        UInt16Array a => (long)a.GetValue(row)!.Value,
        UInt32Array a => (long)a.GetValue(row)!.Value,
        UInt64Array a => a.GetValue(row),
        FloatArray a => (double)a.GetValue(row)!.Value,
        DoubleArray a => a.GetValue(row),
        Date32Array a => a.GetDateOnly(row)!.Value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        TimestampArray a => Instant(a, row),
        BinaryArray a => Convert.ToBase64String(a.GetBytes(row)),
        _ => throw new NotSupportedException($"no text form for {array.Data.DataType.Name} columns"),
    };

    /// <summary>The value as CSV or table text: invariant culture, doubles round-trip (<c>R</c>), null empty.</summary>
    public static string Text(IArrowArray array, int row) => Value(array, row) switch
    {
        null => "",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        var v => v.ToString() ?? "",
    };

    /// <summary>One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break.</summary>
    public static string Csv(string text) =>
        text.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;

    /// <summary>The CSV header line of <paramref name="schema"/>.</summary>
    public static string CsvHeader(Schema schema) => string.Join(',', schema.FieldsList.Select(f => Csv(f.Name))) + "\n";

    /// <summary>The rows of <paramref name="batch"/> as CSV lines.</summary>
    public static void AppendCsv(StringBuilder text, RecordBatch batch)
    {
        for (var r = 0; r < batch.Length; r++)
        {
            for (var c = 0; c < batch.ColumnCount; c++)
            {
                if (c > 0)
                {
                    text.Append(',');
                }
                text.Append(Csv(Text(batch.Column(c), r)));
            }
            text.Append('\n');
        }
    }

    /// <summary>The rows of <paramref name="batch"/> as JSON objects (column name to value), written into an open array.</summary>
    public static void WriteJson(Utf8JsonWriter json, RecordBatch batch)
    {
        var names = batch.Schema.FieldsList.Select(f => JsonEncodedText.Encode(f.Name)).ToArray();
        for (var r = 0; r < batch.Length; r++)
        {
            WriteJsonRow(json, batch, r, names);
        }
    }

    /// <summary>One row of <paramref name="batch"/> as a JSON object (column name to value).</summary>
    public static void WriteJsonRow(Utf8JsonWriter json, RecordBatch batch, int r, JsonEncodedText[]? names = null)
    {
        names ??= batch.Schema.FieldsList.Select(f => JsonEncodedText.Encode(f.Name)).ToArray();
        json.WriteStartObject();
        for (var c = 0; c < names.Length; c++)
        {
            json.WritePropertyName(names[c]);
            switch (Value(batch.Column(c), r))
            {
                case null:
                    json.WriteNullValue();
                    break;
                case string s:
                    json.WriteStringValue(s);
                    break;
                case bool b:
                    json.WriteBooleanValue(b);
                    break;
                case long l:
                    json.WriteNumberValue(l);
                    break;
                case ulong u:
                    json.WriteNumberValue(u);
                    break;
                case double d when double.IsFinite(d):
                    json.WriteNumberValue(d);
                    break;
                case double d:
                    json.WriteStringValue(d.ToString("R", CultureInfo.InvariantCulture));
                    break;
            }
        }
        json.WriteEndObject();
    }

    private static string Instant(TimestampArray array, int row)
    {
        var value = array.GetTimestamp(row)!.Value.UtcDateTime;
        return ((TimestampType)array.Data.DataType).Timezone is { Length: > 0 }
            ? value.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture)
            : value.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture);
    }
}
