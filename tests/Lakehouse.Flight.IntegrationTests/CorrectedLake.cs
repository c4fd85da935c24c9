using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>
/// Two versions to read as of: AAPL and MSFT for November 2026 ingested (<see cref="Ingested"/>), then AAPL's close of
/// <see cref="Day"/> corrected by 2% (<see cref="Corrected"/>), with an instant strictly between the two commits.
/// </summary>
internal sealed record CorrectedLake(long Ingested, long Corrected, DateTimeOffset Between, double OldClose, double NewClose)
{
    public static readonly DateOnly Day = new(2026, 11, 12);

    public static readonly IReadOnlyList<Core.PriceBar> Bars = TestBars.Generate(["AAPL", "MSFT"], new DateOnly(2026, 11, 2), new DateOnly(2026, 11, 27));

    public static async Task<CorrectedLake> WriteAsync(LakeStore store)
    {
        await store.UpsertAsync(Bars).DefaultTimeout();
        var ingested = store.LatestVersion;
        var bar = Bars.Single(b => b.Symbol == "AAPL" && b.Date == Day);
        var newClose = Math.Round(bar.Close * 1.02, 2);
        await Task.Delay(20);
        var between = DateTimeOffset.UtcNow;
        await Task.Delay(20);
        await store.UpsertAsync([bar with { Close = newClose, High = Math.Max(bar.High, newClose) }]).DefaultTimeout();
        return new CorrectedLake(ingested, store.LatestVersion, between, bar.Close, newClose);
    }
}
