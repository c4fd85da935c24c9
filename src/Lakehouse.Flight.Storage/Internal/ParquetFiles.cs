using System.Runtime.InteropServices;
using Apache.Arrow;
using Lakehouse.Flight.Core;
using Parquet;
using Parquet.Schema;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// Partition files through Parquet.Net (fully managed). Month partitions hold ~21 rows, so the fixed
/// cost per file decides: on our workload Parquet.Net encodes ~7x and decodes ~2x faster than
/// ParquetSharp (see docs/decisions.md). Types are the ones DuckDB and Spark expect: DATE for
/// <c>date</c>, TIMESTAMP(MICROS, UTC) for <c>ingested_at</c>, REQUIRED for non-null columns.
/// </summary>
internal static class ParquetFiles
{
    private static readonly ParquetOptions ReadOptions = new() { UseDateOnlyTypeForDates = true };

    private static readonly DataField Symbol = new DataField<string>("symbol", false);
    private static readonly DataField Date = new DataField<DateOnly>("date", false);
    private static readonly DataField Open = new DataField<double>("open", false);
    private static readonly DataField High = new DataField<double>("high", false);
    private static readonly DataField Low = new DataField<double>("low", false);
    private static readonly DataField Close = new DataField<double>("close", false);
    private static readonly DataField AdjClose = new DataField<double?>("adj_close", true);
    private static readonly DataField Volume = new DataField<long>("volume", false);
    private static readonly DataField Source = new DataField<string>("source", false);
    private static readonly DataField IngestedAt = new DateTimeDataField("ingested_at", DateTimeFormat.Timestamp, isAdjustedToUTC: true,
        unit: DateTimeTimeUnit.Micros, isNullable: false);
    private static readonly DataField RunId = new DataField<string>("run_id", false);

    private static readonly ParquetSchema SilverSchema = new(Symbol, Date, Open, High, Low, Close, AdjClose, Volume, Source, IngestedAt);
    private static readonly ParquetSchema BronzeSchema = new(Symbol, Date, Open, High, Low, Close, AdjClose, Volume, Source, IngestedAt, RunId);

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
        var bronze = batch.Schema.GetFieldIndex("run_id") >= 0;
        var n = batch.Length;
        var days = ((Date32Array)batch.Column(1)).Values;
        var dates = new DateOnly[n];
        for (var i = 0; i < n; i++)
        {
            dates[i] = DateOnly.FromDayNumber(UnixEpochDay + days[i]);
        }
        var adjArray = (DoubleArray)batch.Column(6);
        var adj = new double?[n];
        for (var i = 0; i < n; i++)
        {
            adj[i] = adjArray.GetValue(i);
        }
        var micros = ((TimestampArray)batch.Column(9)).Values;
        var ingested = new DateTime[n];
        for (var i = 0; i < n; i++)
        {
            ingested[i] = DateTime.UnixEpoch.AddTicks(micros[i] * 10);
        }
        await using var writer = await ParquetWriter.CreateAsync(bronze ? BronzeSchema : SilverSchema, output).ConfigureAwait(false);
        writer.CustomMetadata = new Dictionary<string, string> { ["created_by"] = "lakehouse-flight" };
        using var rg = writer.CreateRowGroup();
        await rg.WriteAsync(Symbol, Strings((StringArray)batch.Column(0))).ConfigureAwait(false);
        await rg.WriteAsync<DateOnly>(Date, dates).ConfigureAwait(false);
        await rg.WriteAsync<double>(Open, ((DoubleArray)batch.Column(2)).Values.ToArray()).ConfigureAwait(false);
        await rg.WriteAsync<double>(High, ((DoubleArray)batch.Column(3)).Values.ToArray()).ConfigureAwait(false);
        await rg.WriteAsync<double>(Low, ((DoubleArray)batch.Column(4)).Values.ToArray()).ConfigureAwait(false);
        await rg.WriteAsync<double>(Close, ((DoubleArray)batch.Column(5)).Values.ToArray()).ConfigureAwait(false);
        await rg.WriteAsync<double>(AdjClose, (ReadOnlyMemory<double?>)adj).ConfigureAwait(false);
        await rg.WriteAsync<long>(Volume, ((Int64Array)batch.Column(7)).Values.ToArray()).ConfigureAwait(false);
        await rg.WriteAsync(Source, Strings((StringArray)batch.Column(8))).ConfigureAwait(false);
        await rg.WriteAsync<DateTime>(IngestedAt, ingested).ConfigureAwait(false);
        if (bronze)
        {
            await rg.WriteAsync(RunId, Strings((StringArray)batch.Column(10))).ConfigureAwait(false);
        }
    }

    /// <summary>Reads a whole partition file as one batch on <paramref name="schema"/> (silver or bronze).</summary>
    public static RecordBatch Read(string path, Schema schema)
    {
        // The file is a few KB: one read into memory, then decoding completes synchronously.
        using var ms = new MemoryStream(File.ReadAllBytes(path), writable: false);
        return ReadAsync(ms, schema, path).AsTask().GetAwaiter().GetResult();
    }

    public static long RowCount(string path)
    {
        return RowCountAsync(path).AsTask().GetAwaiter().GetResult();
    }

    private static async ValueTask<long> RowCountAsync(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 4096);
        await using var reader = await ParquetReader.CreateAsync(fs, ReadOptions).ConfigureAwait(false);
        return reader.Metadata?.NumRows ?? 0;
    }

    private static async ValueTask<RecordBatch> ReadAsync(Stream stream, Schema schema, string path)
    {
        await using var reader = await ParquetReader.CreateAsync(stream, ReadOptions).ConfigureAwait(false);
        var bronze = schema.GetFieldIndex("run_id") >= 0;
        var fields = reader.Schema.GetDataFields();
        var expected = bronze ? BronzeSchema.GetDataFields() : SilverSchema.GetDataFields();
        if (fields.Length != expected.Length || !fields.Select(f => f.Name).SequenceEqual(expected.Select(f => f.Name)))
        {
            throw new InvalidDataException($"{path}: columns [{string.Join(", ", fields.Select(f => f.Name))}] are not the {(bronze ? "bronze" : "silver")} prices_daily schema");
        }
        var parts = new List<RecordBatch>(1);
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            using var rg = reader.OpenRowGroupReader(g);
            var n = checked((int)rg.RowCount);
            var symbol = new string?[n];
            var date = new DateOnly[n];
            var open = new double[n];
            var high = new double[n];
            var low = new double[n];
            var close = new double[n];
            var adj = new double?[n];
            var volume = new long[n];
            var source = new string?[n];
            var ingested = new DateTime[n];
            await rg.ReadAsync(fields[0], symbol.AsMemory()).ConfigureAwait(false);
            await rg.ReadAsync(fields[1], date.AsMemory()).ConfigureAwait(false);
            await rg.ReadAsync(fields[2], open.AsMemory()).ConfigureAwait(false);
            await rg.ReadAsync(fields[3], high.AsMemory()).ConfigureAwait(false);
            await rg.ReadAsync(fields[4], low.AsMemory()).ConfigureAwait(false);
            await rg.ReadAsync(fields[5], close.AsMemory()).ConfigureAwait(false);
            await rg.ReadAsync(fields[6], adj.AsMemory()).ConfigureAwait(false);
            await rg.ReadAsync(fields[7], volume.AsMemory()).ConfigureAwait(false);
            await rg.ReadAsync(fields[8], source.AsMemory()).ConfigureAwait(false);
            await rg.ReadAsync(fields[9], ingested.AsMemory()).ConfigureAwait(false);
            var arrays = new List<IArrowArray>(11)
            {
                Utf8(symbol), Dates(date), Doubles(open), Doubles(high), Doubles(low), Doubles(close), NullableDoubles(adj),
                new Int64Array(Buffer(volume), ArrowBuffer.Empty, n, 0, 0), Utf8(source), Timestamps(ingested),
            };
            if (bronze)
            {
                var run = new string?[n];
                await rg.ReadAsync(fields[10], run.AsMemory()).ConfigureAwait(false);
                arrays.Add(Utf8(run));
            }
            parts.Add(new RecordBatch(schema, arrays, n));
        }
        return parts.Count switch
        {
            0 => new RecordBatch(schema, schema.FieldsList.Select(f => ArrowConcat.Empty(f.DataType)), 0),
            1 => parts[0],
            _ => ArrowConcat.Concatenate(parts),
        };
    }

    private static ArrowBuffer Buffer<T>(T[] values) where T : struct =>
        new(MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    private static DoubleArray Doubles(double[] values) => new(Buffer(values), ArrowBuffer.Empty, values.Length, 0, 0);

    private static DoubleArray NullableDoubles(double?[] values)
    {
        var b = new DoubleArray.Builder().Reserve(values.Length);
        foreach (var v in values)
        {
            b.Append(v);
        }
        return b.Build();
    }

    private static Date32Array Dates(DateOnly[] values)
    {
        var days = new int[values.Length];
        for (var i = 0; i < days.Length; i++)
        {
            days[i] = values[i].DayNumber - UnixEpochDay;
        }
        return new Date32Array(Buffer(days), ArrowBuffer.Empty, days.Length, 0, 0);
    }

    private static TimestampArray Timestamps(DateTime[] values)
    {
        var micros = new long[values.Length];
        for (var i = 0; i < micros.Length; i++)
        {
            micros[i] = (values[i].ToUniversalTime().Ticks - DateTime.UnixEpoch.Ticks) / 10;
        }
        return new TimestampArray(PriceSchema.IngestedAtType, Buffer(micros), ArrowBuffer.Empty, micros.Length, 0, 0);
    }

    private static StringArray Utf8(string?[] values)
    {
        var b = new StringArray.Builder();
        foreach (var v in values)
        {
            b.Append(v);
        }
        return b.Build();
    }

    private static string[] Strings(StringArray a)
    {
        var s = new string[a.Length];
        for (var i = 0; i < s.Length; i++)
        {
            s[i] = a.GetString(i);
        }
        return s;
    }
}
