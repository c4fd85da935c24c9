using Apache.Arrow.Flight;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>The server's compactor (decisions D22): copies written after the warm-up, refreshed after a write, DoGet equal to the month files.</summary>
public sealed class CompactionTests
{
    [Fact]
    public async Task Server_WritesCopiesAfterWarmUp_RefreshesAfterWrite_DoGetEqualsMonthFiles()
    {
        var dir = Path.Combine(Path.GetTempPath(), "lakehouse-it", Guid.NewGuid().ToString("N"));
        await PriceStore.Open(dir).UpsertAsync(SyntheticSource.Generate(["AAPL", "MSFT"], new DateOnly(2022, 1, 1), new DateOnly(2023, 12, 31)))
            .DefaultTimeout();
        try
        {
            await using var server = await TestServer.StartAsync(o =>
            {
                o.WarmCache = true;
                o.WarmServing = false;
                o.CompactIntervalSeconds = 1;
            }, dataDir: dir);
            var store = server.Server.Store;
            var aapl = store.Paths.CompactFile(new TableId(PriceTables.Silver), "AAPL");
            var msft = store.Paths.CompactFile(new TableId(PriceTables.Silver), "MSFT");
            await WaitUntilAsync(() => File.Exists(aapl) && File.Exists(msft));

            var before = File.GetLastWriteTimeUtc(aapl);
            var changed = SyntheticSource.Generate(["AAPL"], new DateOnly(2023, 6, 1), new DateOnly(2023, 6, 30))
                .Select(b => b with { Volume = b.Volume + 5 }).ToList();
            await store.UpsertAsync(changed).DefaultTimeout();
            await WaitUntilAsync(() => File.GetLastWriteTimeUtc(aapl) != before);

            var reference = PriceStore.Open(new StoreOptions { DataDir = dir, CacheBytes = 0, UseCompactCopies = false });
            var expected = reference.Read(PriceQuery.Create()).Sum(b => (long)b.Length);
            var fresh = PriceStore.Open(new StoreOptions { DataDir = dir });
            Assert.Equal(expected, fresh.Read(PriceQuery.Create()).Sum(b => (long)b.Length));
            long rows = 0, volume = 0;
            using var call = server.Raw.GetStream(new FlightTicket("""{"symbols":["AAPL"],"date_from":"2023-06-01","date_to":"2023-06-30","columns":["volume"]}"""));
            while (await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout())
            {
                var batch = call.ResponseStream.Current;
                rows += batch.Length;
                var column = (Apache.Arrow.Int64Array)batch.Column(0);
                for (var i = 0; i < batch.Length; i++)
                {
                    volume += column.GetValue(i) ?? 0;
                }
            }
            Assert.Equal(changed.Count, rows);
            Assert.Equal(changed.Sum(b => b.Volume), volume);
        }
        finally
        {
            // The test server deletes its data dir when disposed; this covers a failure before it started.
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TaskExtensions.Default;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the compactor did not get there within the test deadline");
            await Task.Delay(50);
        }
    }
}
