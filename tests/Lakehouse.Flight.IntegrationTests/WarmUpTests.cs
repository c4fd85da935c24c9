using System.Text.Json;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Server.Internal;
using Lakehouse.Flight.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Lakehouse.Flight.IntegrationTests;

public sealed class WarmUpTests
{
    [Fact]
    public async Task Start_WithWarmCache_DecodesEverySilverPartitionInTheBackground()
    {
        var dir = Path.Combine(Path.GetTempPath(), "lakehouse-it", Guid.NewGuid().ToString("N"));
        var bars = SyntheticBars.Generate(["AAPL", "MSFT"], new DateOnly(2023, 1, 1), new DateOnly(2023, 12, 31));
        await LakeStore.Open(dir).UpsertAsync(bars).DefaultTimeout();

        try
        {
            await AssertWarmsAsync(dir, bars.Count);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Start_WithWarmServing_CallsItsOwnFlightPort_ThenSaysOkAndServesTheLake()
    {
        var (dir, bars) = await LakeAsync();
        await using var server = await TestServer.StartAsync(o => o.WarmCache = true, dataDir: dir);

        var done = await server.Server.ServingWarmed.DefaultTimeout();

        // Reads in the process (not counted), then real DoGets over its own port, round after round.
        Assert.Equal(ServingWarmup.Rounds * (2 + ServingWarmup.PointsPerRound), done.Calls);
        Assert.InRange(done.LoopbackCalls, ServingWarmup.MinLoopbackRounds * (8 + ServingWarmup.CountedCalls),
            ServingWarmup.LoopbackRounds * (8 + ServingWarmup.CountedCalls));
        Assert.Equal(done.LoopbackCalls, server.Server.Metrics.FastStreams);
        Assert.Equal(0, server.Server.Metrics.ActiveStreams);
        Assert.True(done.Bytes > 0);
        using var http = new HttpClient { BaseAddress = server.Server.HttpEndpoint };
        using (var health = JsonDocument.Parse(await http.GetStringAsync(new Uri("/health", UriKind.Relative)).DefaultTimeout()))
        {
            Assert.Equal("ok", health.RootElement.GetProperty("state").GetString());
            Assert.False(health.RootElement.TryGetProperty("loading", out _));
        }
        using var client = server.Client();
        var read = await client.ReadBarsAsync(TableQuery.Create(symbols: ["MSFT"], dateFrom: "2023-03-01", dateTo: "2023-03-31")).ToListAsync();
        Assert.Equal(bars.Where(b => b.Symbol == "MSFT" && b.Date.Month == 3).Select(b => (b.Date, b.Close)), read.Select(b => (b.Date, b.Close)));
    }

    [Fact]
    public async Task Start_WithNoWarmServingTime_MakesTheMinimumRoundsOnly_ThenSaysOk()
    {
        var (dir, _) = await LakeAsync();
        await using var server = await TestServer.StartAsync(o =>
        {
            o.WarmCache = true;
            o.WarmServingTime = TimeSpan.Zero;
        }, dataDir: dir);

        var done = await server.Server.ServingWarmed.DefaultTimeout();

        // However much the runtime still compiles, the rounds past the minimum are cut by Lakehouse:WarmServingTime.
        Assert.Equal(ServingWarmup.MinLoopbackRounds * (8 + ServingWarmup.CountedCalls), done.LoopbackCalls);
        using var http = new HttpClient { BaseAddress = server.Server.HttpEndpoint };
        using var health = JsonDocument.Parse(await http.GetStringAsync(new Uri("/health", UriKind.Relative)).DefaultTimeout());
        Assert.Equal("ok", health.RootElement.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Start_WithAuthAndWarmServing_CallsWithATokenOfItsOwn_RevokedAfter()
    {
        var (dir, _) = await LakeAsync();
        await using var server = await TestServer.StartAsync(o =>
        {
            TestServer.WithAuth(o);
            o.WarmCache = true;
        }, dataDir: dir);

        var done = await server.Server.ServingWarmed.DefaultTimeout();

        Assert.True(done.LoopbackCalls >= ServingWarmup.MinLoopbackRounds * (8 + ServingWarmup.CountedCalls), $"{done.LoopbackCalls} calls");
        Assert.Equal(done.LoopbackCalls, server.Server.Metrics.FastStreams);
        Assert.Equal(0, server.Server.Services.GetRequiredService<TokenService>().IssuedCount);
    }

    [Fact]
    public async Task Start_WithWarmServingOff_MakesNoCall()
    {
        var (dir, _) = await LakeAsync();
        await using var server = await TestServer.StartAsync(o =>
        {
            o.WarmCache = true;
            o.WarmServing = false;
        }, dataDir: dir);

        Assert.Equal(default, await server.Server.ServingWarmed.DefaultTimeout());
        Assert.Equal(0, server.Server.Metrics.FastStreams);
    }

    /// <summary>Two symbols over 2023 in a data dir the test server deletes when disposed.</summary>
    private static async Task<(string Dir, IReadOnlyList<PriceBar> Bars)> LakeAsync()
    {
        var dir = Path.Combine(Path.GetTempPath(), "lakehouse-it", Guid.NewGuid().ToString("N"));
        var bars = SyntheticBars.Generate(["AAPL", "MSFT"], new DateOnly(2023, 1, 1), new DateOnly(2023, 12, 31));
        await LakeStore.Open(dir).UpsertAsync(bars).DefaultTimeout();
        return (dir, bars);
    }

    private static async Task AssertWarmsAsync(string dir, int rows)
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            o.DataDir = dir;
            o.WarmCache = true;
            o.WarmServing = false;
        });
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        DatasetStats stats;
        while ((stats = server.Server.Store.Stats(PriceTables.Silver)).CachedRows < rows && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(rows, stats.Rows);
        Assert.Equal(rows, stats.CachedRows);
    }
}
