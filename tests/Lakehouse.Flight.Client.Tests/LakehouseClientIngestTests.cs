using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Client.Tests;

/// <summary>The SDK's ingest and promote calls against a real server in this process (CSV files under an import root).</summary>
public sealed class LakehouseClientIngestTests : IAsyncLifetime
{
    private readonly TempDir _imports = new("lakehouse-sdk-imports");
    private TestServer _server = null!;
    private LakehouseClient _client = null!;

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(Path.Combine(_imports.Path, "AAPL.csv"),
            "Date,Open,High,Low,Close,Adj Close,Volume\n2024-01-02,187.15,188.44,183.89,185.64,184.94,82488700\n2024-01-03,184.22,185.88,183.43,184.25,183.55,58414500\n");
        _server = await TestServer.StartAsync(o => o.ImportRoots = [_imports.Path]);
        _client = _server.Client();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
        _imports.Dispose();
    }

    [Fact]
    public async Task IngestAsync_Csv_ReportsProgressAndEachLayerAndTheRowsRead()
    {
        var progress = new List<IngestProgress>();

        var reports = await _client.IngestAsync(new IngestOptions { Source = "csv", Symbols = ["AAPL"], Path = _imports.Path },
            new SyncProgress<IngestProgress>(progress.Add)).DefaultTimeout();

        Assert.Equal([("bronze", "AAPL", 2L), ("silver", "AAPL", 2L)], reports.Select(r => (r.Layer, r.Symbol, r.Inserted)));
        Assert.Equal((1, 1, 2L), (progress[^1].Done, progress[^1].Total, progress[^1].Rows));
        var bars = await _client.ReadBarsAsync(TableQuery.Create(symbols: ["AAPL"])).ToListAsync().DefaultTimeout();
        Assert.Equal([(new DateOnly(2024, 1, 2), 185.64, 184.94, 82_488_700L), (new DateOnly(2024, 1, 3), 184.25, 183.55, 58_414_500L)],
            bars.Select(b => (b.Date, b.Close, b.AdjClose!.Value, b.Volume)));
    }

    [Fact]
    public async Task IngestAsync_ASymbolWithoutAFile_ThrowsNamingItAndKeepsWhatWasCommitted()
    {
        var ex = await Assert.ThrowsAsync<IngestFailedSymbolsException>(() =>
            _client.IngestAsync(new IngestOptions { Source = "csv", Symbols = ["AAPL", "NOPE"], Path = _imports.Path }).DefaultTimeout());

        var failed = Assert.Single(ex.Failed);
        Assert.Equal("NOPE", failed.Symbol);
        Assert.Contains("no file for NOPE", failed.Error, StringComparison.Ordinal);
        Assert.StartsWith("1 symbol(s) failed (NOPE: no file for NOPE", ex.Message, StringComparison.Ordinal);
        Assert.Equal([("bronze", "AAPL", 2L), ("silver", "AAPL", 2L)], ex.Reports.Select(r => (r.Layer, r.Symbol, r.Inserted)));
        var bars = await _client.ReadBarsAsync(TableQuery.Create(symbols: ["AAPL", "NOPE"])).ToListAsync().DefaultTimeout();
        Assert.Equal(["AAPL", "AAPL"], bars.Select(b => b.Symbol));
    }

    [Fact]
    public async Task PromoteAsync_AfterALandingOnly_BringsTheBronzeRowsToSilver()
    {
        await _client.IngestAsync(new IngestOptions { Source = "csv", Symbols = ["AAPL"], Path = _imports.Path, Promote = false }).DefaultTimeout();
        Assert.Empty(await _client.ReadBarsAsync(TableQuery.Create(symbols: ["AAPL"])).ToListAsync().DefaultTimeout());

        var reports = await _client.PromoteAsync(symbols: ["AAPL"]).DefaultTimeout();

        Assert.Equal([("silver", "AAPL", 2L)], reports.Select(r => (r.Layer, r.Symbol, r.Inserted)));
        Assert.Equal(2, (await _client.ReadBarsAsync(TableQuery.Create(symbols: ["AAPL"])).ToListAsync().DefaultTimeout()).Count);
    }

    /// <summary>IProgress that reports on the caller's thread (Progress&lt;T&gt; posts to the thread pool and may report late).</summary>
    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
