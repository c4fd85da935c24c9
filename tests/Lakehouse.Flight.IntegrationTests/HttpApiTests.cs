using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Ingestion;

namespace Lakehouse.Flight.IntegrationTests;

public sealed class HttpApiTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private HttpClient _http = null!;
    private IReadOnlyList<PriceBar> _bars = [];

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        _bars = SyntheticBars.Generate(["AAPL", "^GSPC"], new DateOnly(2024, 1, 1), new DateOnly(2024, 3, 31));
        await _server.Server.Store.UpsertAsync(_bars).DefaultTimeout();
        _http = new HttpClient { BaseAddress = _server.Server.HttpEndpoint, Timeout = TestTimeouts.Default };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private List<PriceBar> Expected(string symbol) => _bars.Where(b => b.Symbol == symbol).OrderBy(b => b.Date).ToList();

    [Fact]
    public async Task GetDaily_Json_ReturnsTheLatestRowsOldestFirst()
    {
        using var response = await _http.GetAsync(new Uri("/prices/daily?symbol=aapl&limit=10", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var rows = doc.RootElement.EnumerateArray().ToList();
        var expected = Expected("AAPL").TakeLast(10).ToList();
        Assert.Equal(expected.Select(b => b.Date.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)),
            rows.Select(r => r.GetProperty("date").GetString()));
        Assert.Equal(expected.Select(b => b.Close), rows.Select(r => r.GetProperty("close").GetDouble()));
        Assert.Equal(expected.Select(b => b.Volume), rows.Select(r => r.GetProperty("volume").GetInt64()));
        Assert.All(rows, r => Assert.Equal("AAPL", r.GetProperty("symbol").GetString()));
    }

    [Fact]
    public async Task GetDaily_CsvWithRangeAndColumns_ReturnsThoseRows()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/prices/daily?symbol=%5EGSPC&date_from=2024-02-01&date_to=2024-02-07&columns=date,close&limit=100");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));

        using var response = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var expected = Expected("^GSPC").Where(b => b.Date >= new DateOnly(2024, 2, 1) && b.Date <= new DateOnly(2024, 2, 7))
            .Select(b => FormattableString.Invariant($"{b.Date:yyyy-MM-dd},{b.Close:R}"));
        Assert.Equal(["date,close", .. expected], lines);
    }

    [Fact]
    public async Task GetDaily_ArrowStream_ReadsBackAsRecordBatch()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/prices/daily?symbol=AAPL&limit=5");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.apache.arrow.stream"));

        using var response = await _http.SendAsync(request);
        using var reader = new ArrowStreamReader(await response.Content.ReadAsStreamAsync());
        var batch = await reader.ReadNextRecordBatchAsync();

        Assert.NotNull(batch);
        Assert.Equal(PriceTables.SilverSchema.FieldsList.Select(f => f.Name), batch.Schema.FieldsList.Select(f => f.Name));
        Assert.Equal(Expected("AAPL").TakeLast(5).Select(b => b.Close), ((DoubleArray)batch.Column("close")).Values.ToArray());
    }

    [Theory]
    [InlineData("/prices/daily", "query parameter 'symbol' is required")]
    [InlineData("/prices/daily?symbol=../x", "contains '/'")]
    [InlineData("/prices/daily?symbol=AAPL&date_from=2024-03-01&date_to=2024-01-01", "date_from 2024-03-01 is after date_to 2024-01-01")]
    [InlineData("/prices/daily?symbol=AAPL&limit=0", "query parameter 'limit' must be a whole number between 1 and 100,000 (got '0')")]
    [InlineData("/prices/daily?symbol=AAPL&columns=price", "unknown column 'price'")]
    public async Task GetDaily_BadInput_IsProblemJsonNamingTheProblem(string url, string fragment)
    {
        using var response = await _http.GetAsync(new Uri(url, UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains(fragment, doc.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostRangeJob_Is202WithLocation_AndTheJobLandsTheRows()
    {
        using var response = await _http.PostAsync(new Uri("/prices/jobs/daily/range?symbol=NEWCO&date_from=2024-01-01&date_to=2024-01-31", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.StartsWith("/prices/jobs/", location.OriginalString, StringComparison.Ordinal);
        JsonElement job;
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        do
        {
            await Task.Delay(50);
            using var doc = JsonDocument.Parse(await _http.GetStringAsync(location));
            job = doc.RootElement.Clone();
        }
        while (job.GetProperty("state").GetString() is "queued" or "running" && DateTime.UtcNow < deadline);
        Assert.Equal("succeeded", job.GetProperty("state").GetString());
        var reports = job.GetProperty("reports").EnumerateArray().ToList();
        Assert.Equal([("bronze", 23L), ("silver", 23L)], reports.Select(r => (r.GetProperty("layer").GetString(), r.GetProperty("inserted").GetInt64())));
        Assert.Equal(23, _server.Server.Store.Read(TableQuery.Create(symbols: ["NEWCO"])).Sum(b => b.Length));
    }

    [Fact]
    public async Task GetJob_Unknown_Is404Problem()
    {
        using var response = await _http.GetAsync(new Uri("/prices/jobs/nope", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task PostRangeJob_UnbuiltSource_Is400AndQueuesNothing()
    {
        using var response = await _http.PostAsync(new Uri("/prices/jobs/daily/range?symbol=X&date_from=2024-01-01&date_to=2024-01-31&source=bloomberg", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("unknown source 'bloomberg': use one of csv, synthetic, yahoo", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("[]", await _http.GetStringAsync(new Uri("/prices/jobs", UriKind.Relative)));
    }

    [Fact]
    public async Task HealthAndOpenApi_DescribeTheService()
    {
        using var health = JsonDocument.Parse(await _http.GetStringAsync(new Uri("/health", UriKind.Relative)));
        var openApi = await _http.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative));

        Assert.Equal("ok", health.RootElement.GetProperty("status").GetString());
        var silver = health.RootElement.GetProperty("datasets").EnumerateArray().First(d => d.GetProperty("layer").GetString() == "silver");
        Assert.Equal(2, silver.GetProperty("symbols").GetInt32());
        // Silver's one file of 2024 (the test upserts silver only).
        Assert.Equal(1, health.RootElement.GetProperty("files").GetInt64());
        Assert.Contains("/prices/daily", openApi, StringComparison.Ordinal);
        Assert.Contains("/prices/jobs/daily/range", openApi, StringComparison.Ordinal);
    }
}

public sealed class HttpAuthTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync(TestServer.WithAuth);
        _http = new HttpClient { BaseAddress = _server.Server.HttpEndpoint, Timeout = TestTimeouts.Default };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private async Task<HttpStatusCode> Send(HttpMethod method, string url, string? token)
    {
        using var request = new HttpRequestMessage(method, url);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        using var response = await _http.SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task Http_RolesAreEnforced()
    {
        const string job = "/prices/jobs/daily/range?symbol=AAPL&date_from=2024-01-01&date_to=2024-01-05";

        Assert.Equal(HttpStatusCode.Unauthorized, await Send(HttpMethod.Get, "/prices/daily?symbol=AAPL", null));
        Assert.Equal(HttpStatusCode.Unauthorized, await Send(HttpMethod.Get, "/prices/daily?symbol=AAPL", "wrong-token"));
        Assert.Equal(HttpStatusCode.OK, await Send(HttpMethod.Get, "/prices/daily?symbol=AAPL", TestServer.ReaderToken));
        Assert.Equal(HttpStatusCode.Forbidden, await Send(HttpMethod.Post, job, TestServer.ReaderToken));
        Assert.Equal(HttpStatusCode.Accepted, await Send(HttpMethod.Post, job, TestServer.WriterToken));
        Assert.Equal(HttpStatusCode.OK, await Send(HttpMethod.Get, "/health", null));
    }
}
