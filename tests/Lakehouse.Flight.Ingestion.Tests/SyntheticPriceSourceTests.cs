using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Ingestion.Tests;

public sealed class SyntheticPriceSourceTests
{
    [Fact]
    public async Task FetchAsync_TwoSymbols_OneResultEachWithWeekdayBars()
    {
        var source = new SyntheticPriceSource();
        var results = new List<SourceResult>();
        await foreach (var r in source.FetchAsync(new SourceRequest(["AAPL", "MSFT"], new DateOnly(2024, 1, 1), new DateOnly(2024, 1, 31))))
        {
            results.Add(r);
        }
        Assert.Equal(["AAPL", "MSFT"], results.Select(r => r.Symbol));
        Assert.All(results, r => Assert.Equal(23, r.Bars.Count));
        Assert.All(results.SelectMany(r => r.Bars), b => Assert.DoesNotContain(b.Date.DayOfWeek, new[] { DayOfWeek.Saturday, DayOfWeek.Sunday }));
        Assert.Equal(SyntheticBars.GenerateOne("AAPL", new DateOnly(2024, 1, 1), new DateOnly(2024, 1, 31)), results[0].Bars);
    }

    [Fact]
    public async Task FetchAsync_RangeBeforeEpoch_IsRefusedWithTheFirstDate()
    {
        var source = new SyntheticPriceSource();
        var ex = await Assert.ThrowsAsync<LakehouseException>(async () =>
        {
            await foreach (var _ in source.FetchAsync(new SourceRequest(["AAPL"], new DateOnly(1925, 1, 1), new DateOnly(2020, 12, 31))))
            {
            }
        });
        Assert.Contains("1990-01-01", ex.Message, StringComparison.Ordinal);
    }
}
