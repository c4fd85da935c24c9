using Apache.Arrow;
using Apache.Arrow.Types;
using Lakehouse.Flight.Core;
using Parquet;
using Parquet.Schema;

namespace Lakehouse.Flight.Benchmarks.ParquetLibs;

/// <summary>
/// The silver partition file through Parquet.Net (pure managed): decoded column by column into .NET
/// arrays, then wrapped as Arrow arrays, so both libraries end at the same Arrow-ready RecordBatch.
/// </summary>
internal static class ParquetNetCodec
{
    private static readonly ParquetOptions Options = new() { UseDateOnlyTypeForDates = true };

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

    private static readonly ParquetSchema Schema = new(Symbol, Date, Open, High, Low, Close, AdjClose, Volume, Source, IngestedAt);

    public static async Task<RecordBatch> ReadAsync(string path)
    {
        await using var reader = await ParquetReader.CreateAsync(path, Options).ConfigureAwait(false);
        var fields = reader.Schema.GetDataFields();
        var batches = new List<RecordBatch>();
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
            batches.Add(ToArrow(n, symbol, date, open, high, low, close, adj, volume, source, ingested));
        }
        return batches.Count == 1 ? batches[0] : throw new InvalidDataException($"{path}: expected one row group, found {batches.Count}");
    }

    public static async Task WriteAsync(Stream output, RecordBatch batch)
    {
        var n = batch.Length;
        var date = ((Date32Array)batch.Column(1)).Values;
        var dates = new DateOnly[n];
        for (var i = 0; i < n; i++)
        {
            dates[i] = DateOnly.FromDayNumber(UnixEpochDay + date[i]);
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
        await using var writer = await ParquetWriter.CreateAsync(Schema, output).ConfigureAwait(false);
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
    }

    private static readonly int UnixEpochDay = DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;

    private static string[] Strings(StringArray a)
    {
        var s = new string[a.Length];
        for (var i = 0; i < s.Length; i++)
        {
            s[i] = a.GetString(i);
        }
        return s;
    }

    private static RecordBatch ToArrow(int n, string?[] symbol, DateOnly[] date, double[] open, double[] high, double[] low, double[] close,
        double?[] adj, long[] volume, string?[] source, DateTime[] ingested)
    {
        var dates = new Date32Array.Builder().Reserve(n);
        foreach (var d in date)
        {
            dates.Append(d);
        }
        var adjB = new DoubleArray.Builder().Reserve(n);
        foreach (var a in adj)
        {
            adjB.Append(a);
        }
        var ts = new TimestampArray.Builder(PriceSchema.IngestedAtType).Reserve(n);
        foreach (var t in ingested)
        {
            ts.Append(new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)));
        }
        IArrowArray[] arrays =
        [
            Utf8(symbol), dates.Build(), Doubles(open), Doubles(high), Doubles(low), Doubles(close), adjB.Build(),
            new Int64Array(new ArrowBuffer(System.Runtime.InteropServices.MemoryMarshal.AsBytes(volume.AsSpan()).ToArray()), ArrowBuffer.Empty, n, 0, 0),
            Utf8(source), ts.Build(),
        ];
        return new RecordBatch(PriceSchema.Silver, arrays, n);
    }

    private static DoubleArray Doubles(double[] values) =>
        new(new ArrowBuffer(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray()), ArrowBuffer.Empty, values.Length, 0, 0);

    private static StringArray Utf8(string?[] values)
    {
        var b = new StringArray.Builder();
        foreach (var v in values)
        {
            b.Append(v);
        }
        return b.Build();
    }
}
