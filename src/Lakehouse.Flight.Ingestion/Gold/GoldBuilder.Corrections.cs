using System.Globalization;
using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Ingestion.Gold;

public sealed partial class GoldBuilder
{
    /// <summary>The columns a daily-metrics row is computed from: a silver row's, or a gold row's own copy of them.</summary>
    private static readonly Schema MetricInputs = new(
        [.. new[] { PriceColumns.Symbol.Name, PriceColumns.Date.Name, PriceColumns.Close.Name, PriceColumns.AdjClose.Name }
            .Select(n => PriceTables.SilverSchema.GetFieldByName(n))],
        null);

    /// <summary>
    /// The metric rows a write of silver rows dated <paramref name="from"/> to <paramref name="to"/> can have moved, of
    /// <paramref name="all"/> (the symbol's metrics over its whole <paramref name="silver"/> history after the write), or
    /// null when gold does not reach silver's last day (then every row from <paramref name="from"/> is written, which
    /// also brings a lagging gold up to date).
    /// </summary>
    /// <remarks>
    /// A metric row is a function of the (date, close, adj_close) of its symbol's rows up to its own date, and a
    /// daily-metrics row keeps its own close and adj_close, so gold's rows of the written dates are the inputs as they
    /// were before the write: the metrics are computed again from those (the other rows are silver's, which the write did
    /// not touch) and only rows that differ are written, besides the written dates themselves. A correction of a volume
    /// moves no metric; one of a price moves the ~200 rows whose windows hold it, and the drawdowns after it until the
    /// running peak is the same again, not the rest of the history: the later rows are recomputed and compared in memory,
    /// never read from gold's files (decoding every later year of gold to find them unchanged was a fifth of a correction's
    /// time at 26M rows; docs/decisions.md D46).
    /// This relies on what the tail of every write relies on: gold's rows equal the computation over silver where
    /// silver did not change.
    /// </remarks>
    private RecordBatch? MovedMetrics(string symbol, RecordBatch silver, RecordBatch all, DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        var dates = PriceColumns.Date.Of(silver);
        if (silver.Length == 0 || store.LastDate(GoldTables.DailyMetrics, symbol) != dates.GetDateOnly(silver.Length - 1))
        {
            return null;
        }
        var (lo, hi) = RowsWithin(dates, from, to);
        var query = TableQuery.Create(Layers.Name(Layer.Gold), GoldTables.DailyMetricsName, [symbol], Iso(from), Iso(to));
        var before = store.Read(query, cancellationToken).Where(b => b.Length > 0).Select(Inputs).ToList();
        var goldRows = before.Sum(b => b.Length);
        var old = RecordBatches.Concatenate([Inputs(silver.Slice(0, lo)), .. before, Inputs(silver.Slice(hi, silver.Length - hi))]);
        var was = GoldCalculator.DailyMetrics(old, from);
        var now = From(all, DailyMetricsColumns.Date, from);
        // Rows after the written dates have the same dates before and after the write: compared one to one.
        var written = hi - lo;
        var after = now.Length - written;
        if (was.Length - goldRows != after)
        {
            return null;
        }
        var keep = new List<RecordBatch> { now.Slice(0, written) };
        var columns = Enumerable.Range(0, now.ColumnCount).Where(c => now.Column(c) is DoubleArray).ToArray();
        var run = -1;
        for (var k = 0; k <= after; k++)
        {
            var differs = k < after && columns.Any(c => !SameValue((DoubleArray)now.Column(c), written + k, (DoubleArray)was.Column(c), goldRows + k));
            if (differs && run < 0)
            {
                run = k;
            }
            else if (!differs && run >= 0)
            {
                keep.Add(now.Slice(written + run, k - run));
                run = -1;
            }
        }
        return RecordBatches.Concatenate(keep);
    }

    /// <summary>The monthly bars of the months from <paramref name="from"/>'s to <paramref name="to"/>'s, of a tail's window (a bar is a function of its month's rows).</summary>
    private static RecordBatch MonthlyBetween(RecordBatch window, DateOnly from, DateOnly to)
    {
        var rows = From(window, PriceColumns.Date, new DateOnly(from.Year, from.Month, 1));
        var (_, end) = RowsWithin(PriceColumns.Date.Of(rows), DateOnly.MinValue, new DateOnly(to.Year, to.Month, 1).AddMonths(1).AddDays(-1));
        return GoldCalculator.Monthly(end == rows.Length ? rows : rows.Slice(0, end));
    }

    /// <summary>Per symbol whose silver prices changed, the last date of its silver write (its report's <c>date_to</c>).</summary>
    private static Dictionary<string, DateOnly> ChangedTo(IReadOnlyList<StorageReport> written)
    {
        var to = new Dictionary<string, DateOnly>(StringComparer.Ordinal);
        foreach (var r in written)
        {
            if (r.Layer == "silver" && r.Table == PriceTables.PricesDaily && r.Inserted + r.Updated > 0
                && DateOnly.TryParseExact(r.DateTo, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
            {
                to[r.Symbol] = to.TryGetValue(r.Symbol, out var seen) && seen > d ? seen : d;
            }
        }
        return to;
    }

    /// <summary>The rows [lo, hi) of date-ascending <paramref name="dates"/> dated <paramref name="from"/> to <paramref name="to"/>.</summary>
    private static (int Lo, int Hi) RowsWithin(Date32Array dates, DateOnly from, DateOnly to)
    {
        var values = dates.Values;
        var first = from.DayNumber - UnixEpoch;
        var last = to.DayNumber - UnixEpoch;
        var lo = 0;
        while (lo < values.Length && values[lo] < first)
        {
            lo++;
        }
        var hi = lo;
        while (hi < values.Length && values[hi] <= last)
        {
            hi++;
        }
        return (lo, hi);
    }

    private static readonly int UnixEpoch = new DateOnly(1970, 1, 1).DayNumber;

    /// <summary>The metric inputs of silver or gold rows, in one schema so that the two can be put together.</summary>
    private static RecordBatch Inputs(RecordBatch rows) =>
        new(MetricInputs, MetricInputs.FieldsList.Select(f => rows.Column(rows.Schema.GetFieldIndex(f.Name, StringComparer.Ordinal))), rows.Length);

    /// <summary>Both null, or the same bits (a recomputation is bit for bit; docs/decisions.md D36).</summary>
    private static bool SameValue(DoubleArray a, int i, DoubleArray b, int j) =>
        a.IsValid(i) == b.IsValid(j) && (!a.IsValid(i) || BitConverter.DoubleToInt64Bits(a.Values[i]) == BitConverter.DoubleToInt64Bits(b.Values[j]));

    private static string Iso(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
