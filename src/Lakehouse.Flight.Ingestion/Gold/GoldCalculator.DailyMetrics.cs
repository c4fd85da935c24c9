using Apache.Arrow;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Ingestion.Gold.Internal;

namespace Lakehouse.Flight.Ingestion.Gold;

public static partial class GoldCalculator
{
    /// <summary>Trading days in a year, the annualisation factor of <c>vol_20</c> (sqrt(252)).</summary>
    public const int TradingDaysPerYear = 252;

    /// <summary>
    /// Daily metrics (<see cref="GoldTables.DailyMetrics"/>). Every metric is computed on the price
    /// p = adj_close, or close on a row whose adj_close is null (a source without adjusted prices still gets
    /// metrics; the output's adj_close column stays null there so the fallback is visible):
    /// <list type="bullet">
    /// <item>return = p[t] / p[t-1] - 1; log_return = ln(p[t] / p[t-1]); null on the first row.</item>
    /// <item>sma_N = mean of p over the last N rows, null for the first N-1 rows.</item>
    /// <item>vol_20 = sample standard deviation (n - 1) of the last 20 returns x sqrt(252); null until 20
    /// returns exist (the first 20 rows).</item>
    /// <item>drawdown = p / running max(p) - 1 (0 at a new peak, negative below it).</item>
    /// </list>
    /// Rows are consecutive trading days: a gap in the dates (a holiday, a missing month) is not filled.
    /// p must be finite and positive (silver guarantees it); otherwise <see cref="ArgumentException"/>.
    /// </summary>
    public static RecordBatch DailyMetrics(RecordBatch silver) => DailyMetrics(silver, from: null);

    /// <summary>
    /// The rows of <see cref="DailyMetrics(RecordBatch)"/> dated on or after <paramref name="from"/> (all rows when
    /// null), computed from the earlier rows without computing theirs: every value depends only on its own window of
    /// prices (summed afresh, not by a running sum that would carry the history's rounding) and on the running peak,
    /// so the tail is bit for bit the full computation's tail. A daily append computes one row per symbol, not its
    /// whole history.
    /// </summary>
    public static RecordBatch DailyMetrics(RecordBatch silver, DateOnly? from) => DailyMetrics(silver, from, double.NegativeInfinity);

    /// <summary>
    /// <see cref="DailyMetrics(RecordBatch, DateOnly?)"/> of a window of the symbol's rows: <paramref name="silver"/>
    /// starts at least 200 rows before <paramref name="from"/> (the longest window) and <paramref name="priorPeak"/> is
    /// the highest price of the rows before it, so the rows from <paramref name="from"/> are those of the whole series.
    /// </summary>
    public static RecordBatch DailyMetrics(RecordBatch silver, DateOnly? from, double priorPeak)
    {
        var input = SilverInput.Read(silver, "silver batch");
        var closeArray = input.Column(PriceColumns.Close);
        var adjArray = input.Column(PriceColumns.AdjClose);
        var n = input.Length;

        var price = new double[n];
        var close = closeArray.Values;
        var adj = adjArray.Values;
        for (var i = 0; i < n; i++)
        {
            var p = adjArray.IsValid(i) ? adj[i] : close[i];
            if (!double.IsFinite(p) || p <= 0)
            {
                throw new ArgumentException(
                    $"silver batch for '{input.Symbol}' has price {p} on {SilverInput.DateAt(input.Date.Values[i]):yyyy-MM-dd}; prices must be finite and positive",
                    nameof(silver));
            }
            price[i] = p;
        }

        var s = 0;
        if (from is { } day)
        {
            var first = day.DayNumber - ArrowColumns.UnixEpochDayNumber;
            while (s < n && input.Date.Values[s] < first)
            {
                s++;
            }
        }
        var m = n - s;

        var dateOut = ArrowColumns.Buffer<int>(m);
        input.Date.Values[s..].CopyTo(ArrowColumns.Span<int>(dateOut));
        var closeOut = ArrowColumns.Buffer<double>(m);
        close[s..].CopyTo(ArrowColumns.Span<double>(closeOut));

        // Returns of rows [r0, n) (r0 = the first row whose return an output row's vol window needs).
        var r0 = Math.Max(1, s - Window.Vol + 1);
        var ret = new double[n];
        for (var i = r0; i < n; i++)
        {
            ret[i] = price[i] / price[i - 1] - 1;
        }
        var returnOut = ArrowColumns.Buffer<double>(m);
        var logReturnOut = ArrowColumns.Buffer<double>(m);
        var retOut = ArrowColumns.Span<double>(returnOut);
        var logRetOut = ArrowColumns.Span<double>(logReturnOut);
        for (var i = Math.Max(1, s); i < n; i++)
        {
            retOut[i - s] = ret[i];
            logRetOut[i - s] = Math.Log(price[i] / price[i - 1]);
        }

        var volOut = ArrowColumns.Buffer<double>(m);
        var vol = ArrowColumns.Span<double>(volOut);
        var annualise = Math.Sqrt(TradingDaysPerYear);
        // Returns start at row 1, so the first full window of 20 returns ends at row 20.
        for (var i = Math.Max(Window.Vol, s); i < n; i++)
        {
            vol[i - s] = Rolling.SampleStdDev(ret.AsSpan(i - Window.Vol + 1, Window.Vol)) * annualise;
        }

        var drawdownOut = ArrowColumns.Buffer<double>(m);
        var drawdown = ArrowColumns.Span<double>(drawdownOut);
        var peak = priorPeak;
        for (var i = 0; i < s; i++)
        {
            peak = Math.Max(peak, price[i]);
        }
        for (var i = s; i < n; i++)
        {
            peak = Math.Max(peak, price[i]);
            drawdown[i - s] = price[i] / peak - 1;
        }

        return new TableBatchBuilder(GoldTables.DailyMetrics)
            .Set(DailyMetricsColumns.Symbol, ArrowColumns.Repeat(input.Symbol, m))
            .Set(DailyMetricsColumns.Date, ArrowColumns.Dates(dateOut, m))
            .Set(DailyMetricsColumns.Close, ArrowColumns.Doubles(closeOut, m))
            .Set(DailyMetricsColumns.AdjClose, ArrowColumns.Copy(s == 0 ? adjArray : (DoubleArray)adjArray.Slice(s, m)))
            .Set(DailyMetricsColumns.Return, ArrowColumns.Doubles(returnOut, m, ArrowColumns.Validity.Prefix(m, 1 - s)))
            .Set(DailyMetricsColumns.LogReturn, ArrowColumns.Doubles(logReturnOut, m, ArrowColumns.Validity.Prefix(m, 1 - s)))
            .Set(DailyMetricsColumns.Sma20, MovingAverage(price, Window.Sma20, s))
            .Set(DailyMetricsColumns.Sma50, MovingAverage(price, Window.Sma50, s))
            .Set(DailyMetricsColumns.Sma200, MovingAverage(price, Window.Sma200, s))
            .Set(DailyMetricsColumns.Vol20, ArrowColumns.Doubles(volOut, m, ArrowColumns.Validity.Prefix(m, Window.Vol - s)))
            .Set(DailyMetricsColumns.Drawdown, ArrowColumns.Doubles(drawdownOut, m))
            .Build(m);
    }

    /// <summary>sma over <paramref name="window"/> rows for rows [<paramref name="from"/>, n), null until the window is full.</summary>
    private static DoubleArray MovingAverage(double[] price, int window, int from)
    {
        var m = price.Length - from;
        var values = ArrowColumns.Buffer<double>(m);
        var mean = ArrowColumns.Span<double>(values);
        for (var i = Math.Max(window - 1, from); i < price.Length; i++)
        {
            mean[i - from] = Rolling.Sum(price.AsSpan(i - window + 1, window)) / window;
        }
        return ArrowColumns.Doubles(values, m, ArrowColumns.Validity.Prefix(m, window - 1 - from));
    }

    private static class Window
    {
        public const int Sma20 = 20;
        public const int Sma50 = 50;
        public const int Sma200 = 200;
        public const int Vol = 20;
    }
}
