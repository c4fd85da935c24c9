using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Apache.Arrow.Flight;
using Grpc.Core;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>
/// Every error path of the jobs API and the Flight actions on a real read-only disk and a real full disk
/// (decisions D34): each answer has the status that says what happened, and no message carries a path
/// of the data dir, an exception type name or a native (C++) type name.
/// </summary>
public sealed partial class FaultedDiskErrorTests
{
    [GeneratedRegex(@"\bN\d+[A-Za-z_]\w*E\b")]
    private static partial Regex NativeTypeName();

    [GeneratedRegex(@"\b\w+(Exception|Error)\b")]
    private static partial Regex ExceptionTypeName();

    /// <summary>A lake with prices, a finished job and a legacy file in its import folder, on a tmpfs.</summary>
    private static async Task<(TestServer Server, HttpClient Http, string JobId)> PrepareAsync(Tmpfs disk)
    {
        var server = await TestServer.StartAsync(root: disk.Path);
        using var client = server.Client();
        await client.UploadAsync(SyntheticBars.Generate(["AAPL", "MSFT"], new DateOnly(2024, 1, 1), new DateOnly(2024, 2, 29)), "vendor_x", promote: true)
            .DefaultTimeout();
        var http = new HttpClient { BaseAddress = server.Server.HttpEndpoint, Timeout = TestTimeouts.Default };
        using var posted = await http.PostAsync(new Uri("/prices/jobs/daily/range?symbol=IBM&date_from=2024-01-01&date_to=2024-01-31", UriKind.Relative), null)
            .DefaultTimeout();
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        var id = JsonDocument.Parse(await posted.Content.ReadAsStringAsync()).RootElement.GetProperty("job_id").GetString()!;
        await WaitFinishedAsync(http, id);
        var import = Path.Combine(server.DataDir, "import");
        Directory.CreateDirectory(import);
        File.Copy(Directory.EnumerateFiles(Path.Combine(server.DataDir, "silver", "prices_daily"), "*.parquet", SearchOption.AllDirectories).First(),
            Path.Combine(import, "prices_daily.parquet"));
        return (server, http, id);
    }

    [TmpfsFact]
    public async Task ReadOnlyDataDir_EveryJobsApiAndActionErrorPath_IsMappedAndNamesNoServerPath()
    {
        using var disk = Tmpfs.Mount(32);
        var (server, http, jobId) = await PrepareAsync(disk);
        await using var _ = server;
        using var __ = http;
        disk.RemountReadOnly();
        try
        {
            await WalkAsync(server, http, jobId, disk.Path, writeStatus: HttpStatusCode.ServiceUnavailable, grpcWrite: StatusCode.FailedPrecondition,
                expectedText: "read-only");
        }
        finally
        {
            disk.RemountReadOnly(false);
        }
    }

    [TmpfsFact]
    public async Task FullDisk_EveryJobsApiAndActionErrorPath_IsMappedAndNamesNoServerPath()
    {
        using var disk = Tmpfs.Mount(32);
        var (server, http, jobId) = await PrepareAsync(disk);
        await using var _ = server;
        using var __ = http;
        disk.Fill(leaveBytes: 0);

        await WalkAsync(server, http, jobId, disk.Path, writeStatus: HttpStatusCode.InsufficientStorage, grpcWrite: StatusCode.ResourceExhausted,
            expectedText: "disk full");
    }

    private static async Task WalkAsync(TestServer server, HttpClient http, string jobId, string diskPath, HttpStatusCode writeStatus, StatusCode grpcWrite,
        string expectedText)
    {
        // Jobs API: POST (refused: the record cannot be written), GET list, GET one, GET unknown, DELETE finished, DELETE unknown.
        await AssertProblemAsync(http, HttpMethod.Post, "/prices/jobs/daily/range?symbol=IBM&date_from=2024-02-01&date_to=2024-02-29", writeStatus, expectedText, diskPath);
        using (var list = await http.GetAsync(new Uri("/prices/jobs", UriKind.Relative)).DefaultTimeout())
        {
            Assert.Equal(HttpStatusCode.OK, list.StatusCode);
            var jobs = JsonDocument.Parse(await list.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal([jobId], jobs.EnumerateArray().Select(j => j.GetProperty("job_id").GetString()));
            Assert.Equal("succeeded", jobs[0].GetProperty("state").GetString());
        }
        using (var one = await http.GetAsync(new Uri($"/prices/jobs/{jobId}", UriKind.Relative)).DefaultTimeout())
        {
            Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        }
        await AssertProblemAsync(http, HttpMethod.Get, "/prices/jobs/20990101000000000-deadbeef", HttpStatusCode.NotFound, "no job", diskPath);
        await AssertProblemAsync(http, HttpMethod.Delete, $"/prices/jobs/{jobId}", HttpStatusCode.Conflict, "already finished", diskPath);
        await AssertProblemAsync(http, HttpMethod.Delete, "/prices/jobs/20990101000000000-deadbeef", HttpStatusCode.NotFound, "no job", diskPath);

        // Flight actions that write: each refused with the disk's status and a clean message.
        await AssertActionRefusedAsync(server, "ingest", """{"source":"synthetic","symbols":["NEW1"],"date_from":"2024-01-01","date_to":"2024-01-31"}""",
            grpcWrite, expectedText, diskPath);
        await AssertActionRefusedAsync(server, "promote", """{"source":"synthetic"}""", grpcWrite, expectedText, diskPath);
        await AssertActionRefusedAsync(server, "build-gold", """{"symbols":["AAPL"]}""", grpcWrite, expectedText, diskPath);
        var legacy = JsonSerializer.Serialize(new { from = Path.Combine(server.DataDir, "import", "prices_daily.parquet"), source = "legacy_x" });
        await AssertActionRefusedAsync(server, "migrate-legacy", legacy, grpcWrite, expectedText, diskPath);
        // Reads go on.
        var stats = await ActionAsync(server, "stats", "");
        Assert.Equal(3, stats.EnumerateArray().Single(e => e.GetProperty("layer").GetString() == "silver" && e.GetProperty("table").GetString() == "prices_daily")
            .GetProperty("symbols").GetInt32());
        var manifest = await ActionAsync(server, "manifest", """{"layer":"silver","limit":10}""");
        Assert.Equal(["AAPL", "MSFT", "IBM"], manifest.EnumerateArray().Select(r => r.GetProperty("symbol").GetString()));
        var health = await ActionAsync(server, "health", "");
        Assert.Equal("ok", health.GetProperty("status").GetString());
        // The job records the API serves name no path either.
        var records = await http.GetStringAsync(new Uri("/prices/jobs", UriKind.Relative)).DefaultTimeout();
        foreach (var job in JsonDocument.Parse(records).RootElement.EnumerateArray())
        {
            if (job.TryGetProperty("error", out var error) && error.GetString() is { } text)
            {
                AssertClean(text, diskPath);
            }
        }
        using var client = server.Client();
        Assert.Equal(2, (await client.ReadBarsAsync(TableQuery.Create(symbols: ["AAPL"], dateFrom: "2024-01-02", dateTo: "2024-01-03")).ToListAsync()).Count);
    }

    private static void AssertClean(string message, string diskPath)
    {
        Assert.DoesNotContain(diskPath, message, StringComparison.Ordinal);
        Assert.DoesNotContain("/tmp", message, StringComparison.Ordinal);
        Assert.DoesNotContain(".tmp-", message, StringComparison.Ordinal);
        Assert.DoesNotMatch(NativeTypeName(), message);
        Assert.DoesNotMatch(ExceptionTypeName(), message);
        Assert.DoesNotContain("   at ", message, StringComparison.Ordinal);
    }

    private static async Task AssertProblemAsync(HttpClient http, HttpMethod method, string url, HttpStatusCode status, string expectedText, string diskPath)
    {
        using var response = await http.SendAsync(new HttpRequestMessage(method, url)).DefaultTimeout();
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"{method} {url}: {(int)response.StatusCode} {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var detail = JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString()!;
        Assert.Contains(expectedText, detail, StringComparison.Ordinal);
        AssertClean(detail, diskPath);
    }

    private static async Task AssertActionRefusedAsync(TestServer server, string type, string body, StatusCode status, string expectedText, string diskPath)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => ActionAsync(server, type, body));
        Assert.True(status == ex.StatusCode, $"{type}: {ex.StatusCode} {ex.Status.Detail}");
        Assert.Contains(expectedText, ex.Status.Detail, StringComparison.Ordinal);
        AssertClean(ex.Status.Detail, diskPath);
    }

    private static async Task<JsonElement> ActionAsync(TestServer server, string type, string body)
    {
        using var call = server.Raw.DoAction(new FlightAction(type, Encoding.UTF8.GetBytes(body)));
        JsonElement last = default;
        while (await call.ResponseStream.MoveNext().DefaultTimeout())
        {
            last = JsonDocument.Parse(call.ResponseStream.Current.Body.ToByteArray()).RootElement.Clone();
        }
        return last;
    }

    private static async Task WaitFinishedAsync(HttpClient http, string id)
    {
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (true)
        {
            var job = JsonDocument.Parse(await http.GetStringAsync(new Uri($"/prices/jobs/{id}", UriKind.Relative)).DefaultTimeout()).RootElement;
            var state = job.GetProperty("state").GetString();
            if (state == "succeeded")
            {
                return;
            }
            Assert.True(state is "queued" or "running", $"job {id} ended {state}: {job}");
            Assert.True(DateTime.UtcNow < deadline, $"job {id} still {state}");
            await Task.Delay(20);
        }
    }
}
