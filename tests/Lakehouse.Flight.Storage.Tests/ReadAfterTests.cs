using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Storage.Tests;

/// <summary>
/// <see cref="TableWrite.ReadAfter"/>: a small write whose symbols are read whole next (gold after a correction) has
/// their cache entries built during its commit, with its rows spliced in (docs/decisions.md D46).
/// </summary>
public sealed class ReadAfterTests : IDisposable
{
    private readonly TempLake _lake = new();

    public void Dispose() => _lake.Dispose();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Correction_OfAnUncachedSymbol_EntryBuiltOnlyWhenAskedAndHoldsTheCorrection(bool readAfter)
    {
        var bars = TestBars.Generate(["AAA", "BBB"], new DateOnly(2018, 1, 1), new DateOnly(2020, 12, 31)).ToList();
        await _lake.Open().UpsertAsync(bars);
        // A store opened afresh holds nothing in memory: the symbol's years are in files only.
        var store = _lake.Open();
        Assert.Equal(0, store.CachedRows);
        var day = bars.First(b => b.Symbol == "BBB" && b.Date >= new DateOnly(2019, 5, 6));

        var reports = await store.WriteAsync([new TableWrite(PriceTables.Silver, PriceBarBatches.ToBatch([day with { Volume = day.Volume + 5 }]), ReadAfter: readAfter)]);

        Assert.Equal(1, Assert.Single(reports).Updated);
        var years = bars.Count(b => b.Symbol == "BBB");
        Assert.Equal(readAfter ? years : 0, store.CachedRows);
        // What the entry serves is what the files say after the commit (a store opened afresh reads them).
        var query = TableQuery.Create(symbols: ["BBB"]);
        var served = BatchDump.Rows([.. store.Read(query)]);
        Assert.Equal(BatchDump.Rows([.. _lake.Open().Read(query)]), served);
        Assert.Equal(years, served.Count);
        var row = bars.Where(b => b.Symbol == "BBB").ToList().FindIndex(b => b.Date == day.Date);
        Assert.Contains($"|{(day.Volume + 5).ToString(System.Globalization.CultureInfo.InvariantCulture)}|", served[row], StringComparison.Ordinal);
    }
}
