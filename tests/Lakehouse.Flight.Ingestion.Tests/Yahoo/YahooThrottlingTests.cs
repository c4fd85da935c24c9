using Microsoft.AspNetCore.Http;

namespace Lakehouse.Flight.Ingestion.Tests.Yahoo;

/// <summary>The source's politeness: how many symbols at once and how many requests per second.</summary>
public sealed class YahooThrottlingTests
{
    private const string AaplFile = "chart-AAPL-2020-08-31-to-2020-11-07.json";

    [Fact]
    public async Task FetchAsync_SixSymbolsMaxConcurrencyTwo_NeverMoreThanTwoInFlightAllSucceed()
    {
        var fixture = YahooFixture.Load(AaplFile);
        var inFlight = 0;
        var maxInFlight = 0;
        var arrivals = 0;
        var pair = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new object();
        await using var server = await YahooTestServer.StartAsync(async (_, _, context) =>
        {
            var now = Interlocked.Increment(ref inFlight);
            InterlockedMax(ref maxInFlight, now);
            // Each request waits for a partner: the answers leave two by two, so two are certainly in flight at once.
            Task partner;
            lock (gate)
            {
                partner = pair.Task;
                if (++arrivals % 2 == 0)
                {
                    pair.SetResult();
                    pair = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
            }
            await partner.WaitAsync(context.RequestAborted);
            Interlocked.Decrement(ref inFlight);
            await YahooTestServer.Reply(context, StatusCodes.Status200OK, fixture.BodyJson);
        });
        string[] symbols = ["A", "B", "C", "D", "E", "F"];

        var results = await server.FetchAsync(symbols, new(2020, 8, 31), new(2020, 11, 6), o => o.MaxConcurrency = 2);

        Assert.Equal(symbols, results.Keys.Order());
        Assert.All(results.Values, r => Assert.Equal(fixture.Timestamps.Length, r.Bars.Count));
        Assert.Equal(2, maxInFlight);
    }

    [Fact]
    public async Task FetchAsync_TwoRequestsPerSecond_FourSymbolsSpreadOverASecond()
    {
        var fixture = YahooFixture.Load(AaplFile);
        await using var server = await YahooTestServer.StartAsync(new Dictionary<string, YahooFixture>
        {
            ["A"] = fixture, ["B"] = fixture, ["C"] = fixture, ["D"] = fixture,
        });

        var results = await server.FetchAsync(["A", "B", "C", "D"], new(2020, 8, 31), new(2020, 11, 6), o => o.RequestsPerSecond = 2);

        Assert.All(results.Values, r => Assert.Null(r.Error));
        // A bucket of 2 tokens, then one every 500 ms: the 4th request cannot leave before ~1 s.
        var arrivals = server.ChartArrivals.Values.SelectMany(q => q).Order().ToArray();
        Assert.Equal(4, arrivals.Length);
        Assert.True(arrivals[^1] - arrivals[0] >= TimeSpan.FromMilliseconds(900), $"spread {arrivals[^1] - arrivals[0]}");
    }

    [Fact]
    public async Task FetchAsync_YahooFailingEverything_CircuitOpensAndLaterSymbolsAreNotSent()
    {
        await using var server = await YahooTestServer.StartAsync((_, _, context) =>
            YahooTestServer.Reply(context, StatusCodes.Status500InternalServerError, "down", "text/plain"));
        var symbols = Enumerable.Range(0, 25).Select(i => $"S{i:D2}").ToArray();

        var results = await server.FetchAsync(symbols, new(2020, 8, 31), new(2020, 11, 6), o =>
        {
            o.MaxRetries = 0;
            o.MaxConcurrency = 1;
        });

        Assert.Equal(25, results.Count);
        Assert.All(results.Values, r => Assert.NotNull(r.Error));
        // The breaker samples at least 20 requests before it may open.
        var open = results.Values.Where(r => r.Error!.Contains("circuit is open", StringComparison.Ordinal)).ToArray();
        Assert.Equal(5, open.Length);
        Assert.Equal(20, symbols.Sum(server.Attempts));
    }

    [Fact]
    public async Task FetchAsync_CallerStopsAfterFirstResult_HangingRequestsAreCancelled()
    {
        var fixture = YahooFixture.Load(AaplFile);
        var aborted = 0;
        await using var server = await YahooTestServer.StartAsync(async (symbol, _, context) =>
        {
            if (symbol == "FAST")
            {
                await YahooTestServer.Reply(context, StatusCodes.Status200OK, fixture.BodyJson);
                return;
            }
            try
            {
                // Hangs until the client drops the request: the only way this handler ends.
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref aborted);
            }
        });
        using var source = Ingestion.Yahoo.YahooPriceSource.Create(server.Options());

        SourceResult? first = null;
        await foreach (var r in source.FetchAsync(new SourceRequest(["SLOW1", "FAST", "SLOW2"], new(2020, 8, 31), new(2020, 11, 6))))
        {
            first = r;
            break;
        }

        Assert.Equal("FAST", first!.Symbol);
        // The two hanging requests were dropped by the client, not left running (they never end otherwise).
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (Volatile.Read(ref aborted) < 2)
        {
            await Task.Delay(10, timeout.Token);
        }
        Assert.Equal(2, Volatile.Read(ref aborted));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
