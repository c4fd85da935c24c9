namespace Lakehouse.Flight.Ingestion.Gold.Internal;

/// <summary>
/// Statistics of one trailing window, each computed from the window's values alone (never carried over from the
/// previous window), so a value is the same whether the series was computed whole or only its tail.
/// </summary>
internal static class Rolling
{
    /// <summary>
    /// The sum of <paramref name="x"/> in four interleaved partial sums added at the end: a fixed order (the same on
    /// every machine, unlike a vector width), four independent additions per step, and a rounding error that grows
    /// with a quarter of the window's length. For sma_200 of positive prices the relative error stays ~1e-15.
    /// </summary>
    public static double Sum(ReadOnlySpan<double> x)
    {
        double a = 0, b = 0, c = 0, d = 0;
        var i = 0;
        for (; i + 4 <= x.Length; i += 4)
        {
            a += x[i];
            b += x[i + 1];
            c += x[i + 2];
            d += x[i + 3];
        }
        for (; i < x.Length; i++)
        {
            a += x[i];
        }
        return (a + b) + (c + d);
    }

    /// <summary>
    /// Sample standard deviation (n - 1 denominator) of <paramref name="w"/>, in two passes (mean, then squared
    /// deviations) rather than from a running sum of squares: the window is short (20), two-pass is exact to rounding
    /// and cannot cancel catastrophically after a volatile stretch leaves the window.
    /// </summary>
    public static double SampleStdDev(ReadOnlySpan<double> w)
    {
        var sum = 0.0;
        foreach (var v in w)
        {
            sum += v;
        }
        var mean = sum / w.Length;
        var squares = 0.0;
        var residual = 0.0;
        foreach (var v in w)
        {
            var dv = v - mean;
            squares += dv * dv;
            residual += dv;
        }
        // The residual term corrects the mean's own rounding (the "corrected two-pass" algorithm).
        var m2 = squares - residual * residual / w.Length;
        return Math.Sqrt(Math.Max(0, m2) / (w.Length - 1));
    }
}
