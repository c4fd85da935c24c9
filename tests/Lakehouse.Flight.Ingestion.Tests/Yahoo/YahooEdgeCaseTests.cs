using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Lakehouse.Flight.Ingestion.Tests.Yahoo;

/// <summary>Recorded answers edited into the awkward cases Yahoo produces, and answers that are not charts.</summary>
public sealed class YahooEdgeCaseTests
{
    private const string AaplFile = "chart-AAPL-2020-08-31-to-2020-11-07.json";
    private const string NvdaFile = "historical-via-chart-NVDA-split-2021-02-01-to-2022-01-31.csv.json";

    [Fact]
    public async Task FetchAsync_NullCloseAndNullVolume_BarsRejectedNeverZero()
    {
        var fixture = YahooFixture.Load(AaplFile);
        var quote = fixture.Result["indicators"]!["quote"]![0]!;
        quote["close"]![3] = null;
        quote["volume"]![5] = null;
        await using var server = await YahooTestServer.StartAsync(new Dictionary<string, YahooFixture> { ["AAPL"] = fixture });

        var result = (await server.FetchAsync(["AAPL"], new(2020, 8, 31), new(2020, 11, 6)))["AAPL"];

        Assert.Null(result.Error);
        Assert.Equal(fixture.Timestamps.Length - 2, result.Bars.Count);
        var closeDate = fixture.LocalDate(fixture.Timestamps[3]);
        var volumeDate = fixture.LocalDate(fixture.Timestamps[5]);
        Assert.Equal([$"AAPL {closeDate:yyyy-MM-dd}: close is missing", $"AAPL {volumeDate:yyyy-MM-dd}: volume is missing"], result.Rejected);
        Assert.DoesNotContain(result.Bars, b => b.Date == closeDate || b.Date == volumeDate);
        Assert.DoesNotContain(result.Bars, b => b.Close == 0 || b.Volume == 0);
    }

    [Fact]
    public async Task FetchAsync_DuplicateDate_LastRowKeptAndAscending()
    {
        var fixture = YahooFixture.Load(AaplFile);
        var timestamps = fixture.Result["timestamp"]!.AsArray();
        // Row 1 restamped one hour after row 0: same New York date, a later row.
        timestamps[1] = timestamps[0]!.GetValue<long>() + 3600;
        await using var server = await YahooTestServer.StartAsync(new Dictionary<string, YahooFixture> { ["AAPL"] = fixture });

        var result = (await server.FetchAsync(["AAPL"], new(2020, 8, 31), new(2020, 11, 6)))["AAPL"];

        Assert.Equal(fixture.Timestamps.Length - 1, result.Bars.Count);
        Assert.Equal(new DateOnly(2020, 8, 31), result.Bars[0].Date);
        Assert.Equal(YahooFixture.Round(fixture.Quote("close", 1), 2), result.Bars[0].Close);
        Assert.Contains("AAPL 2020-08-31: duplicate date", Assert.Single(result.Rejected), StringComparison.Ordinal);
        Assert.Equal(result.Bars.Select(b => b.Date).Order(), result.Bars.Select(b => b.Date));
    }

    [Fact]
    public async Task FetchAsync_LastBarOfOpenSession_DroppedAsLive()
    {
        var fixture = YahooFixture.Load(NvdaFile);
        var last = fixture.Timestamps[^1];
        // Yahoo mid-session: the last bar is stamped with the last trade time, inside today's regular period.
        fixture.Meta["regularMarketTime"] = last + 3600;
        var regular = fixture.Meta["currentTradingPeriod"]!["regular"]!;
        regular["start"] = last;
        regular["end"] = last + 23_400;
        await using var server = await YahooTestServer.StartAsync(new Dictionary<string, YahooFixture> { ["NVDA"] = fixture });

        var result = (await server.FetchAsync(["NVDA"], new(2021, 2, 1), new(2022, 1, 31)))["NVDA"];

        Assert.Null(result.Error);
        Assert.Equal(fixture.Timestamps.Length - 1, result.Bars.Count);
        var reason = Assert.Single(result.Rejected);
        Assert.Contains($"NVDA {fixture.LocalDate(last):yyyy-MM-dd}: live bar", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FetchAsync_RecordedMetaAfterTheClose_LastBarKept()
    {
        // Recorded one second after the close: regularMarketTime is past the regular period's end.
        var fixture = YahooFixture.Load(NvdaFile);
        var marketTime = fixture.Meta["regularMarketTime"]!.GetValue<long>();
        Assert.True(marketTime >= fixture.Meta["currentTradingPeriod"]!["regular"]!["end"]!.GetValue<long>());
        await using var server = await YahooTestServer.StartAsync(new Dictionary<string, YahooFixture> { ["NVDA"] = fixture });

        var result = (await server.FetchAsync(["NVDA"], new(2021, 2, 1), new(2022, 1, 31)))["NVDA"];

        Assert.Equal(fixture.LocalDate(fixture.Timestamps[^1]), result.Bars[^1].Date);
        Assert.Empty(result.Rejected);
    }

    [Fact]
    public async Task FetchAsync_ZoneNameDisagreesWithGmtOffset_ZoneNameWins()
    {
        // EURUSD bars are stamped 00:00 UTC; under New York's zone they belong to the previous evening,
        // whatever meta.gmtoffset (0) says.
        var fixture = YahooFixture.Load("chart-EURUSD=X-2020-01-01-to-2020-01-03.json");
        fixture.Meta["exchangeTimezoneName"] = "America/New_York";
        Assert.Equal(0, fixture.Meta["gmtoffset"]!.GetValue<int>());
        await using var server = await YahooTestServer.StartAsync(new Dictionary<string, YahooFixture> { ["EURUSD=X"] = fixture });

        var result = (await server.FetchAsync(["EURUSD=X"], new(2019, 12, 31), new(2020, 1, 3)))["EURUSD=X"];

        Assert.Equal([new DateOnly(2019, 12, 31), new DateOnly(2020, 1, 1), new DateOnly(2020, 1, 2)], result.Bars.Select(b => b.Date));
    }

    [Fact]
    public async Task FetchAsync_UnknownSymbol404_ErrorSaysUnknownOrDelisted()
    {
        await using var server = await YahooTestServer.StartAsync(new Dictionary<string, YahooFixture>());

        var result = (await server.FetchAsync(["NOPE"], new(2020, 1, 1), new(2020, 1, 3)))["NOPE"];

        Assert.StartsWith("unknown or delisted symbol NOPE", result.Error, StringComparison.Ordinal);
        Assert.Equal(1, server.Attempts("NOPE"));
    }

    [Fact]
    public async Task FetchAsync_DelistedDescriptionWith200_ErrorSaysUnknownOrDelisted()
    {
        await using var server = await YahooTestServer.StartAsync((_, _, context) =>
            YahooTestServer.Reply(context, StatusCodes.Status200OK, YahooTestServer.NotFoundBody));

        var result = (await server.FetchAsync(["GONE"], new(2020, 1, 1), new(2020, 1, 3)))["GONE"];

        Assert.StartsWith("unknown or delisted symbol GONE", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FetchAsync_RangeBeforeFirstTrade_EmptySuccess()
    {
        const string body = """{"chart":{"result":null,"error":{"code":"Bad Request","description":"Data doesn't exist for startDate = 946684800, endDate = 946944000"}}}""";
        await using var server = await YahooTestServer.StartAsync((_, _, context) => YahooTestServer.Reply(context, StatusCodes.Status400BadRequest, body));

        var result = (await server.FetchAsync(["SNOW"], new(2000, 1, 1), new(2000, 1, 3)))["SNOW"];

        Assert.Null(result.Error);
        Assert.Empty(result.Bars);
        Assert.Empty(result.Actions);
    }

    [Fact]
    public async Task FetchAsync_HtmlOrTruncatedOrChartlessBody_ClearErrorNamingTheSymbol()
    {
        var aapl = YahooFixture.Load(AaplFile).BodyJson;
        var bodies = new Dictionary<string, string>
        {
            ["HTML"] = "<!doctype html><html><body>Will be right back...</body></html>",
            ["CUT"] = aapl[..(aapl.Length / 2)],
            ["NOCHART"] = """{"finance":{"result":null}}""",
        };
        await using var server = await YahooTestServer.StartAsync((symbol, _, context) => YahooTestServer.Reply(context, StatusCodes.Status200OK, bodies[symbol]));

        var results = await server.FetchAsync([.. bodies.Keys], new(2020, 8, 31), new(2020, 11, 6));

        Assert.Equal(3, results.Count);
        foreach (var (symbol, result) in results)
        {
            Assert.Contains($"yahoo's answer for {symbol} is not a chart response", result.Error, StringComparison.Ordinal);
            Assert.Empty(result.Bars);
        }
        Assert.Contains("'<!doctype html>", results["HTML"].Error, StringComparison.Ordinal);
        Assert.Contains("no 'chart' object", results["NOCHART"].Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FetchAsync_InvalidAndRepeatedSymbols_InvalidFailsAloneRepeatFetchedOnce()
    {
        var fixture = YahooFixture.Load(AaplFile);
        await using var server = await YahooTestServer.StartAsync(new Dictionary<string, YahooFixture> { ["AAPL"] = fixture });

        var results = await server.FetchAsync(["../etc", "AAPL", "aapl"], new(2020, 8, 31), new(2020, 11, 6));

        Assert.Equal(2, results.Count);
        Assert.Contains("contains '/'", results["../etc"].Error, StringComparison.Ordinal);
        Assert.Null(results["AAPL"].Error);
        Assert.Single(server.Requests);
    }

    [Fact]
    public void Parse_FixtureBodyDirectly_SameBarsAsOverHttp()
    {
        var fixture = YahooFixture.Load(AaplFile);
        var bytes = System.Text.Encoding.UTF8.GetBytes(fixture.BodyJson);
        var result = Ingestion.Yahoo.Internal.YahooChartParser.Parse(bytes, "AAPL", new(2020, 8, 31), new(2020, 11, 6), DateTimeOffset.UnixEpoch);

        Assert.Equal(fixture.Timestamps.Length, result.Bars.Count);
        Assert.Equal(YahooFixture.Round(fixture.Quote("low", 10), 2), result.Bars[10].Low);
        Assert.Equal(NonNullCloses(fixture), result.Bars.Count);
    }

    private static int NonNullCloses(YahooFixture fixture) =>
        fixture.Result["indicators"]!["quote"]![0]!["close"]!.AsArray().Count(v => v is JsonValue);
}
