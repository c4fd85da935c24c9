using Apache.Arrow;
using Apache.Arrow.Types;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>Rows to Arrow record batches of the lake schemas and back.</summary>
internal static class PriceBatches
{
    private static readonly DateTimeOffset Epoch = DateTimeOffset.UnixEpoch;

    public static RecordBatch ToSilver(IReadOnlyList<PriceBar> bars) => Build(PriceSchema.Silver, bars, null);

    public static RecordBatch ToBronze(IReadOnlyList<BronzeRow> rows) =>
        Build(PriceSchema.Bronze, rows.Select(r => r.Bar).ToArray(), rows.Select(r => r.RunId).ToArray());

    private static RecordBatch Build(Schema schema, IReadOnlyList<PriceBar> bars, IReadOnlyList<string>? runIds)
    {
        var n = bars.Count;
        var symbol = new StringArray.Builder();
        var date = new Date32Array.Builder();
        var open = new DoubleArray.Builder().Reserve(n);
        var high = new DoubleArray.Builder().Reserve(n);
        var low = new DoubleArray.Builder().Reserve(n);
        var close = new DoubleArray.Builder().Reserve(n);
        var adj = new DoubleArray.Builder().Reserve(n);
        var volume = new Int64Array.Builder().Reserve(n);
        var source = new StringArray.Builder();
        var ingested = new TimestampArray.Builder(PriceSchema.IngestedAtType).Reserve(n);
        foreach (var b in bars)
        {
            symbol.Append(b.Symbol);
            date.Append(b.Date);
            open.Append(b.Open);
            high.Append(b.High);
            low.Append(b.Low);
            close.Append(b.Close);
            if (b.AdjClose is { } a)
            {
                adj.Append(a);
            }
            else
            {
                adj.AppendNull();
            }
            volume.Append(b.Volume);
            source.Append(b.Source);
            ingested.Append(b.IngestedAt);
        }
        var arrays = new List<IArrowArray>
        {
            symbol.Build(), date.Build(), open.Build(), high.Build(), low.Build(), close.Build(),
            adj.Build(), volume.Build(), source.Build(), ingested.Build(),
        };
        if (runIds is not null)
        {
            var run = new StringArray.Builder();
            foreach (var r in runIds)
            {
                run.Append(r);
            }
            arrays.Add(run.Build());
        }
        return new RecordBatch(schema, arrays, n);
    }

    public static List<PriceBar> ToBars(RecordBatch batch)
    {
        var symbol = (StringArray)batch.Column("symbol");
        var date = (Date32Array)batch.Column("date");
        var open = (DoubleArray)batch.Column("open");
        var high = (DoubleArray)batch.Column("high");
        var low = (DoubleArray)batch.Column("low");
        var close = (DoubleArray)batch.Column("close");
        var adj = (DoubleArray)batch.Column("adj_close");
        var volume = (Int64Array)batch.Column("volume");
        var source = (StringArray)batch.Column("source");
        var ingested = (TimestampArray)batch.Column("ingested_at");
        var list = new List<PriceBar>(batch.Length);
        for (var i = 0; i < batch.Length; i++)
        {
            list.Add(new PriceBar(
                symbol.GetString(i), DateOnly.FromDayNumber(DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber + date.Values[i]),
                open.Values[i], high.Values[i], low.Values[i], close.Values[i],
                adj.IsNull(i) ? null : adj.Values[i], volume.Values[i], source.GetString(i),
                Epoch.AddTicks(ingested.Values[i] * 10)));
        }
        return list;
    }

    public static List<BronzeRow> ToBronzeRows(RecordBatch batch)
    {
        var bars = ToBars(batch);
        var run = (StringArray)batch.Column("run_id");
        var rows = new List<BronzeRow>(bars.Count);
        for (var i = 0; i < bars.Count; i++)
        {
            rows.Add(new BronzeRow(bars[i], run.GetString(i)));
        }
        return rows;
    }

    /// <summary>Rebuilds a batch read from Parquet on the canonical schema object (same types, our field metadata).</summary>
    public static RecordBatch Canonical(RecordBatch batch, Schema schema, string path)
    {
        if (batch.ColumnCount != schema.FieldsList.Count)
        {
            throw new InvalidDataException($"{path}: {batch.ColumnCount} columns, expected {schema.FieldsList.Count}");
        }
        var arrays = new IArrowArray[batch.ColumnCount];
        for (var i = 0; i < arrays.Length; i++)
        {
            var want = schema.FieldsList[i];
            var have = batch.Schema.FieldsList[i];
            if (have.Name != want.Name || have.DataType.TypeId != want.DataType.TypeId)
            {
                throw new InvalidDataException($"{path}: column {i} is {have.Name}:{have.DataType.Name}, expected {want.Name}:{want.DataType.Name}");
            }
            arrays[i] = batch.Column(i);
        }
        return new RecordBatch(schema, arrays, batch.Length);
    }

    public static int DayNumber(DateOnly d) => d.DayNumber - UnixEpochDay;

    public static readonly int UnixEpochDay = DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;

    public static bool IsType<T>(IArrowType t) where T : IArrowType => t is T;
}

internal sealed record BronzeRow(PriceBar Bar, string RunId);
