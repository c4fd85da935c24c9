namespace Lakehouse.Flight.Ingestion.Gold.Internal;

/// <summary>
/// Trailing-window statistics over a span. A position whose window is not full is left at 0; the caller
/// marks it null.
/// </summary>
internal static class Rolling
{
    /// <summary>
    /// Mean of the last <paramref name="window"/> values, by one running sum (O(1) per row whatever the
    /// window). The sum is compensated (Neumaier) because a plain running sum adds and removes thousands of
    /// values and would drift from the window's true sum; with compensation the error stays at a few ulps.
    /// </summary>
    public static void Mean(ReadOnlySpan<double> x, int window, Span<double> mean)
    {
        var sum = 0.0;
        var compensation = 0.0;
        for (var i = 0; i < x.Length; i++)
        {
            Add(ref sum, ref compensation, x[i]);
            if (i >= window)
            {
                Add(ref sum, ref compensation, -x[i - window]);
            }
            if (i >= window - 1)
            {
                mean[i] = (sum + compensation) / window;
            }
        }
    }

    /// <summary>
    /// Sample standard deviation (n - 1 denominator) of the last <paramref name="window"/> values. Each
    /// window is recomputed in two passes (mean, then squared deviations) rather than updated by a running
    /// sum of squares: the window is short (20), two-pass is exact to rounding and cannot drift or cancel
    /// catastrophically after a volatile stretch leaves the window, and it stays O(window) per row.
    /// </summary>
    public static void SampleStdDev(ReadOnlySpan<double> x, int window, Span<double> stdDev)
    {
        for (var end = window; end <= x.Length; end++)
        {
            var w = x[(end - window)..end];
            var sum = 0.0;
            foreach (var v in w)
            {
                sum += v;
            }
            var mean = sum / window;
            var squares = 0.0;
            var residual = 0.0;
            foreach (var v in w)
            {
                var d = v - mean;
                squares += d * d;
                residual += d;
            }
            // The residual term corrects the mean's own rounding (the "corrected two-pass" algorithm).
            var m2 = squares - residual * residual / window;
            stdDev[end - 1] = Math.Sqrt(Math.Max(0, m2) / (window - 1));
        }
    }

    private static void Add(ref double sum, ref double compensation, double value)
    {
        var t = sum + value;
        compensation += Math.Abs(sum) >= Math.Abs(value) ? (sum - t) + value : (value - t) + sum;
        sum = t;
    }
}
