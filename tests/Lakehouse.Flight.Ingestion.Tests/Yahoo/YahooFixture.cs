using System.Text.Json.Nodes;

namespace Lakehouse.Flight.Ingestion.Tests.Yahoo;

/// <summary>
/// One recorded chart answer from <c>Fixtures/yahoo</c> (node-yahoo-finance2's recordings, MIT): the
/// <c>body</c> Yahoo returned, plus accessors so tests compare against the recorded values.
/// </summary>
internal sealed class YahooFixture
{
    private YahooFixture(JsonObject body, string url)
    {
        Body = body;
        Url = url;
    }

    /// <summary>Exactly what Yahoo returned; tests may edit it to make a variant.</summary>
    public JsonObject Body { get; }

    /// <summary>The URL the recording was made with.</summary>
    public string Url { get; }

    public string BodyJson => Body.ToJsonString();

    public JsonObject Result => Body["chart"]!["result"]![0]!.AsObject();

    public JsonObject Meta => Result["meta"]!.AsObject();

    public long[] Timestamps => [.. Result["timestamp"]!.AsArray().Select(t => t!.GetValue<long>())];

    public int PriceHint => Meta["priceHint"]!.GetValue<int>();

    public TimeZoneInfo Zone => TimeZoneInfo.FindSystemTimeZoneById(Meta["exchangeTimezoneName"]!.GetValue<string>());

    public static YahooFixture Load(string file)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "yahoo", file);
        var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        return new YahooFixture(root["body"]!.AsObject(), root["url"]!.GetValue<string>());
    }

    /// <summary>A value of <c>indicators.quote[0].{name}</c>; null stays null.</summary>
    public double? Quote(string name, int i) => Result["indicators"]!["quote"]![0]![name]![i]?.GetValue<double>();

    public double? AdjClose(int i) => Result["indicators"]!["adjclose"]![0]!["adjclose"]![i]?.GetValue<double>();

    /// <summary>The exchange-local date of a recorded timestamp (what the source must produce).</summary>
    public DateOnly LocalDate(long unixSeconds) =>
        DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.FromUnixTimeSeconds(unixSeconds), Zone).DateTime);

    /// <summary>A query parameter of the recorded URL.</summary>
    public string UrlParameter(string name) =>
        new Uri(Url).Query.TrimStart('?').Split('&').Select(p => p.Split('=', 2)).Single(p => p[0] == name)[1];

    public static double Round(double? value, int digits) => Math.Round(value!.Value, digits);
}
