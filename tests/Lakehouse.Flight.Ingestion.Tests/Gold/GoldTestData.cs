using System.Text.Json;
using Apache.Arrow;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Ingestion.Tests.Gold;

/// <summary>Silver series the gold tests share.</summary>
internal static class GoldTestData
{
    private static readonly DateTimeOffset Ingested = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Twenty years of synthetic AAPL bars (about 5,500 rows).</summary>
    public static RecordBatch SyntheticAapl() =>
        PriceBarBatches.ToBatch(SyntheticBars.GenerateOne("AAPL", new DateOnly(2000, 1, 1), new DateOnly(2020, 12, 31)).ToList());

    /// <summary>Weekdays from <paramref name="first"/> on.</summary>
    public static IEnumerable<DateOnly> Weekdays(DateOnly first)
    {
        for (var d = first; ; d = d.AddDays(1))
        {
            if (d.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday))
            {
                yield return d;
            }
        }
    }

    /// <summary>
    /// 25 weekdays from Monday 2024-01-22 (8 in January, 17 in February) whose price zigzags +10% / -10%:
    /// p[2k] = 100 x 0.99^k, p[2k+1] = 110 x 0.99^k, so the peak stays 110 (row 1) and every window of
    /// returns is ten +0.1 and ten -0.1. open = p - 0.5, high = p + 1, low = p - 1.5, adj_close = p,
    /// volume = 1000 x (row + 1).
    /// </summary>
    public static List<PriceBar> Zigzag()
    {
        var bars = new List<PriceBar>();
        var i = 0;
        foreach (var d in Weekdays(new DateOnly(2024, 1, 22)).Take(25))
        {
            var p = (i % 2 == 0 ? 100.0 : 110.0) * Math.Pow(0.99, i / 2);
            bars.Add(Bar("ZIG", d, p, p, 1000L * (i + 1), open: p - 0.5));
            i++;
        }
        return bars;
    }

    /// <summary>
    /// About 300 synthetic MSFT rows over 2023-01-02 .. 2024-03-29 with March 2023 missing (a gap month)
    /// and adj_close null on a few rows, among them January's last day and the last row.
    /// </summary>
    public static List<PriceBar> WithNullsAndGap()
    {
        var bars = SyntheticBars.GenerateOne("MSFT", new DateOnly(2023, 1, 1), new DateOnly(2024, 3, 31))
            .Where(b => !(b.Date.Year == 2023 && b.Date.Month == 3))
            .Select(b => b with { AdjClose = Math.Round(b.Close * 0.97, 4) })
            .ToList();
        var lastOfJanuary = bars.FindLastIndex(b => b.Date.Month == 1 && b.Date.Year == 2023);
        foreach (var i in new[] { 5, lastOfJanuary, 120, 121, 230, bars.Count - 1 })
        {
            bars[i] = bars[i] with { AdjClose = null };
        }
        return bars;
    }

    /// <summary>
    /// A volatile stretch (+-40% a day for 60 days) followed by a calm one (moves of about 1e-7): the trap
    /// for a running sum of squares, whose rounding from the volatile days would swamp the calm windows.
    /// </summary>
    public static List<PriceBar> VolatileThenCalm()
    {
        var bars = new List<PriceBar>();
        var p = 100.0;
        var i = 0;
        foreach (var d in Weekdays(new DateOnly(2022, 1, 3)).Take(300))
        {
            p *= i < 60 ? (i % 2 == 0 ? 1.4 : 0.7) : 1 + (i % 3 - 1) * 1e-7;
            bars.Add(Bar("VOL", d, p, p, 1000));
            i++;
        }
        return bars;
    }

    /// <summary>
    /// Yahoo's AAPL chart for 2020-08-31 .. 2020-11-06 (49 rows, a 4:1 split on 2020-08-31 already applied)
    /// read minimally: timestamps are session opens, dated in America/New_York.
    /// </summary>
    public static List<PriceBar> YahooAapl()
    {
        var path = Path.Combine(FixturesDir(), "chart-AAPL-2020-08-31-to-2020-11-07.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var result = doc.RootElement.GetProperty("body").GetProperty("chart").GetProperty("result")[0];
        var timestamps = result.GetProperty("timestamp");
        var quote = result.GetProperty("indicators").GetProperty("quote")[0];
        var adj = result.GetProperty("indicators").GetProperty("adjclose")[0].GetProperty("adjclose");
        var newYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
        var bars = new List<PriceBar>();
        for (var i = 0; i < timestamps.GetArrayLength(); i++)
        {
            var utc = DateTimeOffset.FromUnixTimeSeconds(timestamps[i].GetInt64());
            var date = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(utc, newYork).DateTime);
            bars.Add(new PriceBar("AAPL", date, quote.GetProperty("open")[i].GetDouble(), quote.GetProperty("high")[i].GetDouble(),
                quote.GetProperty("low")[i].GetDouble(), quote.GetProperty("close")[i].GetDouble(), adj[i].GetDouble(),
                quote.GetProperty("volume")[i].GetInt64(), "yahoo", Ingested));
        }
        return bars;
    }

    public static PriceBar Bar(string symbol, DateOnly date, double close, double? adjClose, long volume, double? open = null) =>
        new(symbol, date, open ?? close, Math.Max(open ?? close, close) + 1, Math.Min(open ?? close, close) - 1, close, adjClose, volume, "test", Ingested);

    private static string FixturesDir() => Path.Combine(AppContext.BaseDirectory, "Fixtures", "yahoo");
}
