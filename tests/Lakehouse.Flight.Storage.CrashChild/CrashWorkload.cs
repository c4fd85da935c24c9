using Lakehouse.Flight.Core;

/// <summary>
/// Generation k of the crash workload: symbols AAA, BBB, CCC; every business day of Q1 2024 priced k,
/// plus the first k business days from April 2024 (one new row per generation). After generation K
/// each symbol holds 65 + K rows, all priced K.
/// </summary>
public static partial class CrashWorkload
{
    public static readonly string[] SymbolsUsed = ["AAA", "BBB", "CCC"];

    public const int Q1BusinessDays = 65;

    public static IReadOnlyList<PriceBar> Generation(int k)
    {
        var bars = new List<PriceBar>();
        foreach (var s in SymbolsUsed)
        {
            var extra = 0;
            for (var d = new DateOnly(2024, 1, 1); extra < k; d = d.AddDays(1))
            {
                if (d.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday)
                {
                    continue;
                }
                if (d >= new DateOnly(2024, 4, 1))
                {
                    extra++;
                }
                bars.Add(Bar(s, d, k));
            }
        }
        return bars;
    }

    /// <summary>Symbols of WAL upload k.</summary>
    public static string[] WalSymbols(int k) => Enumerable.Range(0, WalSymbolsPerUpload).Select(j => $"W{k}S{j}").ToArray();

    public const int WalSymbolsPerUpload = 6;

    /// <summary>Days per symbol of a WAL upload: two months of 2024 (two partitions per symbol).</summary>
    public const int WalDays = 40;

    /// <summary>Rows per applied commit in the child: two symbols, so an upload lands in three commits.</summary>
    public const int WalChunkRows = 2 * WalDays;

    /// <summary>Upload k: its own symbols, <see cref="WalDays"/> days from 2024-01-01 each, priced k.</summary>
    public static IReadOnlyList<PriceBar> WalUpload(int k) =>
        WalSymbols(k).SelectMany(s => Enumerable.Range(0, WalDays).Select(d => Bar(s, new DateOnly(2024, 1, 1).AddDays(d), k))).ToArray();

    /// <summary>Rows for the given days of January 2024, all priced <paramref name="value"/>.</summary>
    public static IReadOnlyList<PriceBar> Days(string symbol, IEnumerable<int> days, int value) =>
        days.Select(d => Bar(symbol, new DateOnly(2024, 1, d), value)).ToArray();

    /// <summary>Business days of 2023 for <paramref name="symbol"/>, prices walking up and down (so returns, SMAs, volatility and drawdowns are all non-trivial).</summary>
    public static IReadOnlyList<PriceBar> Year(string symbol)
    {
        var bars = new List<PriceBar>();
        var seed = symbol.Aggregate(17, (h, c) => h * 31 + c);
        var close = 50.0 + seed % 50;
        for (var d = new DateOnly(2023, 1, 2); d.Year == 2023; d = d.AddDays(1))
        {
            if (d.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday)
            {
                continue;
            }
            close = Math.Round(close * (1 + 0.02 * Math.Sin(d.DayNumber * 0.7 + seed)), 2);
            bars.Add(new PriceBar(symbol, d, close, close * 1.01, close * 0.99, close, close * 0.98, 1000 + d.DayOfYear, "crash", DateTimeOffset.UnixEpoch));
        }
        return bars;
    }

    public static PriceBar Bar(string symbol, DateOnly date, double price) =>
        new(symbol, date, price, price, price, price, price, (long)price, "crash", DateTimeOffset.UnixEpoch);
}
