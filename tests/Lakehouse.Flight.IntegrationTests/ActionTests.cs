using System.Text.Json;
using Apache.Arrow.Flight;
using Grpc.Core;
using Lakehouse.Flight.Client;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion;

namespace Lakehouse.Flight.IntegrationTests;

public sealed class ActionTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task ListActions_DescribesEveryAction()
    {
        using var call = _server.Raw.ListActions();
        var actions = new List<FlightActionType>();
        while (await call.ResponseStream.MoveNext().DefaultTimeout())
        {
            actions.Add(call.ResponseStream.Current);
        }

        Assert.Equal(["ingest", "promote", "build-gold", "migrate-legacy", "upload-status", "stats", "manifest", "health", "list-versions", "create-snapshot", "list-snapshots", "delete-snapshot", "vacuum"], actions.Select(a => a.Type));
        Assert.All(actions, a => Assert.False(string.IsNullOrWhiteSpace(a.Description)));
    }

    [Fact]
    public async Task Ingest_ThroughSdk_StreamsProgressThenReportsAndDataIsReadable()
    {
        using var client = _server.Client();
        var symbols = Enumerable.Range(0, 25).Select(i => $"T{i:D2}").ToArray();
        var progress = new List<IngestProgress>();
        var from = new DateOnly(2024, 1, 1);
        var to = new DateOnly(2024, 2, 29);

        var reports = await client.IngestAsync(new IngestOptions { Symbols = symbols, From = from, To = to }, new SyncProgress(progress))
            .DefaultTimeout();

        var expected = SyntheticBars.Generate(symbols, from, to, 42);
        // One progress result per commit: 25 synthetic symbols fit one chunk of IngestionRunner.ChunkSymbols.
        Assert.Equal([25], progress.Select(p => p.Done));
        Assert.All(progress, p => Assert.Equal(25, p.Total));
        Assert.Equal(expected.Count, progress[^1].Rows);
        Assert.Equal(50, reports.Count);
        Assert.Equal(25, reports.Count(r => r.Layer == "silver"));
        Assert.Equal(expected.Count, reports.Where(r => r.Layer == "silver").Sum(r => r.Inserted));
        var read = await client.ReadBarsAsync(TableQuery.Create(symbols: ["T07"])).ToListAsync();
        Assert.Equal(expected.Where(b => b.Symbol == "T07").Select(b => (b.Date, b.Close)), read.Select(b => (b.Date, b.Close)));
    }

    [Fact]
    public async Task Promote_AfterBronzeOnlyUpload_FillsSilver()
    {
        using var client = _server.Client();
        var bars = SyntheticBars.Generate(["NKE"], new DateOnly(2024, 3, 1), new DateOnly(2024, 3, 31));
        await client.UploadAsync(bars, "vendor_x").DefaultTimeout();

        var reports = await client.PromoteAsync("vendor_x", ["NKE"]).DefaultTimeout();

        var report = Assert.Single(reports);
        Assert.Equal(("silver", (long)bars.Count), (report.Layer, report.Inserted));
        Assert.Equal(bars.Count, (await client.ReadBarsAsync(TableQuery.Create(symbols: ["NKE"])).ToListAsync()).Count);
    }

    [Fact]
    public async Task StatsManifestHealth_ThroughRawClient_ReturnJson()
    {
        using var client = _server.Client();
        var bars = SyntheticBars.Generate(["AAPL", "MSFT"], new DateOnly(2024, 1, 1), new DateOnly(2024, 1, 31));
        await client.UploadAsync(bars, "vendor_x", promote: true).DefaultTimeout();

        var stats = await Action("stats", "");
        var manifest = await Action("manifest", """{"layer":"silver","limit":1}""");
        var health = await Action("health", "");

        var silver = stats.RootElement.EnumerateArray().Single(e => e.GetProperty("layer").GetString() == "silver" && e.GetProperty("table").GetString() == "prices_daily");
        // One month of 2024: one data file (the 2024 band).
        Assert.Equal((2, (long)bars.Count, 1L), (silver.GetProperty("symbols").GetInt32(), silver.GetProperty("rows").GetInt64(), silver.GetProperty("files").GetInt64()));
        var line = Assert.Single(manifest.RootElement.EnumerateArray());
        Assert.Equal(("MSFT", (long)bars.Count(b => b.Symbol == "MSFT")), (line.GetProperty("symbol").GetString(), line.GetProperty("inserted").GetInt64()));
        Assert.Equal("ok", health.RootElement.GetProperty("status").GetString());
        Assert.Equal(["AAPL", "MSFT"], (await client.GetManifestAsync("bronze").DefaultTimeout()).Select(r => r.Symbol));
    }

    [Theory]
    [InlineData("ingest", """{"symbols":["AAPL"],"date_from":"2024-03-01","date_to":"2024-01-01"}""", "date_from 2024-03-01 is after date_to 2024-01-01")]
    [InlineData("ingest", """{"symbols":["../x"],"date_from":"2024-01-01","date_to":"2024-01-31"}""", "symbol '../x' contains '/'")]
    [InlineData("ingest", """{"symbols":["AAPL"],"date_from":"2024-01-01""", "malformed JSON")]
    [InlineData("ingest", """{"source":"nope","symbols":["AAPL"],"date_from":"2024-01-01","date_to":"2024-01-31"}""", "unknown source 'nope'")]
    [InlineData("manifest", """{"layer":"platinum"}""", "unknown layer 'platinum'")]
    [InlineData("fly", "", "unknown action 'fly': valid actions are ingest, promote, build-gold, migrate-legacy, upload-status, stats, manifest, health")]
    [InlineData("migrate-legacy", "", "migrate-legacy needs the legacy file, e.g. {\"from\":\"data/prices_daily.parquet\"}")]
    public async Task BadAction_IsInvalidArgument_AndLakeUnchanged(string type, string body, string expected)
    {
        var before = _server.Snapshot();

        var ex = await Assert.ThrowsAsync<RpcException>(() => Action(type, body));

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains(expected, ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(before, _server.Snapshot());
    }

    [Fact]
    public async Task NotServed_IsUnimplemented_NeverUnknown()
    {
        var exchange = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = _server.Raw.DoExchange(FlightDescriptor.CreatePathDescriptor("silver", "prices_daily"));
            await call.ResponseStream.MoveNext().DefaultTimeout();
        });

        Assert.Equal(StatusCode.Unimplemented, exchange.StatusCode);
        Assert.Contains("DoExchange is not served", exchange.Status.Detail, StringComparison.Ordinal);
    }

    private async Task<JsonDocument> Action(string type, string body)
    {
        using var call = _server.Raw.DoAction(new FlightAction(type, body));
        JsonDocument? last = null;
        while (await call.ResponseStream.MoveNext().DefaultTimeout())
        {
            last = JsonDocument.Parse(call.ResponseStream.Current.Body.Memory);
        }
        return last ?? throw new InvalidOperationException("no result");
    }

    /// <summary>Progress&lt;T&gt; posts to the thread pool; this records in order, synchronously.</summary>
    private sealed class SyncProgress(List<IngestProgress> into) : IProgress<IngestProgress>
    {
        public void Report(IngestProgress value) => into.Add(value);
    }
}
