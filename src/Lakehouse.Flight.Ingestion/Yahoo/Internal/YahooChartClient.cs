using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;

namespace Lakehouse.Flight.Ingestion.Yahoo.Internal;

/// <summary>One HTTP answer, read whole: chart bodies are small and the parser wants the bytes.</summary>
internal sealed record YahooResponse(HttpStatusCode Status, string? ReasonPhrase, byte[] Body, int Retries);

/// <summary>
/// The typed HTTP client of the chart API. Retries, timeouts, the circuit breaker and the rate limit
/// live in the client's resilience handler (<see cref="YahooResilience"/>); this class adds the
/// cookie + crumb handshake Yahoo demands when it answers 401.
/// </summary>
internal sealed class YahooChartClient
{
    public const string HttpClientName = "Lakehouse.Flight.Yahoo";

    /// <summary>Only daily bars: the silver table has one row per (symbol, date).</summary>
    public const string Interval = "1d";

    private readonly HttpClient _http;
    private readonly YahooSession _session;
    private readonly YahooOptions _options;
    private readonly ILogger _logger;

    public YahooChartClient(HttpClient http, YahooSession session, IOptions<YahooOptions> options, ILogger<YahooChartClient> logger)
    {
        _http = http;
        _session = session;
        _options = options.Value;
        _logger = logger;
    }

    public async Task<YahooResponse> GetChartAsync(string symbol, DateOnly from, DateOnly to, CancellationToken cancellationToken = default)
    {
        var credentials = _session.Current;
        var response = await SendChartAsync(symbol, from, to, credentials, cancellationToken).ConfigureAwait(false);
        if (response.Status != HttpStatusCode.Unauthorized)
        {
            return response;
        }
        credentials = await _session.RefreshAsync(credentials, HandshakeAsync, cancellationToken).ConfigureAwait(false);
        return await SendChartAsync(symbol, from, to, credentials, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>period1 is the first day at 00:00 UTC, period2 the day after the last (Yahoo's end is exclusive).</summary>
    public static string ChartPathAndQuery(string symbol, DateOnly from, DateOnly to, string? crumb)
    {
        var period1 = UnixSeconds(from);
        var period2 = UnixSeconds(to.AddDays(1));
        var query = string.Create(CultureInfo.InvariantCulture,
            $"/v8/finance/chart/{Uri.EscapeDataString(symbol)}?period1={period1}&period2={period2}&interval={Interval}&events=div,splits,capitalGains");
        return crumb is null ? query : query + "&crumb=" + Uri.EscapeDataString(crumb);
    }

    private async Task<YahooResponse> SendChartAsync(string symbol, DateOnly from, DateOnly to, YahooCredentials? credentials, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, _options.BaseUrl.TrimEnd('/') + ChartPathAndQuery(symbol, from, to, credentials?.Crumb));
        if (credentials is not null)
        {
            request.Headers.TryAddWithoutValidation("Cookie", credentials.Cookie);
        }
        // Our own context so the retry strategy can count retries where this method reads them back.
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        try
        {
            request.SetResilienceContext(context);
            using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            return new YahooResponse(response.StatusCode, response.ReasonPhrase, body, context.Properties.GetValue(YahooResilience.RetriesKey, 0));
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not YahooHandshakeException)
        {
            throw new YahooRequestException(context.Properties.GetValue(YahooResilience.RetriesKey, 0), ex);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>
    /// Yahoo's consent dance: the cookie host answers (usually 404) with a <c>Set-Cookie</c>; with that
    /// cookie <c>/v1/test/getcrumb</c> returns the crumb as plain text; chart requests then carry both.
    /// </summary>
    private async Task<YahooCredentials> HandshakeAsync(CancellationToken cancellationToken)
    {
        YahooLog.Handshake(_logger, _options.CookieUrl);
        string cookie;
        using (var cookieResponse = await _http.GetAsync(_options.CookieUrl, cancellationToken).ConfigureAwait(false))
        {
            var pairs = cookieResponse.Headers.TryGetValues("Set-Cookie", out var values)
                ? values.Select(v => v.Split(';', 2)[0].Trim()).Where(v => v.Contains('=', StringComparison.Ordinal)).ToArray()
                : [];
            if (pairs.Length == 0)
            {
                throw new YahooHandshakeException(
                    $"yahoo answered 401 and the cookie endpoint {_options.CookieUrl} set no cookie (it answered {(int)cookieResponse.StatusCode}); check {YahooOptions.SectionName}:CookieUrl");
            }
            cookie = string.Join("; ", pairs);
        }
        using var crumbRequest = new HttpRequestMessage(HttpMethod.Get, _options.BaseUrl.TrimEnd('/') + "/v1/test/getcrumb");
        crumbRequest.Headers.TryAddWithoutValidation("Cookie", cookie);
        using var crumbResponse = await _http.SendAsync(crumbRequest, cancellationToken).ConfigureAwait(false);
        var crumb = (await crumbResponse.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)).Trim();
        if (!crumbResponse.IsSuccessStatusCode || crumb.Length is 0 or > 64 || crumb.Contains('<', StringComparison.Ordinal) || crumb.Contains(' ', StringComparison.Ordinal))
        {
            throw new YahooHandshakeException(
                $"yahoo answered 401 and refused a crumb ({(int)crumbResponse.StatusCode} {crumbResponse.ReasonPhrase} from /v1/test/getcrumb); Yahoo may be blocking this address, try later");
        }
        return new YahooCredentials(cookie, crumb);
    }

    private static long UnixSeconds(DateOnly date) =>
        new DateTimeOffset(date.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).ToUnixTimeSeconds();
}

/// <summary>A chart request that ended in an exception (timeout, connection, open circuit) after <see cref="Retries"/> retries.</summary>
internal sealed class YahooRequestException(int retries, Exception inner) : Exception(inner.Message, inner)
{
    public int Retries { get; } = retries;
}

/// <summary>The cookie + crumb handshake failed; the message says why.</summary>
internal sealed class YahooHandshakeException(string message) : Exception(message);
