using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Server.Http;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary><c>POST /sql</c> on a real server with auth on: JSON, CSV and Arrow by Accept, equal to Flight SQL; errors as problem+json.</summary>
public sealed class SqlHttpTests : IAsyncLifetime
{
    private const string Monthly = """
        SELECT symbol, date_trunc('month', date)::DATE AS month, count(*) AS days, max(high) AS high, sum(volume) AS volume
        FROM silver.prices_daily GROUP BY ALL ORDER BY ALL
        """;

    private TestServer _server = null!;
    private HttpClient _http = null!;
    private IReadOnlyList<PriceBar> _bars = [];

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync(TestServer.WithAuth);
        _bars = SyntheticBars.Generate(["AAPL", "^GSPC"], new DateOnly(2024, 1, 1), new DateOnly(2024, 3, 31));
        await _server.Server.Store.UpsertAsync(_bars).DefaultTimeout();
        _http = new HttpClient { BaseAddress = _server.Server.HttpEndpoint, Timeout = TestTimeouts.Default };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private async Task<HttpResponseMessage> PostAsync(string body, string? accept = null, string? token = TestServer.ReaderToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/sql") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (accept is not null)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
        }
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return await _http.SendAsync(request).DefaultTimeout();
    }

    private static string Body(string sql, params object[] parameters) =>
        JsonSerializer.Serialize(new Dictionary<string, object> { ["query"] = sql, ["parameters"] = parameters });

    /// <summary>(symbol, month, days, high, volume) per symbol and month, computed from the bars uploaded.</summary>
    private List<(string, string, long, double, long)> ExpectedMonthly() =>
        _bars.GroupBy(b => (b.Symbol, Month: new DateOnly(b.Date.Year, b.Date.Month, 1)))
            .OrderBy(g => g.Key.Symbol, StringComparer.Ordinal).ThenBy(g => g.Key.Month)
            .Select(g => (g.Key.Symbol, g.Key.Month.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), (long)g.Count(), g.Max(b => b.High), g.Sum(b => b.Volume)))
            .ToList();

    [Fact]
    public async Task PostSql_ReaderJsonByDefault_RowsOfTheAggregate_AndTheVersionRead()
    {
        using var response = await PostAsync(Body(Monthly));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(_server.Server.Store.LatestVersion.ToString(CultureInfo.InvariantCulture), Assert.Single(response.Headers.GetValues("X-Lakehouse-Version")));
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var rows = doc.RootElement.EnumerateArray().Select(r => (r.GetProperty("symbol").GetString()!, r.GetProperty("month").GetString()!,
            r.GetProperty("days").GetInt64(), r.GetProperty("high").GetDouble(), r.GetProperty("volume").GetInt64())).ToList();
        Assert.Equal(2 * 3, rows.Count);
        Assert.Equal(ExpectedMonthly(), rows);
    }

    [Fact]
    public async Task PostSql_Csv_HeaderAndRowsWithParameters()
    {
        var aapl = _bars.Where(b => b.Symbol == "AAPL" && b.Date >= new DateOnly(2024, 3, 1)).OrderBy(b => b.Date).ToList();

        using var response = await PostAsync(Body("SELECT date, close, volume FROM silver.prices_daily WHERE symbol = ? AND date >= CAST(? AS DATE) ORDER BY date",
            "AAPL", "2024-03-01"), "text/csv");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("date,close,volume", lines[0]);
        Assert.Equal(aapl.Select(b => FormattableString.Invariant($"{b.Date:yyyy-MM-dd},{b.Close:R},{b.Volume}")), lines.Skip(1));
    }

    [Fact]
    public async Task PostSql_ArrowStream_EqualsFlightSqlOfTheSameStatement()
    {
        using var response = await PostAsync(Body(Monthly), HttpApi.ArrowStream);
        var (_, flightSchema, flightBatches) = await new FlightSqlCalls(_server.Raw, TestServer.Bearer(TestServer.ReaderToken)).SqlAsync(Monthly);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpApi.ArrowStream, response.Content.Headers.ContentType?.MediaType);
        using var reader = new ArrowStreamReader(await response.Content.ReadAsStreamAsync());
        var batches = new List<RecordBatch>();
        while (await reader.ReadNextRecordBatchAsync() is { } batch)
        {
            batches.Add(batch);
        }
        Assert.Equal(["symbol:String", "month:Date32", "days:Int64", "high:Double", "volume:Int64"],
            reader.Schema.FieldsList.Select(f => $"{f.Name}:{f.DataType.TypeId}"));
        Assert.Equal(flightSchema.FieldsList.Select(f => (f.Name, f.DataType.TypeId)), reader.Schema.FieldsList.Select(f => (f.Name, f.DataType.TypeId)));
        Assert.Equal(Cells(flightBatches), Cells(batches));
        Assert.Equal(6, batches.Sum(b => b.Length));
    }

    [Fact]
    public async Task PostSql_EmptyResult_IsAnEmptyArrayAHeaderOnlyCsvAndASchemaOnlyStream()
    {
        const string None = "SELECT symbol, close FROM silver.prices_daily WHERE symbol = 'NOPE'";

        using var json = await PostAsync(Body(None));
        using var csv = await PostAsync(Body(None), "text/csv");
        using var arrow = await PostAsync(Body(None), HttpApi.ArrowStream);

        Assert.Equal("[]", await json.Content.ReadAsStringAsync());
        Assert.Equal("symbol,close\n", await csv.Content.ReadAsStringAsync());
        using var reader = new ArrowStreamReader(await arrow.Content.ReadAsStreamAsync());
        Assert.Null(await reader.ReadNextRecordBatchAsync());
        Assert.Equal(["symbol", "close"], reader.Schema.FieldsList.Select(f => f.Name));
    }

    public static TheoryData<string, HttpStatusCode, string> BadRequests => new()
    {
        { Body("SELEC * FROM silver.prices_daily"), HttpStatusCode.BadRequest, "syntax error" },
        { Body("SELECT nope FROM silver.prices_daily"), HttpStatusCode.BadRequest, "nope" },
        { Body("SELECT * FROM read_csv('/etc/passwd')"), HttpStatusCode.Forbidden, "SQL reads the lake's tables only" },
        { Body("SELECT sql FROM duckdb_views()"), HttpStatusCode.Forbidden, "duckdb_views" },
        { """{"sql": "SELECT 1"}""", HttpStatusCode.BadRequest, "unknown field 'sql'" },
        { """{"query": ""}""", HttpStatusCode.BadRequest, "the query is empty" },
        { "SELECT 1", HttpStatusCode.BadRequest, "the body is not JSON" },
        { """{"query": "SELECT ?", "parameters": [[1]]}""", HttpStatusCode.BadRequest, "parameter 1 is a JSON array" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task PostSql_BadInput_ProblemJsonWithTheEnginesMessage_NoServerPath(string body, HttpStatusCode status, string mentions)
    {
        using var response = await PostAsync(body);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        using var doc = JsonDocument.Parse(text);
        Assert.Contains(mentions, doc.RootElement.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(_server.DataDir, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostSql_NoCredentials_401_AndNothingServedIsA406()
    {
        using var anonymous = await PostAsync(Body("SELECT 1 AS one"), token: null);
        using var xml = await PostAsync(Body("SELECT 1 AS one"), "application/xml");
        using var writer = await PostAsync(Body("SELECT 1 AS one"), token: TestServer.WriterToken);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.NotAcceptable, xml.StatusCode);
        Assert.Equal("[{\"one\":1}]", await writer.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task PostSql_FormContentTypeOfCurlData_IsReadAsJson_AndTheOpenApiDocumentDescribesTheBody()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/sql")
        {
            Content = new StringContent(Body("SELECT count(*) AS n FROM silver.prices_daily"), Encoding.UTF8, "application/x-www-form-urlencoded"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestServer.ReaderToken);

        using var response = await _http.SendAsync(request).DefaultTimeout();
        using var openApi = JsonDocument.Parse(await _http.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative)).DefaultTimeout());

        Assert.Equal($"[{{\"n\":{_bars.Count}}}]", await response.Content.ReadAsStringAsync());
        var body = openApi.RootElement.GetProperty("paths").GetProperty("/sql").GetProperty("post").GetProperty("requestBody");
        Assert.Equal("string", body.GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("properties")
            .GetProperty("query").GetProperty("type").GetString());
    }

    [Fact]
    public async Task PostSql_FailureBeforeTheFirstBatchIsAProblem_AfterItTheResponseIsCut()
    {
        await using var server = await TestServer.StartAsync(o => o.Sql.MaxResultRows = 100_000);
        using var http = new HttpClient { BaseAddress = server.Server.HttpEndpoint, Timeout = TestTimeouts.Default };

        using var early = await http.PostAsync(new Uri("/sql", UriKind.Relative),
            new StringContent(Body("SELECT CAST(range::VARCHAR || 'x' AS INTEGER) AS n FROM range(10)"), Encoding.UTF8, "application/json"));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/sql")
        {
            Content = new StringContent(Body("SELECT range AS n FROM range(200000)"), Encoding.UTF8, "application/json"),
        };
        using var cut = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        // The first 64K rows fit the cap, so the rows are on the wire before the cap is met: the response is cut, never
        // a whole-looking array of 100,000 rows.
        Assert.Equal(HttpStatusCode.OK, cut.StatusCode);
        await Assert.ThrowsAnyAsync<Exception>(async () => JsonDocument.Parse(await cut.Content.ReadAsStringAsync()));
        // A statement that fails while it runs, before its first batch: still a problem with the engine's message.
        Assert.Equal(HttpStatusCode.BadRequest, early.StatusCode);
        Assert.Contains("Conversion Error", await early.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static List<string> Cells(IEnumerable<RecordBatch> batches) =>
        batches.SelectMany(b => Enumerable.Range(0, b.Length).Select(i =>
            string.Join('|', Enumerable.Range(0, b.ColumnCount).Select(c => Convert.ToString(PriceBarBatches.ValueAt(b.Column(c), i), CultureInfo.InvariantCulture))))).ToList();
}
