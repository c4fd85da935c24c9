using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Storage.Tests;

/// <summary>The bars these tests write: what the storage tests count on them to be.</summary>
public sealed class TestBarsTests
{
    [Fact]
    public void Generate_AMonth_OneValidBarPerSymbolAndWeekday()
    {
        var bars = TestBars.Generate(["MSFT", "aapl"], new DateOnly(2024, 1, 1), new DateOnly(2024, 1, 31));

        // January 2024: 23 weekdays.
        Assert.Equal(46, bars.Count);
        Assert.Equal(["AAPL", "MSFT"], bars.Select(b => b.Symbol).Distinct().Order());
        Assert.DoesNotContain(bars, b => b.Date.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday);
        Assert.All(bars, b => Assert.Null(BarValidator.Validate(b, new DateOnly(2025, 1, 1))));
        Assert.All(bars, b => Assert.Equal((TestBars.Source, Math.Round(b.Close, 2)), (b.Source, b.Close)));
    }

    [Fact]
    public void Generate_OverlappingRanges_TheSameBarForTheSameSymbolAndDay()
    {
        var wide = TestBars.Generate(["AAPL"], new DateOnly(2023, 1, 1), new DateOnly(2024, 6, 30));
        var narrow = TestBars.Generate(["AAPL"], new DateOnly(2024, 3, 1), new DateOnly(2024, 3, 31));

        Assert.Equal(narrow, wide.Where(b => b.Date.Year == 2024 && b.Date.Month == 3));
        Assert.NotEqual(narrow.Select(b => b.Close), TestBars.Generate(["MSFT"], new DateOnly(2024, 3, 1), new DateOnly(2024, 3, 31)).Select(b => b.Close));
    }
}
