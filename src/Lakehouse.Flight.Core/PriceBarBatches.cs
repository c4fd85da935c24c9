using System.Globalization;
using Apache.Arrow;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Core;

/// <summary>Typed bars to record batches of the silver schema and back; cell values for text output.</summary>
public static class PriceBarBatches
{
    /// <summary><paramref name="count"/> bars from <paramref name="offset"/> as one batch of <see cref="PriceTables.SilverSchema"/>.</summary>
    public static RecordBatch ToBatch(IReadOnlyList<PriceBar> bars, int offset = 0, int? count = null)
    {
        var n = count ?? bars.Count - offset;
        var symbol = new StringArray.Builder();
        var date = new Date32Array.Builder().Reserve(n);
        var open = new DoubleArray.Builder().Reserve(n);
        var high = new DoubleArray.Builder().Reserve(n);
        var low = new DoubleArray.Builder().Reserve(n);
        var close = new DoubleArray.Builder().Reserve(n);
        var adj = new DoubleArray.Builder().Reserve(n);
        var volume = new Int64Array.Builder().Reserve(n);
        var source = new StringArray.Builder();
        var ingested = new TimestampArray.Builder(PriceTables.TimestampType).Reserve(n);
        for (var i = offset; i < offset + n; i++)
        {
            var b = bars[i];
            symbol.Append(b.Symbol);
            date.Append(b.Date);
            open.Append(b.Open);
            high.Append(b.High);
            low.Append(b.Low);
            close.Append(b.Close);
            adj.Append(b.AdjClose);
            volume.Append(b.Volume);
            source.Append(b.Source ?? "");
            ingested.Append(b.IngestedAt);
        }
        return new TableBatchBuilder(PriceTables.Silver)
            .Set(PriceColumns.Symbol, symbol.Build()).Set(PriceColumns.Date, date.Build())
            .Set(PriceColumns.Open, open.Build()).Set(PriceColumns.High, high.Build()).Set(PriceColumns.Low, low.Build())
            .Set(PriceColumns.Close, close.Build()).Set(PriceColumns.AdjClose, adj.Build()).Set(PriceColumns.Volume, volume.Build())
            .Set(PriceColumns.Source, source.Build()).Set(PriceColumns.IngestedAt, ingested.Build())
            .Build(n);
    }

    /// <summary>The rows of a batch holding the silver columns (any order, extra columns ignored) as bars.</summary>
    public static IEnumerable<PriceBar> ToBars(RecordBatch batch)
    {
        var c = new PriceArrays(batch);
        var source = PriceColumns.Source.Of(batch);
        var ingested = PriceColumns.IngestedAt.Of(batch);
        for (var i = 0; i < batch.Length; i++)
        {
            yield return new PriceBar(c.Symbol.GetString(i), c.Date.GetDateOnly(i)!.Value, c.Open.GetValue(i)!.Value, c.High.GetValue(i)!.Value,
                c.Low.GetValue(i)!.Value, c.Close.GetValue(i)!.Value, c.AdjClose.GetValue(i), c.Volume.GetValue(i)!.Value, source.GetString(i),
                ingested.GetTimestamp(i)!.Value);
        }
    }

    /// <summary>
    /// A cell as a plain value for JSON, CSV or a terminal table: strings, ISO dates
    /// (<c>2024-01-02</c>), doubles, longs, UTC timestamps with microseconds; null for a null cell.
    /// </summary>
    public static object? ValueAt(IArrowArray array, int index) => array switch
    {
        StringArray s => s.GetString(index),
        Date32Array d => d.GetDateOnly(index)?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DoubleArray d => d.GetValue(index),
        Int64Array l => l.GetValue(index),
        Int32Array n => n.GetValue(index),
        BooleanArray b => b.GetValue(index),
        TimestampArray t => t.GetTimestamp(index)?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
        _ => throw new NotSupportedException($"no text form for {array.Data.DataType.Name} columns"),
    };
}
