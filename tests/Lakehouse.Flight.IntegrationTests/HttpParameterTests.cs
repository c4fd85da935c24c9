using System.Net;
using System.Text.Json;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>One binder for every HTTP endpoint: problem+json for every bad parameter, several symbols, Accept with q-values.</summary>
public sealed class HttpParameterTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private HttpClient _http = null!;
    private IReadOnlyList<PriceBar> _bars = [];

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        _bars = SyntheticBars.Generate(["AAPL", "MSFT"], new DateOnly(2024, 1, 1), new DateOnly(2024, 2, 29));
        await _server.Server.Store.UpsertAsync(_bars).DefaultTimeout();
        _http = new HttpClient { BaseAddress = _server.Server.HttpEndpoint, Timeout = TestTimeouts.Default };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [Theory]
    [InlineData("/prices/daily?symbol=AAPL&limit=abc", "query parameter 'limit' must be a whole number between 1 and 100,000 (got 'abc')")]
    [InlineData("/prices/daily?symbol=AAPL&limit=9223372036854775807", "query parameter 'limit' must be a whole number between 1 and 100,000 (got '9223372036854775807')")]
    [InlineData("/prices/daily?symbol=AAPL&limit=-1", "query parameter 'limit' must be a whole number between 1 and 100,000 (got '-1')")]
    [InlineData("/prices/daily?symbol=AAPL&limit=1&limit=2", "query parameter 'limit' is given 2 times: give it once")]
    [InlineData("/prices/daily?symbol=AAPL&date_form=2024-01-01", "unknown query parameter 'date_form' for /prices/daily: use symbol, symbols, limit, date_from, date_to, columns, layer, table, version, as_of, snapshot, diff_from_version (names are lower-case)")]
    [InlineData("/prices/jobs?limit=abc", "query parameter 'limit' must be a whole number between 1 and 10,000 (got 'abc')")]
    [InlineData("/prices/arrow?symbols=AAPL&limt=3", "unknown query parameter 'limt' for /prices/arrow: use symbols, symbol, date_from, date_to, columns, layer, table, compression, version, as_of, snapshot, diff_from_version (names are lower-case)")]
    [InlineData("/prices/arrow?symbols=AAPL&date_from=20240101", "date_from '20240101' is not an ISO date: use YYYY-MM-DD, e.g. 2024-01-31")]
    public async Task BadParameter_IsProblemJsonNamingIt(string url, string detail)
    {
        using var response = await _http.GetAsync(new Uri(url, UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(detail, doc.RootElement.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task PostRangeJob_BadParameter_IsProblemJson()
    {
        using var response = await _http.PostAsync(new Uri("/prices/jobs/daily/range?symbol=AAPL&date_from=2024-01-01&date_to=2024-01-31&srouce=yahoo", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("unknown query parameter 'srouce' for /prices/jobs/daily/range: use symbol, symbols, date_from, date_to, source (names are lower-case)",
            doc.RootElement.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("/prices/daily?symbol=AAPL,MSFT&limit=3")]
    [InlineData("/prices/daily?symbol=AAPL&symbol=MSFT&limit=3")]
    [InlineData("/prices/daily?symbols=msft&symbol=aapl&limit=3")]
    public async Task SeveralSymbols_LimitAppliesPerSymbol(string url)
    {
        using var doc = JsonDocument.Parse(await _http.GetStringAsync(new Uri(url, UriKind.Relative)));

        var rows = doc.RootElement.EnumerateArray().Select(r => (r.GetProperty("symbol").GetString(), r.GetProperty("date").GetString())).ToList();
        var expected = new[] { "AAPL", "MSFT" }.SelectMany(s => _bars.Where(b => b.Symbol == s).OrderBy(b => b.Date).TakeLast(3)
            .Select(b => ((string?)s, (string?)b.Date.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture))));
        Assert.Equal(expected, rows);
    }

    [Theory]
    [InlineData(null, "application/json")]
    [InlineData("*/*", "application/json")]
    [InlineData("text/csv;q=0.1, application/json;q=0.9", "application/json")]
    [InlineData("application/json;q=0.1, text/csv", "text/csv")]
    [InlineData("text/*", "text/csv")]
    [InlineData("text/html, application/vnd.apache.arrow.stream;q=0.5, */*;q=0.1", "application/vnd.apache.arrow.stream")]
    public async Task Accept_HonoursQValues(string? accept, string served)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/prices/daily?symbol=AAPL&limit=2");
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        using var response = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(served, response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("/prices/daily?symbol=AAPL", "image/png",
        "none of the types in Accept: image/png is served by /prices/daily: ask for application/json, text/csv, application/vnd.apache.arrow.stream (or */*)")]
    [InlineData("/prices/daily?symbol=AAPL", "application/json;q=0",
        "none of the types in Accept: application/json;q=0 is served by /prices/daily: ask for application/json, text/csv, application/vnd.apache.arrow.stream (or */*)")]
    [InlineData("/prices/arrow?symbols=AAPL", "application/json",
        "none of the types in Accept: application/json is served by /prices/arrow: ask for application/vnd.apache.arrow.stream (or */*)")]
    public async Task Accept_NothingServed_Is406ProblemJson(string url, string accept, string detail)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("Accept", accept);

        using var response = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotAcceptable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(detail, doc.RootElement.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task OpenApi_ListsTheQueryParameters()
    {
        using var doc = JsonDocument.Parse(await _http.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative)));

        var daily = doc.RootElement.GetProperty("paths").GetProperty("/prices/daily").GetProperty("get").GetProperty("parameters");
        Assert.Equal(["symbol", "symbols", "limit", "date_from", "date_to", "columns", "layer", "table", "version", "as_of", "snapshot", "diff_from_version"],
            daily.EnumerateArray().Select(p => p.GetProperty("name").GetString()));
    }
}
