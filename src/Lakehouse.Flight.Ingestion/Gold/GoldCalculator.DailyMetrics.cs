using Apache.Arrow;
using Lakehouse.Flight.Ingestion.Gold.Internal;

namespace Lakehouse.Flight.Ingestion.Gold;

public static partial class GoldCalculator
{
    /// <summary>Trading days in a year, the annualisation factor of <c>vol_20</c> (sqrt(252)).</summary>
    public const int TradingDaysPerYear = 252;

    /// <summary>
    /// Daily metrics (<see cref="GoldSchemas.DailyMetrics"/>). Every metric is computed on the price
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
    public static RecordBatch DailyMetrics(RecordBatch silver)
    {
        var input = SilverInput.Read(silver, "silver batch");
        var closeArray = input.Doubles("close");
        var adjArray = input.Doubles("adj_close", nullable: true);
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

        var dateOut = ArrowColumns.Buffer<int>(n);
        input.Date.Values.CopyTo(ArrowColumns.Span<int>(dateOut));
        var closeOut = ArrowColumns.Buffer<double>(n);
        close.CopyTo(ArrowColumns.Span<double>(closeOut));

        var returnOut = ArrowColumns.Buffer<double>(n);
        var logReturnOut = ArrowColumns.Buffer<double>(n);
        var ret = ArrowColumns.Span<double>(returnOut);
        var logRet = ArrowColumns.Span<double>(logReturnOut);
        for (var i = 1; i < n; i++)
        {
            var ratio = price[i] / price[i - 1];
            ret[i] = ratio - 1;
            logRet[i] = Math.Log(ratio);
        }

        var volOut = ArrowColumns.Buffer<double>(n);
        // Returns start at row 1, so the first full window of 20 returns ends at row 20.
        Rolling.SampleStdDev(ret[Math.Min(1, n)..], Window.Vol, ArrowColumns.Span<double>(volOut)[Math.Min(1, n)..]);
        var annualise = Math.Sqrt(TradingDaysPerYear);
        foreach (ref var x in ArrowColumns.Span<double>(volOut))
        {
            x *= annualise;
        }

        var drawdownOut = ArrowColumns.Buffer<double>(n);
        var drawdown = ArrowColumns.Span<double>(drawdownOut);
        var peak = double.NegativeInfinity;
        for (var i = 0; i < n; i++)
        {
            peak = Math.Max(peak, price[i]);
            drawdown[i] = price[i] / peak - 1;
        }

        return new RecordBatch(GoldSchemas.DailyMetrics,
        [
            ArrowColumns.Repeat(input.Symbol, n),
            ArrowColumns.Dates(dateOut, n),
            ArrowColumns.Doubles(closeOut, n),
            ArrowColumns.Copy(adjArray),
            ArrowColumns.Doubles(returnOut, n, ArrowColumns.Validity.Prefix(n, 1)),
            ArrowColumns.Doubles(logReturnOut, n, ArrowColumns.Validity.Prefix(n, 1)),
            MovingAverage(price, Window.Sma20, n),
            MovingAverage(price, Window.Sma50, n),
            MovingAverage(price, Window.Sma200, n),
            ArrowColumns.Doubles(volOut, n, ArrowColumns.Validity.Prefix(n, Window.Vol)),
            ArrowColumns.Doubles(drawdownOut, n),
        ], n);
    }

    private static DoubleArray MovingAverage(double[] price, int window, int n)
    {
        var values = ArrowColumns.Buffer<double>(n);
        Rolling.Mean(price, window, ArrowColumns.Span<double>(values));
        return ArrowColumns.Doubles(values, n, ArrowColumns.Validity.Prefix(n, window - 1));
    }

    private static class Window
    {
        public const int Sma20 = 20;
        public const int Sma50 = 50;
        public const int Sma200 = 200;
        public const int Vol = 20;
    }
}
