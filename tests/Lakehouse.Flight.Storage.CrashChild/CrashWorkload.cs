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

    /// <summary>Rows for the given days of January 2024, all priced <paramref name="value"/>.</summary>
    public static IReadOnlyList<PriceBar> Days(string symbol, IEnumerable<int> days, int value) =>
        days.Select(d => Bar(symbol, new DateOnly(2024, 1, d), value)).ToArray();

    public static PriceBar Bar(string symbol, DateOnly date, double price) =>
        new(symbol, date, price, price, price, price, price, (long)price, "crash", DateTimeOffset.UnixEpoch);
}
