using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.IntegrationTests;

public sealed class WarmUpTests
{
    [Fact]
    public async Task Start_WithWarmCache_DecodesEverySilverPartitionInTheBackground()
    {
        var dir = Path.Combine(Path.GetTempPath(), "lakehouse-it", Guid.NewGuid().ToString("N"));
        var bars = SyntheticSource.Generate(["AAPL", "MSFT"], new DateOnly(2023, 1, 1), new DateOnly(2023, 12, 31));
        await PriceStore.Open(dir).UpsertAsync(bars).DefaultTimeout();

        try
        {
            await AssertWarmsAsync(dir, bars.Count);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task AssertWarmsAsync(string dir, int rows)
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            o.DataDir = dir;
            o.WarmCache = true;
        });
        var deadline = DateTime.UtcNow + TaskExtensions.Default;
        DatasetStats stats;
        while ((stats = server.Server.Store.Stats(PriceTables.Silver)).CachedPartitions < 24 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal((24L, 24), (stats.Partitions, stats.CachedPartitions));
        Assert.Equal(rows, stats.Rows);
    }
}
