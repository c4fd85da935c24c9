using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Lakehouse.Flight.Ingestion;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>
/// The HTTP request rules (decisions D34): the jobs API reads no body, so a body is refused (400 problem+json)
/// rather than ignored; <c>/health</c> answers liveness to anyone and the lake's counts only to callers
/// with valid credentials when auth is on.
/// </summary>
public sealed class HttpRequestRulesTests
{
    [Theory]
    [InlineData("{\"symbol\":", "application/json")]
    [InlineData("{\"symbol\":\"AAPL\",\"date_from\":\"2024-01-01\",\"date_to\":\"2024-01-31\"}", "application/json")]
    [InlineData("symbol=AAPL", "application/x-www-form-urlencoded")]
    public async Task PostRangeJob_WithABody_Is400ProblemAndQueuesNothing(string body, string mediaType)
    {
        await using var server = await TestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.Server.HttpEndpoint, Timeout = TestTimeouts.Default };

        using var response = await http.PostAsync(new Uri("/prices/jobs/daily/range?symbol=AAPL&date_from=2024-01-01&date_to=2024-01-31", UriKind.Relative),
            new StringContent(body, Encoding.UTF8, mediaType)).DefaultTimeout();
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("takes no body", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("[]", await http.GetStringAsync(new Uri("/prices/jobs", UriKind.Relative)).DefaultTimeout());
    }

    [Fact]
    public async Task DeleteJob_WithABody_Is400Problem()
    {
        await using var server = await TestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.Server.HttpEndpoint, Timeout = TestTimeouts.Default };

        using var request = new HttpRequestMessage(HttpMethod.Delete, "/prices/jobs/20990101000000000-deadbeef") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(request).DefaultTimeout();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("takes no body", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_AuthOn_AnswersLivenessToAnyoneAndCountsOnlyWithValidCredentials()
    {
        await using var server = await TestServer.StartAsync(TestServer.WithAuth);
        using (var writer = server.Client(TestServer.WriterToken))
        {
            await writer.UploadAsync(SyntheticBars.Generate(["AAPL"], new DateOnly(2024, 1, 1), new DateOnly(2024, 2, 29)), "vendor_x", promote: true)
                .DefaultTimeout();
        }
        using var http = new HttpClient { BaseAddress = server.Server.HttpEndpoint, Timeout = TestTimeouts.Default };

        var anonymous = await HealthAsync(http, null);
        var wrong = await HealthAsync(http, "wrong-token");
        var reader = await HealthAsync(http, TestServer.ReaderToken);

        foreach (var h in new[] { anonymous, wrong })
        {
            Assert.Equal("ok", h.GetProperty("status").GetString());
            Assert.Equal("ok", h.GetProperty("state").GetString());
            Assert.False(h.TryGetProperty("files", out _), h.ToString());
            Assert.False(h.TryGetProperty("version", out _), h.ToString());
            Assert.False(h.TryGetProperty("datasets", out _), h.ToString());
        }
        Assert.Equal("ok", reader.GetProperty("status").GetString());
        // One 2024 file in silver, bronze and each gold table.
        Assert.Equal(4, reader.GetProperty("files").GetInt64());
        Assert.True(reader.GetProperty("version").GetInt64() >= 2);
        var silver = reader.GetProperty("datasets").EnumerateArray().Single(d => d.GetProperty("layer").GetString() == "silver" && d.GetProperty("table").GetString() == "prices_daily");
        Assert.Equal(1, silver.GetProperty("symbols").GetInt32());
    }

    private static async Task<JsonElement> HealthAsync(HttpClient http, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/health");
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        using var response = await http.SendAsync(request).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }
}
