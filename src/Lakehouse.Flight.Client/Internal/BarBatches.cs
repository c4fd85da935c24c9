using Apache.Arrow;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Client.Internal;

/// <summary>Typed bars to the upload schema (the silver columns) and silver batches back to bars.</summary>
internal static class BarBatches
{
    public static RecordBatch ToBatch(IReadOnlyList<PriceBar> bars, int offset, int count)
    {
        var symbol = new StringArray.Builder();
        var date = new Date32Array.Builder();
        var open = new DoubleArray.Builder().Reserve(count);
        var high = new DoubleArray.Builder().Reserve(count);
        var low = new DoubleArray.Builder().Reserve(count);
        var close = new DoubleArray.Builder().Reserve(count);
        var adj = new DoubleArray.Builder().Reserve(count);
        var volume = new Int64Array.Builder().Reserve(count);
        var source = new StringArray.Builder();
        var ingested = new TimestampArray.Builder(PriceSchema.IngestedAtType).Reserve(count);
        for (var i = offset; i < offset + count; i++)
        {
            var b = bars[i];
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
            source.Append(b.Source ?? "");
            ingested.Append(b.IngestedAt);
        }
        return new RecordBatch(PriceSchema.Silver,
        [
            symbol.Build(), date.Build(), open.Build(), high.Build(), low.Build(), close.Build(),
            adj.Build(), volume.Build(), source.Build(), ingested.Build(),
        ], count);
    }

    public static IEnumerable<PriceBar> ToBars(RecordBatch batch)
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
        for (var i = 0; i < batch.Length; i++)
        {
            yield return new PriceBar(symbol.GetString(i), date.GetDateOnly(i)!.Value, open.GetValue(i)!.Value, high.GetValue(i)!.Value,
                low.GetValue(i)!.Value, close.GetValue(i)!.Value, adj.GetValue(i), volume.GetValue(i)!.Value, source.GetString(i),
                ingested.GetTimestamp(i)!.Value);
        }
    }
}
