using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Ingestion;

/// <summary>
/// Deterministic daily bars for demos, tests and benchmarks: a seeded random walk over business days
/// (Monday to Friday) with valid OHLC. The bar of a (symbol, date, seed) is the same whatever range is
/// asked for, so re-ingesting any overlapping range is a no-op.
/// </summary>
public static class SyntheticBars
{
    public const string Name = "synthetic";

    /// <summary>The walk starts here; earlier dates are not generated.</summary>
    public static readonly DateOnly Epoch = new(1990, 1, 1);

    public static IReadOnlyList<PriceBar> Generate(IEnumerable<string> symbols, DateOnly from, DateOnly to, long seed = 42)
    {
        if (from > to)
        {
            throw LakehouseException.Invalid($"from {from:yyyy-MM-dd} is after to {to:yyyy-MM-dd}");
        }
        var bars = new List<PriceBar>();
        foreach (var symbol in Symbols.NormalizeAll(symbols))
        {
            bars.AddRange(GenerateOne(symbol, from, to, seed));
        }
        return bars;
    }

    public static IEnumerable<PriceBar> GenerateOne(string symbol, DateOnly from, DateOnly to, long seed = 42)
    {
        var s = Symbols.Normalize(symbol);
        var key = Mix(StableHash(s) ^ (ulong)seed);
        var level = Math.Log(20 + (key % 480));
        var start = from < Epoch ? Epoch : from;
        var ingested = DateTimeOffset.UnixEpoch;
        // Day numbers, not DateOnly.AddDays: a range ending on the calendar's last day cannot overflow
        // (ranges are checked at the door, LakeDates; this loop must not depend on it).
        for (var n = Epoch.DayNumber; n <= to.DayNumber; n++)
        {
            var d = DateOnly.FromDayNumber(n);
            if (d.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday)
            {
                continue;
            }
            var h = Mix(key ^ (ulong)d.DayNumber);
            var ret = (Unit(h) - 0.5) * 0.04 + 0.0002;
            var prevClose = Math.Exp(level);
            level += ret;
            if (d < start)
            {
                continue;
            }
            var close = Round(Math.Exp(level));
            var open = Round(prevClose * (1 + (Unit(Mix(h ^ 1)) - 0.5) * 0.01));
            var high = Round(Math.Max(open, close) * (1 + Unit(Mix(h ^ 2)) * 0.015));
            var low = Round(Math.Min(open, close) * (1 - Unit(Mix(h ^ 3)) * 0.015));
            high = Math.Max(high, Math.Max(open, close));
            low = Math.Max(0.01, Math.Min(low, Math.Min(open, close)));
            var volume = 100_000 + (long)(Unit(Mix(h ^ 4)) * 5_000_000);
            yield return new PriceBar(s, d, open, high, low, close, close, volume, Name, ingested);
        }
    }

    private static double Round(double v) => Math.Max(0.01, Math.Round(v, 2));

    private static double Unit(ulong h) => (h >> 11) * (1.0 / (1UL << 53));

    private static ulong StableHash(string s)
    {
        // FNV-1a: stable across processes and runtimes, unlike string.GetHashCode.
        var h = 14695981039346656037UL;
        foreach (var c in s)
        {
            h = (h ^ c) * 1099511628211UL;
        }
        return h;
    }

    private static ulong Mix(ulong z)
    {
        // SplitMix64 finaliser.
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
