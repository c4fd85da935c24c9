using Apache.Arrow;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>Rows to Arrow record batches of the lake schemas and back.</summary>
internal static class PriceBatches
{
    public static RecordBatch ToSilver(IReadOnlyList<PriceBar> bars) => PriceBarBatches.ToBatch(bars);

    /// <summary>The silver columns of the rows plus the run that landed each one.</summary>
    public static RecordBatch ToBronze(IReadOnlyList<BronzeRow> rows)
    {
        var silver = PriceBarBatches.ToBatch(rows.Select(r => r.Bar).ToArray());
        var run = new StringArray.Builder();
        foreach (var r in rows)
        {
            run.Append(r.RunId);
        }
        return new RecordBatch(PriceSchema.Bronze, [.. silver.Arrays, run.Build()], silver.Length);
    }

    public static List<PriceBar> ToBars(RecordBatch batch) => PriceBarBatches.ToBars(batch).ToList();

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

    public static int DayNumber(DateOnly d) => d.DayNumber - UnixEpochDay;

    public static readonly int UnixEpochDay = DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;
}

internal sealed record BronzeRow(PriceBar Bar, string RunId);
