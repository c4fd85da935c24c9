using System.Net;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion.Yahoo;
using Lakehouse.Flight.Ingestion.Yahoo.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Ingestion.Tests.Yahoo;

/// <summary>Retries, timeouts, the crumb handshake and options, against a listener that misbehaves on purpose.</summary>
public sealed class YahooResilienceTests
{
    private const string AaplFile = "chart-AAPL-2020-08-31-to-2020-11-07.json";
    private static readonly DateOnly From = new(2020, 8, 31);
    private static readonly DateOnly To = new(2020, 11, 6);

    [Theory]
    [InlineData("0")]
    [InlineData("1")]
    public async Task FetchAsync_429WithRetryAfterThen200_SucceedsAfterTheAskedWait(string retryAfter)
    {
        var fixture = YahooFixture.Load(AaplFile);
        await using var server = await YahooTestServer.StartAsync((_, attempt, context) =>
        {
            if (attempt == 1)
            {
                context.Response.Headers.RetryAfter = retryAfter;
                return YahooTestServer.Reply(context, StatusCodes.Status429TooManyRequests, "Too Many Requests", "text/plain");
            }
            return YahooTestServer.Reply(context, StatusCodes.Status200OK, fixture.BodyJson);
        });

        var asked = TimeSpan.FromSeconds(int.Parse(retryAfter, System.Globalization.CultureInfo.InvariantCulture));
        var retries = new RetryLog();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(retries));
        // A base delay far from either answer: the wait the client logs is Retry-After's, not the backoff's.
        using var source = YahooPriceSource.Create(server.Options(o => o.RetryBaseDelay = TimeSpan.FromSeconds(20)), loggers);

        var result = await source.FetchAsync(new SourceRequest(["AAPL"], From, To)).SingleAsync();

        Assert.Null(result.Error);
        Assert.Equal(fixture.Timestamps.Length, result.Bars.Count);
        Assert.Equal(2, server.Attempts("AAPL"));
        Assert.Equal([asked], retries.Delays);
        var arrivals = server.ChartArrivals["AAPL"].ToArray();
        Assert.True(arrivals[1] - arrivals[0] >= asked - TimeSpan.FromMilliseconds(100), $"retried after {arrivals[1] - arrivals[0]}");
    }

    [Fact]
    public async Task FetchAsync_500ThreeTimesBesideAGoodSymbol_BadFailsWithStatusGoodSucceeds()
    {
        var fixture = YahooFixture.Load(AaplFile);
        await using var server = await YahooTestServer.StartAsync((symbol, _, context) => symbol == "BAD"
            ? YahooTestServer.Reply(context, StatusCodes.Status500InternalServerError, "oops", "text/plain")
            : YahooTestServer.Reply(context, StatusCodes.Status200OK, fixture.BodyJson));

        var results = await server.FetchAsync(["BAD", "AAPL"], From, To, o => o.MaxRetries = 2);

        Assert.Equal(3, server.Attempts("BAD"));
        Assert.StartsWith("yahoo answered 500 Internal Server Error for BAD after 2 retries", results["BAD"].Error, StringComparison.Ordinal);
        Assert.Empty(results["BAD"].Bars);
        Assert.Null(results["AAPL"].Error);
        Assert.Equal(fixture.Timestamps.Length, results["AAPL"].Bars.Count);
    }

    [Fact]
    public async Task FetchAsync_ServerHangs_FailsWithTimeoutErrorQuickly()
    {
        await using var server = await YahooTestServer.StartAsync(async (_, _, context) =>
        {
            try
            {
                // Never answers: only the client's attempt timeout ends the request.
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
            }
        });

        var result = (await server.FetchAsync(["SLOW"], From, To, o =>
        {
            o.MaxRetries = 1;
            // Long enough for a cold process on a loaded machine to get each request to the server before the
            // attempt times out (so the listener counts the retry).
            o.AttemptTimeout = TimeSpan.FromSeconds(1);
            o.TotalTimeout = TimeSpan.FromSeconds(4);
        }))["SLOW"];

        Assert.StartsWith("yahoo did not answer for SLOW in time", result.Error, StringComparison.Ordinal);
        Assert.Contains("AttemptTimeout", result.Error, StringComparison.Ordinal);
        Assert.Equal(2, server.Attempts("SLOW"));
    }

    [Fact]
    public async Task FetchAsync_401_CookieAndCrumbHandshakeThenSuccess()
    {
        var fixture = YahooFixture.Load(AaplFile);
        await using var server = await YahooTestServer.StartAsync((_, _, context) =>
            context.Request.Query["crumb"] == YahooTestServer.Crumb && YahooTestServer.HasCookie(context)
                ? YahooTestServer.Reply(context, StatusCodes.Status200OK, fixture.BodyJson)
                : YahooTestServer.Reply(context, StatusCodes.Status401Unauthorized,
                    """{"finance":{"result":null,"error":{"code":"Unauthorized","description":"Invalid Crumb"}}}"""));

        var results = await server.FetchAsync(["AAPL", "MSFT"], From, To, o => o.MaxConcurrency = 1);

        Assert.Null(results["AAPL"].Error);
        Assert.Equal(fixture.Timestamps.Length, results["AAPL"].Bars.Count);
        var requests = server.Requests.ToArray();
        Assert.Equal("/cookie", requests[1]);
        Assert.Equal("/v1/test/getcrumb", requests[2]);
        Assert.EndsWith("&crumb=" + Uri.EscapeDataString(YahooTestServer.Crumb), requests[3], StringComparison.Ordinal);
        // The second symbol reuses the crumb: one handshake for the whole source.
        Assert.Single(requests, r => r == "/cookie");
        Assert.Null(results["MSFT"].Error);
    }

    [Fact]
    public void RetryAfter_HttpDateAndSeconds_BothHonouredAndCapped()
    {
        var time = TimeProvider.System;
        using var seconds = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        seconds.Headers.RetryAfter = new(TimeSpan.FromSeconds(7));
        using var date = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        date.Headers.RetryAfter = new(time.GetUtcNow().AddSeconds(20));
        using var none = new HttpResponseMessage(HttpStatusCode.InternalServerError);

        Assert.Equal(TimeSpan.FromSeconds(7), YahooResilience.RetryAfter(seconds, time, TimeSpan.FromMinutes(1)));
        Assert.InRange(YahooResilience.RetryAfter(date, time, TimeSpan.FromMinutes(1))!.Value, TimeSpan.FromSeconds(17), TimeSpan.FromSeconds(20));
        Assert.Equal(TimeSpan.FromSeconds(5), YahooResilience.RetryAfter(date, time, TimeSpan.FromSeconds(5)));
        Assert.Null(YahooResilience.RetryAfter(none, time, TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public void Create_InvalidOptions_MessageNamesTheSetting()
    {
        var ex = Assert.Throws<LakehouseException>(() => YahooPriceSource.Create(new YahooOptions { RequestsPerSecond = 0, MaxConcurrency = 0 }));

        Assert.Contains("Lakehouse:Yahoo:RequestsPerSecond is 0", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Lakehouse:Yahoo:MaxConcurrency is 0", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddYahooSource_BoundFromConfiguration_ResolvesAsOneOfSeveralSources()
    {
        var fixture = YahooFixture.Load(AaplFile);
        await using var server = await YahooTestServer.StartAsync(new Dictionary<string, YahooFixture> { ["AAPL"] = fixture });
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Lakehouse:Yahoo:BaseUrl"] = server.BaseUrl,
            ["Lakehouse:Yahoo:RequestsPerSecond"] = "50",
            ["Lakehouse:Yahoo:MaxRetries"] = "1",
            ["Lakehouse:Yahoo:AttemptTimeout"] = "00:00:05",
        }).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddSingleton<IPriceSource, SyntheticPriceSource>();
        services.AddYahooSource(configuration.GetSection(YahooOptions.SectionName));
        await using var provider = services.BuildServiceProvider();

        var sources = provider.GetServices<IPriceSource>().ToArray();
        var yahoo = Assert.Single(sources, s => s.Name == "yahoo");
        Assert.Equal(["synthetic", "yahoo"], sources.Select(s => s.Name));
        var options = provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<YahooOptions>>().Value;
        Assert.Equal(50, options.RequestsPerSecond);
        Assert.Equal(TimeSpan.FromSeconds(5), options.AttemptTimeout);
        var results = new List<SourceResult>();
        await foreach (var r in yahoo.FetchAsync(new SourceRequest(["AAPL"], From, To)))
        {
            results.Add(r);
        }
        Assert.Equal(fixture.Timestamps.Length, Assert.Single(results).Bars.Count);
    }
}
