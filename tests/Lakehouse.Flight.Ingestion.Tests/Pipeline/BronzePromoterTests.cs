using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Ingestion.Tests.Pipeline;

/// <summary>Promotion from bronze to silver over a real lake: the latest raw record of a (symbol, date) wins.</summary>
public sealed class BronzePromoterTests : IDisposable
{
    private readonly TempLake _lake = new();

    public void Dispose() => _lake.Dispose();

    [Fact]
    public async Task Promote_CorrectedRecordLanded_KeepsBothRawRowsAndSilverTakesTheLatest()
    {
        var store = _lake.Open();
        var bars = SyntheticBars.Generate(["AAPL"], new DateOnly(2024, 1, 1), new DateOnly(2024, 1, 31)).ToList();
        await store.LandAsync(bars, "vendor_x", promote: true);
        var fixedBar = bars[0] with { Close = bars[0].Close + 1, High = bars[0].High + 1 };

        var reports = await store.LandAsync([fixedBar], "vendor_x", promote: false);
        var promoted = await new BronzePromoter(store, new LakeWriter(store, new Ingestion.Gold.GoldBuilder(store))).PromoteAsync("vendor_x", ["AAPL"], null, null);

        Assert.Equal(1, Assert.Single(reports).Inserted);
        Assert.Equal(bars.Count + 1, store.Read(TableQuery.Create("bronze", symbols: ["AAPL"])).Sum(b => b.Length));
        var silver = Assert.Single(promoted);
        Assert.Equal((1L, (long)bars.Count - 1), (silver.Updated, silver.Unchanged));
        var row = store.Read(TableQuery.Create(symbols: ["AAPL"], dateFrom: "2024-01-01", dateTo: "2024-01-01"))
            .SelectMany(PriceBarBatches.ToBars).ToList();
        Assert.Equal(fixedBar.Close, Assert.Single(row).Close);
        Assert.Equal("vendor_x", row[0].Source);
    }
}
