using System.Net;
using System.Text.Json;
using Grpc.Core;
using Lakehouse.Flight.Client;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Server.Jobs;
using Microsoft.Extensions.DependencyInjection;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>The job service through the HTTP API and the Flight ingest action, held in place by <see cref="GatedPriceSource"/>.</summary>
public sealed class JobTests : IAsyncLifetime
{
    private readonly List<TestServer> _servers = [];
    private readonly GatedPriceSource _source = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _source.Open();
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }
    }

    private async Task<(TestServer Server, HttpClient Http)> StartAsync(int workers = 2, int capacity = 100, string? dataDir = null,
        GatedPriceSource? source = null)
    {
        var server = await TestServer.StartAsync(o =>
        {
            o.Jobs.Workers = workers;
            o.Jobs.QueueCapacity = capacity;
        }, configureServices: s => s.AddSingleton<IPriceSource>(source ?? _source), dataDir: dataDir);
        _servers.Add(server);
        return (server, new HttpClient { BaseAddress = server.Server.HttpEndpoint, Timeout = TestTimeouts.Default });
    }

    private static async Task<string> PostAsync(HttpClient http, string symbol, HttpStatusCode expected = HttpStatusCode.Accepted)
    {
        using var response = await http.PostAsync(
            new Uri($"/prices/jobs/daily/range?symbol={symbol}&date_from=2024-01-01&date_to=2024-01-31&source={GatedPriceSource.SourceName}", UriKind.Relative), null);
        Assert.Equal(expected, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.TryGetProperty("job_id", out var id) ? id.GetString()! : doc.RootElement.GetProperty("detail").GetString()!;
    }

    private static async Task<JsonElement> GetAsync(HttpClient http, string id)
    {
        using var doc = JsonDocument.Parse(await http.GetStringAsync(new Uri($"/prices/jobs/{id}", UriKind.Relative)));
        return doc.RootElement.Clone();
    }

    private static async Task<JsonElement> WaitForAsync(HttpClient http, string id, Func<string, bool> state)
    {
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (true)
        {
            var job = await GetAsync(http, id);
            if (state(job.GetProperty("state").GetString()!) || DateTime.UtcNow > deadline)
            {
                return job;
            }
            await Task.Delay(20);
        }
    }

    private async Task WaitStartedAsync(string symbol)
    {
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (!_source.Started.Contains(symbol) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        Assert.Contains(symbol, _source.Started);
    }

    private static string State(JsonElement job) => job.GetProperty("state").GetString()!;

    private static string? Error(JsonElement job) => job.GetProperty("error").GetString();

    [Fact]
    public async Task Restart_WhileOneJobRunsAndOneIsQueued_BothRecordsSayFailedInterrupted()
    {
        var (first, http) = await StartAsync(workers: 1);
        var running = await PostAsync(http, "AAPL");
        var queued = await PostAsync(http, "MSFT");
        await WaitStartedAsync("AAPL");
        Assert.Equal("running", State(await GetAsync(http, running)));
        Assert.Equal("queued", State(await GetAsync(http, queued)));

        await first.StopKeepingDataAsync();
        var (_, http2) = await StartAsync(workers: 1, dataDir: first.DataDir);
        var afterRunning = await GetAsync(http2, running);
        var afterQueued = await GetAsync(http2, queued);

        Assert.Equal("failed", State(afterRunning));
        Assert.Equal(JobService.InterruptedRunning, Error(afterRunning));
        Assert.Equal(JsonValueKind.String, afterRunning.GetProperty("started_at").ValueKind);
        Assert.Equal(JsonValueKind.String, afterRunning.GetProperty("finished_at").ValueKind);
        Assert.Equal("failed", State(afterQueued));
        Assert.Equal(JobService.InterruptedQueued, Error(afterQueued));
        Assert.Equal(JsonValueKind.Null, afterQueued.GetProperty("started_at").ValueKind);
        Assert.DoesNotContain("MSFT", _source.Started);
        using var list = JsonDocument.Parse(await http2.GetStringAsync(new Uri("/prices/jobs?limit=10", UriKind.Relative)));
        Assert.Equal([queued, running], list.RootElement.EnumerateArray().Select(j => j.GetProperty("job_id").GetString()!).ToArray());
    }

    [Fact]
    public async Task Restart_AfterACrashLeftRecordsRunningAndQueued_MarksThemFailedAtStart()
    {
        var (first, http) = await StartAsync(workers: 1);
        _source.Open();
        var done = await PostAsync(http, "AAPL");
        Assert.Equal("succeeded", State(await WaitForAsync(http, done, JobStates.IsFinished)));
        await first.StopKeepingDataAsync();
        // What a killed process leaves: records still saying running and queued.
        var dir = Path.Combine(first.DataDir, "_metadata", "jobs");
        var record = await File.ReadAllTextAsync(Path.Combine(dir, done + ".json"));
        await File.WriteAllTextAsync(Path.Combine(dir, "20240101000000000-dead0001.json"),
            record.Replace(done, "20240101000000000-dead0001", StringComparison.Ordinal).Replace("\"succeeded\"", "\"running\"", StringComparison.Ordinal));
        await File.WriteAllTextAsync(Path.Combine(dir, "20240101000000000-dead0002.json"),
            record.Replace(done, "20240101000000000-dead0002", StringComparison.Ordinal).Replace("\"succeeded\"", "\"queued\"", StringComparison.Ordinal));

        var (_, http2) = await StartAsync(workers: 1, dataDir: first.DataDir);

        var wasRunning = await GetAsync(http2, "20240101000000000-dead0001");
        var wasQueued = await GetAsync(http2, "20240101000000000-dead0002");
        Assert.Equal(("failed", JobService.InterruptedRunning), (State(wasRunning), Error(wasRunning)));
        Assert.Equal(("failed", JobService.InterruptedQueued), (State(wasQueued), Error(wasQueued)));
        Assert.Equal("succeeded", State(await GetAsync(http2, done)));
        using var onDisk = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(dir, "20240101000000000-dead0001.json")));
        Assert.Equal("failed", onDisk.RootElement.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Post_QueueFull_Is429ProblemAndFlightIngestIsResourceExhausted()
    {
        var (server, http) = await StartAsync(workers: 1, capacity: 1);
        var running = await PostAsync(http, "AAPL");
        await WaitStartedAsync("AAPL");
        var queued = await PostAsync(http, "MSFT");

        using var refused = await http.PostAsync(
            new Uri($"/prices/jobs/daily/range?symbol=IBM&date_from=2024-01-01&date_to=2024-01-31&source={GatedPriceSource.SourceName}", UriKind.Relative), null);
        using var client = server.Client();
        var flight = await Assert.ThrowsAsync<RpcException>(() =>
            client.IngestAsync(new IngestOptions { Source = GatedPriceSource.SourceName, Symbols = ["IBM"], From = new DateOnly(2024, 1, 1), To = new DateOnly(2024, 1, 31) }));

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
        Assert.Contains("the job queue is full (1 jobs waiting)", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(StatusCode.ResourceExhausted, flight.StatusCode);
        Assert.Contains("Lakehouse:Jobs:QueueCapacity", flight.Status.Detail, StringComparison.Ordinal);
        using var list = JsonDocument.Parse(await http.GetStringAsync(new Uri("/prices/jobs", UriKind.Relative)));
        Assert.Equal(2, list.RootElement.GetArrayLength());
        _source.Open();
        Assert.Equal("succeeded", State(await WaitForAsync(http, running, JobStates.IsFinished)));
        Assert.Equal("succeeded", State(await WaitForAsync(http, queued, JobStates.IsFinished)));
    }

    [Fact]
    public async Task Delete_QueuedAndRunningJobs_BothEndCancelledAndNothingMoreIsWritten()
    {
        var (server, http) = await StartAsync(workers: 1);
        var running = await PostAsync(http, "AAPL");
        var queued = await PostAsync(http, "MSFT");
        await WaitStartedAsync("AAPL");

        using var deleteQueued = await http.DeleteAsync(new Uri($"/prices/jobs/{queued}", UriKind.Relative));
        using var deleteRunning = await http.DeleteAsync(new Uri($"/prices/jobs/{running}", UriKind.Relative));
        var cancelled = await WaitForAsync(http, running, JobStates.IsFinished);
        using var again = await http.DeleteAsync(new Uri($"/prices/jobs/{running}", UriKind.Relative));
        using var unknown = await http.DeleteAsync(new Uri("/prices/jobs/nope", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, deleteQueued.StatusCode);
        Assert.Equal(("cancelled", JobService.CancelledQueued), (State(await GetAsync(http, queued)), Error(await GetAsync(http, queued))));
        Assert.Equal(HttpStatusCode.Accepted, deleteRunning.StatusCode);
        Assert.Equal(("cancelled", JobService.CancelledRunning), (State(cancelled), Error(cancelled)));
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.DoesNotContain("MSFT", _source.Started);
        Assert.Equal(0, server.Server.Store.Read(TableQuery.Create(symbols: ["AAPL", "MSFT"])).Sum(b => b.Length));
    }

    [Fact]
    public async Task TwoJobs_OnOneSymbol_NeverOverlapWhileAJobOnAnotherSymbolRuns()
    {
        var (_, http) = await StartAsync(workers: 2);
        var first = await PostAsync(http, "AAPL");
        await WaitStartedAsync("AAPL");
        var second = await PostAsync(http, "AAPL");
        var other = await PostAsync(http, "MSFT");

        // A worker is free, yet the second AAPL job waits; the MSFT job takes that worker.
        await WaitStartedAsync("MSFT");
        Assert.Equal("queued", State(await GetAsync(http, second)));
        Assert.Equal("running", State(await GetAsync(http, first)));
        _source.Open();
        var a = await WaitForAsync(http, first, JobStates.IsFinished);
        var b = await WaitForAsync(http, second, JobStates.IsFinished);
        var c = await WaitForAsync(http, other, JobStates.IsFinished);

        Assert.Equal(["succeeded", "succeeded", "succeeded"], new[] { State(a), State(b), State(c) });
        Assert.Equal(1, _source.MaxConcurrent("AAPL"));
        Assert.True(b.GetProperty("started_at").GetDateTimeOffset() >= a.GetProperty("finished_at").GetDateTimeOffset());
        Assert.Equal(2, _source.Started.Count(s => s == "AAPL"));
        var silver = b.GetProperty("reports").EnumerateArray().Single(r => r.GetProperty("layer").GetString() == "silver");
        Assert.Equal((0L, 23L), (silver.GetProperty("inserted").GetInt64(), silver.GetProperty("unchanged").GetInt64()));
    }

    [Fact]
    public async Task FlightIngest_RunsAsAJob_StreamsProgressAndLeavesARecord()
    {
        _source.Open();
        var (server, http) = await StartAsync();
        using var client = server.Client();
        var progress = new List<IngestProgress>();

        var reports = await client.IngestAsync(new IngestOptions
        {
            Source = GatedPriceSource.SourceName, Symbols = ["AAPL", "MSFT"], From = new DateOnly(2024, 1, 1), To = new DateOnly(2024, 1, 31),
        }, new InlineProgress<IngestProgress>(progress.Add)).DefaultTimeout();

        Assert.Equal([("bronze", 23L), ("bronze", 23L), ("silver", 23L), ("silver", 23L)], reports.Select(r => (r.Layer, r.Inserted)));
        Assert.Equal(2, progress.Last().Done);
        using var list = JsonDocument.Parse(await http.GetStringAsync(new Uri("/prices/jobs", UriKind.Relative)));
        var job = list.RootElement.EnumerateArray().Single();
        Assert.Equal(("succeeded", "ingest"), (job.GetProperty("state").GetString(), job.GetProperty("kind").GetString()));
        Assert.Equal(["AAPL", "MSFT"], job.GetProperty("symbols").EnumerateArray().Select(s => s.GetString()));
    }

    private sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
