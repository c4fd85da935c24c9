using System.Globalization;
using Lakehouse.Flight.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Lakehouse.Flight.Server.Http;

/// <summary>
/// The one parameter binder of the HTTP API. Minimal-API binding of <c>int?</c> answers a 400 with an empty
/// body for <c>limit=abc</c>, and binds a repeated <c>symbol=</c> to one comma-joined string; here every
/// endpoint reads its query string through the same typed getters, so every rejection is a
/// <see cref="LakehouseException"/> (problem+json through <see cref="HttpErrorFilter"/>) naming the parameter:
/// an unknown parameter (a typo such as <c>date_form</c> is refused, not ignored), a repeated single-valued
/// one, a number out of range.
/// </summary>
internal sealed class HttpQuery
{
    private readonly IQueryCollection _query;
    private readonly string _endpoint;

    private HttpQuery(IQueryCollection query, string endpoint)
    {
        _query = query;
        _endpoint = endpoint;
    }

    /// <summary>
    /// The query string of <paramref name="http"/>, refused if it names a parameter outside <paramref name="allowed"/>,
    /// or if the request has a body: no endpoint of this API reads one, and a JSON body silently ignored would run
    /// a job with other parameters than its sender meant.
    /// </summary>
    public static HttpQuery Of(HttpContext http, params string[] allowed)
    {
        var endpoint = http.Request.Path.Value ?? "";
        if (http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature>() is { CanHaveBody: true })
        {
            var type = string.IsNullOrEmpty(http.Request.ContentType) ? "" : $" ({http.Request.ContentType.Split(';')[0]})";
            throw LakehouseException.Invalid(
                $"{http.Request.Method} {endpoint} takes no body{type}: its parameters go in the query string, e.g. "
                + "POST /prices/jobs/daily/range?symbol=AAPL&date_from=2024-01-01&date_to=2024-01-31");
        }
        foreach (var key in http.Request.Query.Keys)
        {
            if (!allowed.Contains(key, StringComparer.Ordinal))
            {
                throw LakehouseException.Invalid(
                    $"unknown query parameter '{key}' for {endpoint}: use {string.Join(", ", allowed)} (names are lower-case)");
            }
        }
        return new HttpQuery(http.Request.Query, endpoint);
    }

    /// <summary>A single-valued parameter; null when absent or empty.</summary>
    public string? Text(string name)
    {
        var values = _query[name];
        if (values.Count > 1)
        {
            throw LakehouseException.Invalid($"query parameter '{name}' is given {values.Count} times: give it once");
        }
        return string.IsNullOrWhiteSpace(values.ToString()) ? null : values.ToString().Trim();
    }

    /// <summary>A list parameter: comma-separated, repeatable, from any of <paramref name="names"/> (<c>symbol=A,B&amp;symbol=C&amp;symbols=D</c>).</summary>
    public IReadOnlyList<string> List(params string[] names) =>
        names.SelectMany(n => _query[n]).Select(v => v ?? "").ToArray();

    /// <summary>The symbols of <c>symbol</c> and <c>symbols</c>, normalised (upper-case, sorted, distinct).</summary>
    public IReadOnlyList<string> Symbols() => Core.Symbols.NormalizeAll(List("symbol", "symbols"));

    /// <summary>The columns of <c>columns=a,b</c>.</summary>
    public IReadOnlyList<string> Columns() =>
        List("columns").SelectMany(c => c.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();

    /// <summary>A whole number in [<paramref name="min"/>, <paramref name="max"/>], or <paramref name="fallback"/> when absent.</summary>
    public int Int(string name, int fallback, int min, int max)
    {
        if (Text(name) is not { } text)
        {
            return fallback;
        }
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw LakehouseException.Invalid(
                $"query parameter '{name}' must be a whole number between {min} and {max.ToString("N0", CultureInfo.InvariantCulture)} (got '{Shorten(text)}')");
        }
        return value;
    }

    /// <summary>A required parameter.</summary>
    public string Required(string name, string example) =>
        Text(name) ?? throw LakehouseException.Invalid($"query parameter '{name}' is required, e.g. {_endpoint}?{example}");

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "...";
}

/// <summary>
/// <c>Accept</c> negotiation for endpoints that serve several formats: q-values honoured
/// (<c>text/csv;q=0.1, application/json;q=0.9</c> is JSON), <c>*/*</c> and <c>type/*</c> ranges, q=0 excludes;
/// no header is the first offered type; nothing acceptable is 406 problem+json naming what is served.
/// </summary>
internal static class HttpAccept
{
    public static string Choose(HttpRequest request, params string[] offered)
    {
        var header = request.Headers.Accept;
        if (header.Count == 0 || string.IsNullOrWhiteSpace(header.ToString()))
        {
            return offered[0];
        }
        if (!MediaTypeHeaderValue.TryParseList(header, out var ranges) || ranges.Count == 0)
        {
            throw LakehouseException.Invalid($"the Accept header '{header}' is not a list of media types, e.g. 'application/json' or 'text/csv'");
        }
        string? best = null;
        double bestQ = 0;
        var bestSpecificity = -1;
        foreach (var type in offered)
        {
            var parsed = MediaTypeHeaderValue.Parse(type);
            // The most specific range that matches a type decides its q (RFC 9110 12.5.1).
            var match = ranges.Where(r => parsed.IsSubsetOf(r)).OrderByDescending(Specificity).FirstOrDefault();
            if (match is null)
            {
                continue;
            }
            var q = match.Quality ?? 1.0;
            var specificity = Specificity(match);
            // Highest q wins; on a tie, an explicitly named type beats a wildcard, then the server's order.
            if (q > 0 && (q > bestQ || (q == bestQ && specificity > bestSpecificity)))
            {
                (best, bestQ, bestSpecificity) = (type, q, specificity);
            }
        }
        return best ?? throw new HttpProblemException(StatusCodes.Status406NotAcceptable,
            $"none of the types in Accept: {header} is served by {request.Path}: ask for {string.Join(", ", offered)} (or */*)");
    }

    private static int Specificity(MediaTypeHeaderValue range) =>
        range.MatchesAllTypes ? 0 : range.MatchesAllSubTypes ? 1 : 2 + range.Parameters.Count(p => !p.Name.Equals("q", StringComparison.OrdinalIgnoreCase));
}

/// <summary>A refusal with an HTTP status that no <see cref="LakehouseErrorKind"/> names (406); problem+json through <see cref="HttpErrorFilter"/>.</summary>
internal sealed class HttpProblemException(int status, string detail) : Exception(detail)
{
    public int Status { get; } = status;
}
