using System.Globalization;
using System.Text.Json;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Ingestion.Yahoo.Internal;

/// <summary>
/// Turns one v8 chart response into a <see cref="SourceResult"/>.
/// </summary>
/// <remarks>
/// <see cref="JsonDocument"/> rather than DTOs or a hand-written <see cref="Utf8JsonReader"/>: the shape
/// is loose (events keyed by timestamp strings, <c>null</c> inside number arrays, arrays that may be
/// absent or of different lengths, <c>meta</c> needed before the arrays make sense), a response is at
/// most a few hundred KB, and the document's pooled buffers keep the cost near a reader's (see
/// <c>YahooParseBenchmarks</c>) while every field lookup stays a readable one-liner.
/// </remarks>
internal static class YahooChartParser
{
    /// <summary>Decimals kept when a response carries no <c>meta.priceHint</c>: float32 noise sits below this.</summary>
    private const int FallbackPriceHint = 4;

    public static SourceResult Parse(ReadOnlyMemory<byte> utf8Json, string symbol, DateOnly from, DateOnly to, DateTimeOffset ingestedAt)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8Json);
        }
        catch (JsonException ex)
        {
            return NotAChart(symbol, $"the body is not valid JSON ({ex.Message}{Snippet(utf8Json.Span)})");
        }
        using (document)
        {
            return Parse(document.RootElement, symbol, from, to, ingestedAt);
        }
    }

    /// <summary>The <c>chart.error.description</c> of an error body, if it has one (404/400 answers carry it).</summary>
    public static string? ErrorDescription(ReadOnlyMemory<byte> utf8Json)
    {
        try
        {
            using var document = JsonDocument.Parse(utf8Json);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("chart", out var chart)
                && chart.ValueKind == JsonValueKind.Object
                && chart.TryGetProperty("error", out var error)
                && error.ValueKind == JsonValueKind.Object
                ? String(error, "description") ?? String(error, "code")
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static bool IsUnknownSymbol(string description) =>
        description.Contains("No data found", StringComparison.OrdinalIgnoreCase)
        || description.Contains("symbol may be delisted", StringComparison.OrdinalIgnoreCase);

    /// <summary>Yahoo's answer for a range before the symbol's first trade: no bars, not a failure.</summary>
    public static bool IsNoDataInRange(string description) =>
        description.Contains("Data doesn't exist for startDate", StringComparison.OrdinalIgnoreCase);

    public static string UnknownSymbol(string symbol) =>
        $"unknown or delisted symbol {symbol}: Yahoo has no chart for it; check the ticker (Yahoo spells some with a suffix, e.g. WSU.DE, EURUSD=X)";

    private static SourceResult Parse(JsonElement root, string symbol, DateOnly from, DateOnly to, DateTimeOffset ingestedAt)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("chart", out var chart) || chart.ValueKind != JsonValueKind.Object)
        {
            return NotAChart(symbol, "the body has no 'chart' object");
        }
        if (chart.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
        {
            var description = String(error, "description") ?? String(error, "code") ?? "no description";
            if (IsUnknownSymbol(description))
            {
                return SourceResult.Failed(symbol, UnknownSymbol(symbol));
            }
            return IsNoDataInRange(description)
                ? Empty(symbol, [])
                : SourceResult.Failed(symbol, $"yahoo refused the chart of {symbol}: {description}");
        }
        if (!chart.TryGetProperty("result", out var results) || results.ValueKind != JsonValueKind.Array || results.GetArrayLength() == 0
            || results[0].ValueKind != JsonValueKind.Object)
        {
            return NotAChart(symbol, "'chart.result' is missing or empty");
        }
        var result = results[0];
        if (!result.TryGetProperty("meta", out var meta) || meta.ValueKind != JsonValueKind.Object)
        {
            return NotAChart(symbol, "'chart.result[0].meta' is missing");
        }
        var granularity = String(meta, "dataGranularity");
        if (granularity != "1d")
        {
            return SourceResult.Failed(symbol,
                $"yahoo answered {symbol} with '{granularity ?? "unknown"}' bars, not daily (1d) ones; only daily bars are stored, so the answer was refused");
        }
        var zoneId = String(meta, "exchangeTimezoneName");
        TimeZoneInfo zone;
        try
        {
            zone = TimeZoneInfo.FindSystemTimeZoneById(zoneId ?? throw new TimeZoneNotFoundException("meta.exchangeTimezoneName is missing"));
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return SourceResult.Failed(symbol,
                $"cannot date the bars of {symbol}: exchange time zone '{zoneId}' is unknown on this machine ({ex.Message}); install the tzdata package");
        }
        var digits = Math.Clamp(Int64(meta, "priceHint") is { } hint ? (int)hint : FallbackPriceHint, 0, 15);

        var rejected = new List<string>();
        var actions = ParseActions(result, symbol, from, to, zone, ingestedAt);
        if (!result.TryGetProperty("timestamp", out var timestamps) || timestamps.ValueKind != JsonValueKind.Array)
        {
            // Yahoo leaves 'timestamp' out when the range holds no session; any quote values then have no date.
            var orphans = QuoteLength(result);
            if (orphans > 0)
            {
                rejected.Add($"{symbol}: the response has {orphans} quote row(s) but no timestamp array; rows without a date were dropped");
            }
            return new SourceResult(symbol, [], actions, rejected);
        }

        var quote = First(result, "indicators", "quote");
        var open = Numbers(quote, "open");
        var high = Numbers(quote, "high");
        var low = Numbers(quote, "low");
        var close = Numbers(quote, "close");
        var volume = Numbers(quote, "volume");
        var adjClose = Numbers(First(result, "indicators", "adjclose"), "adjclose");
        var live = LiveSessionDate(meta, zone);

        var bars = new List<PriceBar>(timestamps.GetArrayLength());
        var ordered = true;
        var missing = new List<string>(5);
        var i = -1;
        foreach (var t in timestamps.EnumerateArray())
        {
            i++;
            if (t.ValueKind != JsonValueKind.Number || !t.TryGetInt64(out var seconds))
            {
                rejected.Add($"{symbol} row {i}: timestamp '{t}' is not a number");
                continue;
            }
            var date = LocalDate(seconds, zone);
            if (date > to)
            {
                rejected.Add($"{Label(symbol, date)}: after the requested end {to:yyyy-MM-dd}");
                continue;
            }
            if (date < from)
            {
                rejected.Add($"{Label(symbol, date)}: before the requested start {from:yyyy-MM-dd}");
                continue;
            }
            if (live == date)
            {
                rejected.Add($"{Label(symbol, date)}: live bar of a session still open; fetch it again after the close");
                continue;
            }
            missing.Clear();
            var o = At(open, i, "open", missing);
            var h = At(high, i, "high", missing);
            var l = At(low, i, "low", missing);
            var c = At(close, i, "close", missing);
            var v = At(volume, i, "volume", missing);
            if (missing.Count > 0)
            {
                rejected.Add($"{Label(symbol, date)}: {string.Join(", ", missing)} {(missing.Count == 1 ? "is" : "are")} missing");
                continue;
            }
            var a = i < adjClose.Length && !double.IsNaN(adjClose[i]) ? Math.Round(adjClose[i], digits) : (double?)null;
            ordered &= bars.Count == 0 || bars[^1].Date < date;
            bars.Add(new PriceBar(symbol, date, Math.Round(o, digits), Math.Round(h, digits), Math.Round(l, digits), Math.Round(c, digits),
                a, (long)Math.Round(v), YahooPriceSource.SourceName, ingestedAt));
        }
        if (!ordered)
        {
            bars = Deduplicate(bars, rejected);
        }
        return new SourceResult(symbol, bars, actions, rejected);
    }

    /// <summary>
    /// The exchange-local date of the session still trading, or null when none is. Yahoo stamps the live
    /// daily bar with the last trade time (<c>meta.regularMarketTime</c>) while
    /// <c>currentTradingPeriod.regular</c> spans it; once the session closes the same bar is final.
    /// </summary>
    private static DateOnly? LiveSessionDate(JsonElement meta, TimeZoneInfo zone)
    {
        if (Int64(meta, "regularMarketTime") is not { } marketTime
            || !meta.TryGetProperty("currentTradingPeriod", out var period) || period.ValueKind != JsonValueKind.Object
            || !period.TryGetProperty("regular", out var regular) || regular.ValueKind != JsonValueKind.Object
            || Int64(regular, "start") is not { } start || Int64(regular, "end") is not { } end)
        {
            return null;
        }
        return start <= marketTime && marketTime < end ? LocalDate(marketTime, zone) : null;
    }

    /// <summary>The slow path for answers not strictly ascending: one bar per date, the later row wins.</summary>
    private static List<PriceBar> Deduplicate(List<PriceBar> bars, List<string> rejected)
    {
        var byDate = new SortedDictionary<DateOnly, PriceBar>();
        foreach (var bar in bars)
        {
            if (byDate.ContainsKey(bar.Date))
            {
                rejected.Add($"{Label(bar.Symbol, bar.Date)}: duplicate date; the later row was kept");
            }
            byDate[bar.Date] = bar;
        }
        return [.. byDate.Values];
    }

    private static string Label(string symbol, DateOnly date) => $"{symbol} {date:yyyy-MM-dd}";

    private static List<CorporateAction> ParseActions(JsonElement result, string symbol, DateOnly from, DateOnly to, TimeZoneInfo zone, DateTimeOffset ingestedAt)
    {
        var actions = new List<CorporateAction>();
        if (!result.TryGetProperty("events", out var events) || events.ValueKind != JsonValueKind.Object)
        {
            return actions;
        }
        foreach (var (name, type) in EventKinds)
        {
            if (!events.TryGetProperty(name, out var group) || group.ValueKind != JsonValueKind.Object)
            {
                continue;
            }
            foreach (var entry in group.EnumerateObject())
            {
                var e = entry.Value;
                if (e.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }
                // 'date' is the event's own field; the key is the same timestamp as a string.
                var seconds = Int64(e, "date") ?? (long.TryParse(entry.Name, NumberStyles.Integer, CultureInfo.InvariantCulture, out var k) ? k : (long?)null);
                if (seconds is not { } s)
                {
                    continue;
                }
                var date = LocalDate(s, zone);
                if (date < from || date > to)
                {
                    continue;
                }
                actions.Add(type == CorporateActionTypes.Split
                    ? new CorporateAction(symbol, date, type, null, Double(e, "numerator"), Double(e, "denominator"), YahooPriceSource.SourceName, ingestedAt)
                    : new CorporateAction(symbol, date, type, Double(e, "amount"), null, null, YahooPriceSource.SourceName, ingestedAt));
            }
        }
        actions.Sort(static (x, y) => x.Date != y.Date ? x.Date.CompareTo(y.Date) : string.CompareOrdinal(x.Type, y.Type));
        return actions;
    }

    private static readonly (string Name, string Type)[] EventKinds =
    [
        ("dividends", CorporateActionTypes.Dividend),
        ("splits", CorporateActionTypes.Split),
        ("capitalGains", CorporateActionTypes.CapitalGain),
    ];

    private static DateOnly LocalDate(long unixSeconds, TimeZoneInfo zone) =>
        DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.FromUnixTimeSeconds(unixSeconds), zone).DateTime);

    private static double At(double[] values, int i, string name, List<string> missing)
    {
        if (i < values.Length && !double.IsNaN(values[i]))
        {
            return values[i];
        }
        missing.Add(name);
        return double.NaN;
    }

    /// <summary>A number array with <c>null</c> (a missing value, never 0) as NaN; empty when absent.</summary>
    private static double[] Numbers(JsonElement? parent, string name)
    {
        if (parent is not { ValueKind: JsonValueKind.Object } p || !p.TryGetProperty(name, out var array) || array.ValueKind != JsonValueKind.Array)
        {
            return [];
        }
        var values = new double[array.GetArrayLength()];
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            values[i++] = item.ValueKind == JsonValueKind.Number ? item.GetDouble() : double.NaN;
        }
        return values;
    }

    private static JsonElement? First(JsonElement result, string container, string name) =>
        result.TryGetProperty(container, out var c) && c.ValueKind == JsonValueKind.Object
        && c.TryGetProperty(name, out var list) && list.ValueKind == JsonValueKind.Array && list.GetArrayLength() > 0
            ? list[0]
            : null;

    private static int QuoteLength(JsonElement result)
    {
        var quote = First(result, "indicators", "quote");
        return Math.Max(Math.Max(Numbers(quote, "open").Length, Numbers(quote, "close").Length), Numbers(quote, "volume").Length);
    }

    private static string? String(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static long? Int64(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number
            ? v.TryGetInt64(out var l) ? l : (long)Math.Round(v.GetDouble())
            : null;

    private static double? Double(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    private static SourceResult Empty(string symbol, IReadOnlyList<string> rejected) => new(symbol, [], [], rejected);

    private static SourceResult NotAChart(string symbol, string why) =>
        SourceResult.Failed(symbol, $"yahoo's answer for {symbol} is not a chart response: {why}; Yahoo may have changed its API or a proxy answered instead");

    private static string Snippet(ReadOnlySpan<byte> utf8)
    {
        var text = System.Text.Encoding.UTF8.GetString(utf8[..Math.Min(utf8.Length, 60)]).ReplaceLineEndings(" ").Trim();
        return text.Length == 0 ? "; the body is empty" : $"; it starts with '{text}'";
    }
}
