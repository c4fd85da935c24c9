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
        // A seeded Random draws the same numbers in every process on this runtime; the seed depends only on (symbol, date).
        var symbolSeed = symbol.Aggregate(17, (h, c) => unchecked((h * 31) + c));
        var random = new Random(unchecked((symbolSeed * 397) ^ date.DayNumber));
        // A level per symbol (20 to 500) and a close within 5% of it.
        var level = 20 + ((symbolSeed & int.MaxValue) % 480);
        var close = Round(level * (0.95 + (random.NextDouble() * 0.1)));
        var open = Round(close * (0.99 + (random.NextDouble() * 0.02)));
        var high = Math.Max(Round(Math.Max(open, close) * (1 + (random.NextDouble() * 0.015))), Math.Max(open, close));
        var low = Math.Min(Round(Math.Min(open, close) * (1 - (random.NextDouble() * 0.015))), Math.Min(open, close));
        var volume = 100_000 + random.NextInt64(5_000_000);
        return new PriceBar(symbol, date, open, high, low, close, close, volume, Source, DateTimeOffset.UnixEpoch);
    }

    private static double Round(double v) => Math.Max(0.01, Math.Round(v, 2));
}
