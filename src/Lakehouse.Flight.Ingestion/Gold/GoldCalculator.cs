using Apache.Arrow;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Ingestion.Gold.Internal;

namespace Lakehouse.Flight.Ingestion.Gold;

/// <summary>
/// Gold tables computed from one symbol's silver rows: pure functions from an Arrow record batch to an
/// Arrow record batch, no storage. The input holds the silver columns in any order (extra columns are
/// ignored), one symbol, date-ascending with one row per date; anything else is an
/// <see cref="ArgumentException"/>. An empty input gives an empty batch of the output schema.
/// </summary>
public static partial class GoldCalculator
{
    /// <summary>
    /// Monthly bars (<see cref="GoldTables.PricesMonthlySchema"/>), one row per calendar month that has trading
    /// days (a month without rows is absent, not a zero row): open = the first day's open, close = the last
    /// day's close, high = max(high), low = min(low), adj_close = the last day's adj_close (null when that
    /// day has none), volume = sum, trading_days = number of rows.
    /// </summary>
    public static RecordBatch Monthly(RecordBatch silver)
    {
        var input = SilverInput.Read(silver, "silver batch");
        var dates = input.Date.Values;
        var open = input.Column(PriceColumns.Open).Values;
        var high = input.Column(PriceColumns.High).Values;
        var low = input.Column(PriceColumns.Low).Values;
        var close = input.Column(PriceColumns.Close).Values;
        var adjArray = input.Column(PriceColumns.AdjClose);
        var adj = adjArray.Values;
        var volume = input.Column(PriceColumns.Volume).Values;
        var n = input.Length;

        // Rows are date-ascending, so a month is one run of rows; a run ends at the first date on or after
        // the next month's first day, which keeps calendar arithmetic to once per month, not per row.
        var months = 0;
        for (var i = 0; i < n; i = MonthEnd(dates, i, out _))
        {
            months++;
        }

        var monthOut = ArrowColumns.Buffer<int>(months);
        var openOut = ArrowColumns.Buffer<double>(months);
        var highOut = ArrowColumns.Buffer<double>(months);
        var lowOut = ArrowColumns.Buffer<double>(months);
        var closeOut = ArrowColumns.Buffer<double>(months);
        var adjOut = ArrowColumns.Buffer<double>(months);
        var volumeOut = ArrowColumns.Buffer<long>(months);
        var daysOut = ArrowColumns.Buffer<int>(months);
        var adjValid = new ArrowColumns.Validity(months);
        var mo = ArrowColumns.Span<int>(monthOut);
        var o = ArrowColumns.Span<double>(openOut);
        var h = ArrowColumns.Span<double>(highOut);
        var l = ArrowColumns.Span<double>(lowOut);
        var c = ArrowColumns.Span<double>(closeOut);
        var a = ArrowColumns.Span<double>(adjOut);
        var v = ArrowColumns.Span<long>(volumeOut);
        var td = ArrowColumns.Span<int>(daysOut);

        for (int m = 0, start = 0; start < n; m++)
        {
            // Rows [start, end) are one month.
            var end = MonthEnd(dates, start, out var firstDay);
            var last = end - 1;
            mo[m] = firstDay;
            o[m] = open[start];
            c[m] = close[last];
            var hi = high[start];
            var lo = low[start];
            long vol = 0;
            for (var j = start; j < end; j++)
            {
                hi = Math.Max(hi, high[j]);
                lo = Math.Min(lo, low[j]);
                vol = checked(vol + volume[j]);
            }
            h[m] = hi;
            l[m] = lo;
            v[m] = vol;
            td[m] = end - start;
            var adjValidLast = adjArray.IsValid(last);
            a[m] = adjValidLast ? adj[last] : 0;
            adjValid.Set(m, adjValidLast);
            start = end;
        }

        return new TableBatchBuilder(GoldTables.PricesMonthly)
            .Set(PricesMonthlyColumns.Symbol, ArrowColumns.Repeat(input.Symbol, months))
            .Set(PricesMonthlyColumns.Month, ArrowColumns.Dates(monthOut, months))
            .Set(PricesMonthlyColumns.Open, ArrowColumns.Doubles(openOut, months))
            .Set(PricesMonthlyColumns.High, ArrowColumns.Doubles(highOut, months))
            .Set(PricesMonthlyColumns.Low, ArrowColumns.Doubles(lowOut, months))
            .Set(PricesMonthlyColumns.Close, ArrowColumns.Doubles(closeOut, months))
            .Set(PricesMonthlyColumns.AdjClose, ArrowColumns.Doubles(adjOut, months, adjValid))
            .Set(PricesMonthlyColumns.Volume, ArrowColumns.Int64s(volumeOut, months))
            .Set(PricesMonthlyColumns.TradingDays, ArrowColumns.Int32s(daysOut, months))
            .Build(months);
    }

    /// <summary>The end (exclusive) of the month run starting at row <paramref name="start"/>, and that month's first day as date32.</summary>
    private static int MonthEnd(ReadOnlySpan<int> dates, int start, out int firstDay)
    {
        var d = SilverInput.DateAt(dates[start]);
        var first = new DateOnly(d.Year, d.Month, 1);
        firstDay = first.DayNumber - ArrowColumns.UnixEpochDayNumber;
        // The month's last day + 1, without date arithmetic that would overflow in December 9999.
        var next = first.DayNumber + DateTime.DaysInMonth(d.Year, d.Month) - ArrowColumns.UnixEpochDayNumber;
        var end = start + 1;
        while (end < dates.Length && dates[end] < next)
        {
            end++;
        }
        return end;
    }
}
