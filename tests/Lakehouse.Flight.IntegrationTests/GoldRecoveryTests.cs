using System.Text.Json;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>
/// Crash recovery finishes what the commit promised (decisions D34): a writer of bronze and silver is
/// SIGKILLed right after its commit point (the journal is durable, nothing applied, no gold built); the
/// next opener rolls the commit forward and records that gold of its symbols is stale; the server
/// rebuilds that gold before it says <c>ok</c>, and gold matches DuckDB's computation over silver.
/// </summary>
public sealed class GoldRecoveryTests : IDisposable
{
    private static readonly string[] Symbols = ["RCA", "RCB", "RCC"];

    private readonly TempDir _temp = new("lakehouse-it");

    public void Dispose() => _temp.Dispose();

    /// <summary>Runs the crash child's promote write, killed by the store's test-only hook at the commit point.</summary>
    private void KillWriterAtCommitPoint()
    {
        using var child = new ChildProcess(new Dictionary<string, string> { ["LAKEHOUSE_TEST_CRASH_AFTER_COMMIT_POINT"] = "1" },
            "promote", _temp.Path, string.Join(',', Symbols));
        Assert.True(child.WaitForExit(TimeSpan.FromSeconds(60)), "the writer neither committed nor died");
        // SIGKILL (128 + 9), not a normal exit: it never printed "committed".
        Assert.Equal(137, child.ExitCode);
        Assert.DoesNotContain("committed", child.Lines);
        // Committed (its log entry is durable) and nothing after: no table folder published, no gold.
        Assert.True(File.Exists(Path.Combine(_temp.Path, "_metadata", "log", "00000000000000000001.json")));
        Assert.False(Directory.Exists(Path.Combine(_temp.Path, "silver", "prices_daily")));
        Assert.False(Directory.Exists(Path.Combine(_temp.Path, "gold")));
    }

    [Fact]
    public async Task PromoteWriteKilledAfterItsCommitPoint_ServerStart_RebuildsGoldOfItsSymbolsAsDuckDbComputesIt()
    {
        KillWriterAtCommitPoint();

        await using var server = await TestServer.StartAsync(dataDir: _temp.Path);
        await WaitHealthOkAsync(server);

        await AssertGoldMatchesSilverAsync(server);
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(_temp.Path, "silver", "prices_daily"), "*.parquet"));
        // What recovery recorded for the process that finishes it is settled once gold is rebuilt.
        var recovered = Path.Combine(_temp.Path, "_metadata", "recovered");
        Assert.False(Directory.Exists(recovered) && Directory.EnumerateFiles(recovered).Any());
    }

    [Fact]
    public async Task CommitRolledForwardByAProcessWithoutGold_NextServerStart_StillRebuildsTheGold()
    {
        KillWriterAtCommitPoint();
        // A process with no gold builder (a bare store, as the crash child is) rolls the commit forward and goes away.
        var bare = LakeStore.Open(_temp.Path);
        await bare.Ready;
        Assert.Equal(Symbols.Sum(s => CrashWorkload.Year(s).Count), bare.Read(TableQuery.Create(symbols: Symbols)).Sum(b => b.Length));
        Assert.Single(Directory.EnumerateFiles(Path.Combine(_temp.Path, "_metadata", "recovered")));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(_temp.Path, "silver", "prices_daily"), "*.parquet"));
        Assert.False(Directory.Exists(Path.Combine(_temp.Path, "gold")));

        await using var server = await TestServer.StartAsync(dataDir: _temp.Path);
        await WaitHealthOkAsync(server);

        await AssertGoldMatchesSilverAsync(server);
    }

    private static async Task AssertGoldMatchesSilverAsync(TestServer server)
    {
        using var client = server.Client();
        var compared = 0;
        foreach (var symbol in Symbols)
        {
            var silver = RecordBatches.Concatenate(await client.GetPricesAsync(TableQuery.Create(symbols: [symbol])).ToListAsync());
            var metrics = await client.GetPricesAsync(TableQuery.Create("gold", "daily_metrics", [symbol])).ToListAsync();
            var monthly = await client.GetPricesAsync(TableQuery.Create("gold", "prices_monthly", [symbol])).ToListAsync();
            Assert.Equal(CrashWorkload.Year(symbol).Count, silver.Length);
            Assert.NotEmpty(metrics);
            using var duck = new DuckDbGold(silver);
            var (n, _) = DuckDbGold.AssertSame(RecordBatches.Concatenate(metrics), duck.Metrics());
            compared += n;
            Assert.Equal(12, monthly.Sum(b => b.Length));
            Assert.True(File.Exists(Path.Combine(server.DataDir, "gold", "reports", $"{symbol}_daily_report.csv")));
        }
        // close, adj_close, returns, SMAs, vol_20, drawdown of 3 x 260 days: the comparison was not vacuous.
        Assert.True(compared > 3 * 260 * 5, $"only {compared} cells compared");
    }

    private static async Task WaitHealthOkAsync(TestServer server)
    {
        using var http = new HttpClient { BaseAddress = server.Server.HttpEndpoint, Timeout = TestTimeouts.Default };
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (true)
        {
            using var health = JsonDocument.Parse(await http.GetStringAsync(new Uri("/health", UriKind.Relative)).DefaultTimeout());
            if (health.RootElement.GetProperty("state").GetString() == "ok")
            {
                return;
            }
            Assert.True(DateTime.UtcNow < deadline, $"health never said ok: {health.RootElement}");
            await Task.Delay(20);
        }
    }
}
