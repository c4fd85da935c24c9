using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Testing;

/// <summary>
/// Deterministic daily bars for storage and server tests, without the ingestion project: one bar per symbol and
/// business day (Monday to Friday), valid OHLC, prices with two decimals. A (symbol, date) always gets the same bar
/// whatever range is asked for, so writing an overlapping range again changes nothing.
/// </summary>
public static class TestBars
{
    /// <summary>The source the bars name.</summary>
    public const string Source = "synthetic";

    public static IReadOnlyList<PriceBar> Generate(IEnumerable<string> symbols, DateOnly from, DateOnly to)
    {
        var bars = new List<PriceBar>();
        foreach (var symbol in Symbols.NormalizeAll(symbols))
        {
            for (var n = from.DayNumber; n <= to.DayNumber; n++)
            {
                var date = DateOnly.FromDayNumber(n);
                if (date.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday))
                {
                    bars.Add(Bar(symbol, date));
                }
            }
        }
        return bars;
    }

    /// <summary>The bar of <paramref name="symbol"/> on <paramref name="date"/> (any day of the week).</summary>
    public static PriceBar Bar(string symbol, DateOnly date)
    {
        var h = Mix(StableHash(symbol) ^ (ulong)date.DayNumber);
        // A level per symbol (20 to 500) and a move of up to 5% per day around it.
        var level = 20 + StableHash(symbol) % 480;
        var close = Round(level * (1 + (Unit(h) - 0.5) * 0.1));
        var open = Round(close * (1 + (Unit(Mix(h ^ 1)) - 0.5) * 0.02));
        var high = Round(Math.Max(open, close) * (1 + Unit(Mix(h ^ 2)) * 0.015));
        var low = Round(Math.Min(open, close) * (1 - Unit(Mix(h ^ 3)) * 0.015));
        var volume = 100_000 + (long)(Unit(Mix(h ^ 4)) * 5_000_000);
        return new PriceBar(symbol, date, open, Math.Max(high, Math.Max(open, close)), Math.Min(low, Math.Min(open, close)),
            close, close, volume, Source, DateTimeOffset.UnixEpoch);
    }

    private static double Round(double v) => Math.Max(0.01, Math.Round(v, 2));

    private static double Unit(ulong h) => (h >> 11) * (1.0 / (1UL << 53));

    private static ulong StableHash(string s)
    {
        // FNV-1a: the same in every process, unlike string.GetHashCode.
        var h = 14695981039346656037UL;
        foreach (var c in s)
        {
            h = (h ^ c) * 1099511628211UL;
        }
        return h;
    }

    private static ulong Mix(ulong z)
    {
        // SplitMix64's finaliser.
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
