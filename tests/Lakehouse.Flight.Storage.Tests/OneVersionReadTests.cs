using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Storage.Tests;

/// <summary>
/// <see cref="LakeStore.TryReadOneVersion"/> (SQL's fast path, docs/decisions.md D47): the rows of one committed version,
/// resolved before the first is returned, or null when the store would not read them so (more rows than a read pins up
/// front, acknowledged uploads not yet applied, an as-of or a diff).
/// </summary>
public sealed class OneVersionReadTests : IDisposable
{
    private readonly TempLake _lake = new();

    public void Dispose() => _lake.Dispose();

    private static IReadOnlyList<PriceBar> Bars(DateOnly from, DateOnly to, params string[] symbols) => TestBars.Generate(symbols, from, to);

    [Fact]
    public async Task Read_WithinWhatAReadPins_IsTheLatestVersionsRows_InKeyOrder()
    {
        var store = _lake.Open();
        var bars = Bars(new DateOnly(2024, 1, 1), new DateOnly(2024, 6, 30), "AAA", "BBB", "CCC");
        await store.UpsertAsync(bars);
        await store.UpsertAsync([.. bars.Where(b => b.Symbol == "BBB" && b.Date.Month == 3).Select(b => b with { Close = b.Low, AdjClose = b.Low })]);

        var read = store.TryReadOneVersion(TableQuery.Create(symbols: ["BBB", "AAA"], dateFrom: "2024-02-15", dateTo: "2024-03-31"));

        Assert.NotNull(read);
        Assert.Equal(store.LatestVersion, read.Version);
        var rows = read.Batches.SelectMany(PriceBarBatches.ToBars).ToList();
        var expected = store.Read(TableQuery.Create(symbols: ["AAA", "BBB"], dateFrom: "2024-02-15", dateTo: "2024-03-31")).SelectMany(PriceBarBatches.ToBars).ToList();
        Assert.Equal(expected, rows);
        Assert.Equal(bars.Count(b => b.Symbol is "AAA" or "BBB" && b.Date >= new DateOnly(2024, 2, 15) && b.Date <= new DateOnly(2024, 3, 31)), rows.Count);
        Assert.Contains(rows, r => r.Symbol == "BBB" && r.Date.Month == 3 && r.Close == r.Low);
        Assert.Equal(rows.Count, read.PinnedRows);
    }

    [Fact]
    public async Task Read_LargerThanWhatAReadPins_IsDeclined_UnlessItsLimitKeepsItWithin()
    {
        // A 1 MiB cache pins 64K rows up front; 150 symbols x 2 years are ~78K rows.
        var store = _lake.Open(cacheBytes: 1L << 20);
        string[] universe = [.. Enumerable.Range(0, 150).Select(i => $"S{i:D3}")];
        await store.UpsertAsync(Bars(new DateOnly(2023, 1, 1), new DateOnly(2024, 12, 31), universe));

        Assert.Null(store.TryReadOneVersion(TableQuery.Create()));
        var limited = store.TryReadOneVersion(TableQuery.Create(limit: 1000));

        Assert.NotNull(limited);
        var rows = limited.Batches.SelectMany(PriceBarBatches.ToBars).ToList();
        Assert.Equal(store.Read(TableQuery.Create(limit: 1000)).SelectMany(PriceBarBatches.ToBars).ToList(), rows);
        Assert.Equal(1000, rows.Count);
        // One symbol of the same table is well within it.
        Assert.NotNull(store.TryReadOneVersion(TableQuery.Create(symbols: ["S042"])));
    }

    [Fact]
    public async Task Read_WhileAnAcknowledgedUploadIsNotApplied_IsDeclined_AndReadsItOnceApplied()
    {
        var store = _lake.Open();
        await store.UpsertAsync(Bars(new DateOnly(2024, 1, 1), new DateOnly(2024, 1, 31), "AAA"));
        var upload = PriceBarBatches.ToBatch(Bars(new DateOnly(2024, 2, 1), new DateOnly(2024, 2, 29), "BBB"));
        var receipt = await store.EnqueueAsync([new(PriceTables.Bronze, upload, "vendor_x"), new(PriceTables.Silver, upload, "vendor_x")]);
        Assert.True(receipt.Visible);

        // Its rows belong to no version yet: a read of one version cannot show them, nor leave them out while DoGet shows them.
        Assert.Null(store.TryReadOneVersion(TableQuery.Create()));
        Assert.Null(store.TryReadOneVersion(TableQuery.Create(symbols: ["AAA"])));

        Assert.Equal(1, await store.ApplyUploadsAsync());
        var read = store.TryReadOneVersion(TableQuery.Create());
        Assert.NotNull(read);
        Assert.Equal(store.LatestVersion, read.Version);
        Assert.Equal(upload.Length + Bars(new DateOnly(2024, 1, 1), new DateOnly(2024, 1, 31), "AAA").Count, read.Batches.Sum(b => b.Length));
    }

    [Fact]
    public async Task Read_AsOfOrDiff_IsDeclined()
    {
        var store = _lake.Open();
        await store.UpsertAsync(Bars(new DateOnly(2024, 1, 1), new DateOnly(2024, 1, 31), "AAA"));

        Assert.Null(store.TryReadOneVersion(TableQuery.Create().WithAsOf(ReadAsOf.AtVersion(store.LatestVersion))));
        Assert.Null(store.TryReadOneVersion(TableQuery.Create().WithDiffFrom(0)));
    }
}
