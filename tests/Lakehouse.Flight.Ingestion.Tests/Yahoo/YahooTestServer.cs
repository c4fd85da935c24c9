using System.Collections.Concurrent;
using Lakehouse.Flight.Ingestion.Yahoo;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Ingestion.Tests.Yahoo;

/// <summary>
/// A real Kestrel listener on 127.0.0.1:0 standing in for Yahoo: chart requests go to a per-test
/// handler (by symbol and attempt), and it serves the cookie + crumb endpoints of the handshake.
/// </summary>
internal sealed class YahooTestServer : IAsyncDisposable
{
    public const string Cookie = "A3=test-cookie";
    public const string Crumb = "cr/umb.42";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _attempts = new(StringComparer.Ordinal);

    private YahooTestServer(WebApplication app, string baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    public string BaseUrl { get; }

    /// <summary>Every request target (path + query as sent), in arrival order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Chart requests per symbol with the time each arrived.</summary>
    public ConcurrentDictionary<string, ConcurrentQueue<DateTimeOffset>> ChartArrivals { get; } = new(StringComparer.Ordinal);

    public int Attempts(string symbol) => _attempts.GetValueOrDefault(symbol);

    /// <summary>Serves each symbol's fixture body with 200.</summary>
    public static Task<YahooTestServer> StartAsync(IReadOnlyDictionary<string, YahooFixture> fixtures) =>
        StartAsync((symbol, _, context) => fixtures.TryGetValue(symbol, out var f)
            ? Reply(context, StatusCodes.Status200OK, f.BodyJson)
            : Reply(context, StatusCodes.Status404NotFound, NotFoundBody));

    public static async Task<YahooTestServer> StartAsync(Func<string, int, HttpContext, Task> chart)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        YahooTestServer? server = null;
        app.Use(async (context, next) =>
        {
            // The raw target, as sent: escaping of symbols such as EURUSD=X is part of what is tested.
            server!.Requests.Enqueue(context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget);
            await next(context);
        });
        app.MapGet("/v8/finance/chart/{symbol}", (string symbol, HttpContext context) =>
        {
            var attempt = server!._attempts.AddOrUpdate(symbol, 1, (_, n) => n + 1);
            server.ChartArrivals.GetOrAdd(symbol, _ => new()).Enqueue(DateTimeOffset.UtcNow);
            return chart(symbol, attempt, context);
        });
        // Like fc.yahoo.com: a 404 that still sets the consent cookie.
        app.MapGet("/cookie", (HttpContext context) =>
        {
            context.Response.Headers.Append("Set-Cookie", Cookie + "; Expires=Wed, 01 Dec 2027 00:00:00 GMT; Path=/; Domain=127.0.0.1; Secure");
            return Reply(context, StatusCodes.Status404NotFound, "<html>not found</html>", "text/html");
        });
        app.MapGet("/v1/test/getcrumb", (HttpContext context) =>
            HasCookie(context)
                ? Reply(context, StatusCodes.Status200OK, Crumb, "text/plain")
                : Reply(context, StatusCodes.Status401Unauthorized, "no cookie", "text/plain"));
        await app.StartAsync();
        server = new YahooTestServer(app, app.Urls.First());
        return server;
    }

    public static bool HasCookie(HttpContext context) =>
        context.Request.Headers.Cookie.ToString().Contains(Cookie, StringComparison.Ordinal);

    public static async Task Reply(HttpContext context, int status, string body, string contentType = "application/json")
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        await context.Response.WriteAsync(body);
    }

    /// <summary>Yahoo's body for an unknown symbol (with status 404).</summary>
    public const string NotFoundBody = """{"chart":{"result":null,"error":{"code":"Not Found","description":"No data found, symbol may be delisted"}}}""";

    /// <summary>Options for a source pointed at this server, with delays small enough for tests.</summary>
    public YahooOptions Options(Action<YahooOptions>? configure = null)
    {
        var options = new YahooOptions
        {
            BaseUrl = BaseUrl,
            CookieUrl = BaseUrl + "/cookie",
            RequestsPerSecond = 1000,
            MaxRetries = 2,
            RetryBaseDelay = TimeSpan.FromMilliseconds(10),
            MaxRetryDelay = TimeSpan.FromSeconds(2),
            AttemptTimeout = TimeSpan.FromSeconds(10),
            TotalTimeout = TimeSpan.FromSeconds(30),
        };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>Fetches through a fresh <see cref="YahooPriceSource"/> and returns the results by symbol.</summary>
    public async Task<Dictionary<string, SourceResult>> FetchAsync(IReadOnlyList<string> symbols, DateOnly from, DateOnly to, Action<YahooOptions>? configure = null)
    {
        using var source = YahooPriceSource.Create(Options(configure));
        var results = new Dictionary<string, SourceResult>(StringComparer.Ordinal);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await foreach (var r in source.FetchAsync(new SourceRequest(symbols, from, to), timeout.Token))
        {
            results.Add(r.Symbol, r);
        }
        return results;
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }
}
