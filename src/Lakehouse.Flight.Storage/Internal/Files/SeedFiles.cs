using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Apache.Arrow;
using Apache.Arrow.Types;
using Lakehouse.Flight.Core;
using Parquet;
using Parquet.Schema;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// The seed layout's small files (one per symbol-month) through Parquet.Net (fully managed), for any table
/// schema: Arrow columns map to Parquet columns by name. Used by <c>lakehouse export --layout seed</c> and by
/// the migration of a seed-layout lake: a month partition holds ~21 rows, so the fixed cost per file decides,
/// and there Parquet.Net encodes and decodes faster than ParquetSharp (docs/decisions.md D1). Types are
/// the ones DuckDB and Spark expect: DATE for date32, TIMESTAMP(MICROS, UTC) for timestamps, REQUIRED for
/// non-null columns.
/// </summary>
internal static class SeedFiles
{
    private static readonly ParquetOptions ReadOptions = new() { UseDateOnlyTypeForDates = true };
    private static readonly ConcurrentDictionary<Schema, (ParquetSchema Schema, DataField[] Fields)> Schemas = new(ReferenceEqualityComparer.Instance);
    private static readonly int UnixEpochDay = DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;

    /// <summary>The file's bytes (encoded in memory: a partition is a few KB, and the temp file then gets one write).</summary>
    public static byte[] Encode(RecordBatch batch)
    {
        using var ms = new MemoryStream();
        WriteAsync(ms, batch).GetAwaiter().GetResult();
        return ms.ToArray();
    }

    public static async Task WriteAsync(Stream output, RecordBatch batch)
    {
        var (schema, fields) = ParquetSchemaOf(batch.Schema);
        var writer = await ParquetWriter.CreateAsync(schema, output).ConfigureAwait(false);
        await using var writerDisposal = writer.ConfigureAwait(false);
        writer.CustomMetadata = new Dictionary<string, string> { ["created_by"] = "lakehouse-flight" };
        using var rg = writer.CreateRowGroup();
        for (var c = 0; c < fields.Length; c++)
        {
            await WriteColumnAsync(rg, fields[c], batch.Column(c)).ConfigureAwait(false);
        }
    }

    /// <summary>Reads a whole partition file as one batch of <paramref name="schema"/>, columns matched by name.</summary>
    public static RecordBatch Read(string path, Schema schema)
    {
        // The file is a few KB: one read into memory, then decoding completes synchronously.
        using var ms = new MemoryStream(File.ReadAllBytes(path), writable: false);
        return ReadAsync(ms, schema, path).AsTask().GetAwaiter().GetResult();
    }

    public static long RowCount(string path) => RowCountAsync(path).AsTask().GetAwaiter().GetResult();

    private static async ValueTask<long> RowCountAsync(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 4096);
        var reader = await ParquetReader.CreateAsync(fs, ReadOptions).ConfigureAwait(false);
        await using var readerDisposal = reader.ConfigureAwait(false);
        return reader.Metadata?.NumRows ?? 0;
    }

    private static (ParquetSchema Schema, DataField[] Fields) ParquetSchemaOf(Schema schema) => Schemas.GetOrAdd(schema, s =>
    {
        var fields = s.FieldsList.Select(DataField (f) => f.DataType switch
        {
            StringType => new DataField<string>(f.Name, f.IsNullable),
            Date32Type => f.IsNullable ? new DataField<DateOnly?>(f.Name, true) : new DataField<DateOnly>(f.Name, false),
            DoubleType => f.IsNullable ? new DataField<double?>(f.Name, true) : new DataField<double>(f.Name, false),
            Int64Type => f.IsNullable ? new DataField<long?>(f.Name, true) : new DataField<long>(f.Name, false),
            Int32Type => f.IsNullable ? new DataField<int?>(f.Name, true) : new DataField<int>(f.Name, false),
            TimestampType => new DateTimeDataField(f.Name, DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros,
                isNullable: f.IsNullable),
            _ => throw new NotSupportedException($"column '{f.Name}': {f.DataType.Name} is not a table type"),
        }).ToArray();
        return (new ParquetSchema(fields), fields);
    });

    private static async Task WriteColumnAsync(ParquetRowGroupWriter rg, DataField field, IArrowArray array)
    {
        var n = array.Length;
        switch (array)
        {
            case StringArray s:
                {
                    var values = new string?[n];
                    for (var i = 0; i < n; i++)
                    {
                        values[i] = s.IsNull(i) ? null : s.GetString(i);
                    }
                    await rg.WriteAsync(field, values).ConfigureAwait(false);
                    break;
                }
            case Date32Array d when field.IsNullable:
                await rg.WriteAsync<DateOnly>(field, (ReadOnlyMemory<DateOnly?>)Nullable(d, v => DateOnly.FromDayNumber(UnixEpochDay + v))).ConfigureAwait(false);
                break;
            case Date32Array d:
                {
                    var days = d.Values;
                    var dates = new DateOnly[n];
                    for (var i = 0; i < n; i++)
                    {
                        dates[i] = DateOnly.FromDayNumber(UnixEpochDay + days[i]);
                    }
                    await rg.WriteAsync<DateOnly>(field, dates).ConfigureAwait(false);
                    break;
                }
            case DoubleArray d when field.IsNullable:
                await rg.WriteAsync<double>(field, (ReadOnlyMemory<double?>)Nullable(d, v => v)).ConfigureAwait(false);
                break;
            case DoubleArray d:
                await rg.WriteAsync<double>(field, d.Values.ToArray()).ConfigureAwait(false);
                break;
            case Int64Array l when field.IsNullable:
                await rg.WriteAsync<long>(field, (ReadOnlyMemory<long?>)Nullable(l, v => v)).ConfigureAwait(false);
                break;
            case Int64Array l:
                await rg.WriteAsync<long>(field, l.Values.ToArray()).ConfigureAwait(false);
                break;
            case Int32Array x when field.IsNullable:
                await rg.WriteAsync<int>(field, (ReadOnlyMemory<int?>)Nullable(x, v => v)).ConfigureAwait(false);
                break;
            case Int32Array x:
                await rg.WriteAsync<int>(field, x.Values.ToArray()).ConfigureAwait(false);
                break;
            case TimestampArray t when field.IsNullable:
                await rg.WriteAsync<DateTime>(field, (ReadOnlyMemory<DateTime?>)Nullable(t, v => DateTime.UnixEpoch.AddTicks(v * 10))).ConfigureAwait(false);
                break;
            case TimestampArray t:
                {
                    var micros = t.Values;
                    var values = new DateTime[n];
                    for (var i = 0; i < n; i++)
                    {
                        values[i] = DateTime.UnixEpoch.AddTicks(micros[i] * 10);
                    }
                    await rg.WriteAsync<DateTime>(field, values).ConfigureAwait(false);
                    break;
                }
            default:
                throw new NotSupportedException($"column '{field.Name}': {array.Data.DataType.Name} is not a table type");
        }
    }

    private static TOut?[] Nullable<T, TOut>(PrimitiveArray<T> array, Func<T, TOut> convert)
        where T : struct, IEquatable<T>
        where TOut : struct
    {
        var values = array.Values;
        var result = new TOut?[array.Length];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = array.IsNull(i) ? null : convert(values[i]);
        }
        return result;
    }

    private static async ValueTask<RecordBatch> ReadAsync(Stream stream, Schema schema, string path)
    {
        var reader = await ParquetReader.CreateAsync(stream, ReadOptions).ConfigureAwait(false);
        await using var readerDisposal = reader.ConfigureAwait(false);
        var fileFields = reader.Schema.GetDataFields().ToDictionary(f => f.Name, StringComparer.Ordinal);
        var fields = new DataField?[schema.FieldsList.Count];
        for (var c = 0; c < fields.Length; c++)
        {
            var want = schema.FieldsList[c];
            if (fileFields.TryGetValue(want.Name, out var f))
            {
                fields[c] = f;
            }
            else if (!want.IsNullable)
            {
                throw new InvalidDataException(
                    $"{path}: column '{want.Name}' is missing (the file has {string.Join(", ", fileFields.Keys)}); it is not a file of this table");
            }
        }
        var parts = new List<RecordBatch>(1);
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            using var rg = reader.OpenRowGroupReader(g);
            var n = checked((int)rg.RowCount);
            var arrays = new IArrowArray[fields.Length];
            for (var c = 0; c < fields.Length; c++)
            {
                arrays[c] = fields[c] is { } f
                    ? await ReadColumnAsync(rg, f, schema.FieldsList[c].DataType, n).ConfigureAwait(false)
                    : RecordBatches.Nulls(schema.FieldsList[c].DataType, n);
            }
            parts.Add(new RecordBatch(schema, arrays, n));
        }
        return parts.Count switch
        {
            0 => RecordBatches.Empty(schema),
            1 => parts[0],
            _ => ArrowConcat.Concatenate(parts),
        };
    }

    private static async ValueTask<IArrowArray> ReadColumnAsync(ParquetRowGroupReader rg, DataField field, IArrowType type, int n)
    {
        switch (type)
        {
            case StringType:
                {
                    var values = new string?[n];
                    await rg.ReadAsync(field, values.AsMemory()).ConfigureAwait(false);
                    var b = new StringArray.Builder();
                    foreach (var v in values)
                    {
                        b.Append(v);
                    }
                    return b.Build();
                }
            case Date32Type when field.IsNullable:
                {
                    var values = new DateOnly?[n];
                    await rg.ReadAsync(field, values.AsMemory()).ConfigureAwait(false);
                    return Primitive<int, DateOnly>(values, d => d.DayNumber - UnixEpochDay, (buf, bits, nulls) => new Date32Array(buf, bits, n, nulls, 0));
                }
            case Date32Type:
                {
                    var values = new DateOnly[n];
                    await rg.ReadAsync(field, values.AsMemory()).ConfigureAwait(false);
                    var days = new int[n];
                    for (var i = 0; i < n; i++)
                    {
                        days[i] = values[i].DayNumber - UnixEpochDay;
                    }
                    return new Date32Array(Buffer(days), ArrowBuffer.Empty, n, 0, 0);
                }
            case DoubleType:
                return await ReadPrimitiveAsync<double>(rg, field, n, (buf, bits, nulls) => new DoubleArray(buf, bits, n, nulls, 0)).ConfigureAwait(false);
            case Int64Type:
                return await ReadPrimitiveAsync<long>(rg, field, n, (buf, bits, nulls) => new Int64Array(buf, bits, n, nulls, 0)).ConfigureAwait(false);
            case Int32Type:
                return await ReadPrimitiveAsync<int>(rg, field, n, (buf, bits, nulls) => new Int32Array(buf, bits, n, nulls, 0)).ConfigureAwait(false);
            case TimestampType ts when field.IsNullable:
                {
                    var values = new DateTime?[n];
                    await rg.ReadAsync(field, values.AsMemory()).ConfigureAwait(false);
                    return Primitive<long, DateTime>(values, Micros, (buf, bits, nulls) => new TimestampArray(ts, buf, bits, n, nulls, 0));
                }
            case TimestampType ts:
                {
                    var values = new DateTime[n];
                    await rg.ReadAsync(field, values.AsMemory()).ConfigureAwait(false);
                    var micros = new long[n];
                    for (var i = 0; i < n; i++)
                    {
                        micros[i] = Micros(values[i]);
                    }
                    return new TimestampArray(ts, Buffer(micros), ArrowBuffer.Empty, n, 0, 0);
                }
            default:
                throw new NotSupportedException($"column '{field.Name}': {type.Name} is not a table type");
        }
    }

    private static long Micros(DateTime value) => (value.ToUniversalTime().Ticks - DateTime.UnixEpoch.Ticks) / 10;

    private static async ValueTask<IArrowArray> ReadPrimitiveAsync<T>(ParquetRowGroupReader rg, DataField field, int n,
        Func<ArrowBuffer, ArrowBuffer, int, IArrowArray> build)
        where T : struct
    {
        if (!field.IsNullable)
        {
            var values = new T[n];
            await rg.ReadAsync(field, values.AsMemory()).ConfigureAwait(false);
            return build(Buffer(values), ArrowBuffer.Empty, 0);
        }
        var nullable = new T?[n];
        await rg.ReadAsync(field, nullable.AsMemory()).ConfigureAwait(false);
        return Primitive<T, T>(nullable, v => v, build);
    }

    private static IArrowArray Primitive<T, TIn>(TIn?[] values, Func<TIn, T> convert, Func<ArrowBuffer, ArrowBuffer, int, IArrowArray> build)
        where T : struct
        where TIn : struct
    {
        var data = new T[values.Length];
        var bits = new byte[(values.Length + 7) / 8];
        var nulls = 0;
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] is { } v)
            {
                data[i] = convert(v);
                bits[i >> 3] |= (byte)(1 << (i & 7));
            }
            else
            {
                nulls++;
            }
        }
        return build(Buffer(data), nulls == 0 ? ArrowBuffer.Empty : new ArrowBuffer(bits), nulls);
    }

    private static ArrowBuffer Buffer<T>(T[] values) where T : struct =>
        new(MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
}
