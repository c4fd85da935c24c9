using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Ingestion.Tests.Yahoo;

/// <summary>Recorded Yahoo answers replayed over HTTP: what the source makes of each.</summary>
public sealed class YahooPriceSourceTests
{
    private const string AaplFile = "chart-AAPL-2020-08-31-to-2020-11-07.json";

    [Fact]
    public async Task FetchAsync_AaplSplitRange_BarsEqualFixtureRoundedToPriceHint()
    {
        var fixture = YahooFixture.Load(AaplFile);
        await using var server = await YahooTestServer.StartAsync(new Dictionary<string, YahooFixture> { ["AAPL"] = fixture });

        var result = (await server.FetchAsync(["AAPL"], new(2020, 8, 31), new(2020, 11, 6)))["AAPL"];

        Assert.Null(result.Error);
        Assert.Empty(result.Rejected);
        var timestamps = fixture.Timestamps;
        Assert.Equal(timestamps.Length, result.Bars.Count);
        Assert.Equal(new DateOnly(2020, 8, 31), result.Bars[0].Date);
        Assert.Equal(new DateOnly(2020, 11, 6), result.Bars[^1].Date);
        var digits = fixture.PriceHint;
        Assert.Equal(2, digits);
        foreach (var i in new[] { 0, 1, 4, 20, timestamps.Length - 1 })
        {
            var bar = result.Bars[i];
            Assert.Equal(fixture.LocalDate(timestamps[i]), bar.Date);
            Assert.Equal(YahooFixture.Round(fixture.Quote("open", i), digits), bar.Open);
            Assert.Equal(YahooFixture.Round(fixture.Quote("high", i), digits), bar.High);
            Assert.Equal(YahooFixture.Round(fixture.Quote("low", i), digits), bar.Low);
            Assert.Equal(YahooFixture.Round(fixture.Quote("close", i), digits), bar.Close);
            Assert.Equal(YahooFixture.Round(fixture.AdjClose(i), digits), bar.AdjClose);
            Assert.Equal((long)fixture.Quote("volume", i)!.Value, bar.Volume);
            Assert.Equal("AAPL", bar.Symbol);
            Assert.Equal("yahoo", bar.Source);
        }
        // float32 noise is gone: 129.0399932861328 in the body is 129.04 here.
        Assert.Equal(129.04, result.Bars[0].Close);
        Assert.All(result.Bars, b => Assert.Equal(TimeSpan.Zero, b.IngestedAt.Offset));
        Assert.Equal(result.Bars.Select(b => b.Date).Order(), result.Bars.Select(b => b.Date));
    }

    [Fact]
    public async Task FetchAsync_AaplSplitRange_RequestsFixturePeriodsDailyIntervalAndEvents()
    {
        var fixture = YahooFixture.Load(AaplFile);
        await using var server = await YahooTestServer.StartAsync(new Dictionary<string, YahooFixture> { ["AAPL"] = fixture });

        await server.FetchAsync(["AAPL"], new(2020, 8, 31), new(2020, 11, 6));

        var request = Assert.Single(server.Requests);
        Assert.StartsWith("/v8/finance/chart/AAPL?", request, StringComparison.Ordinal);
        // The recording asked for the same range: period2 is the day after the last date, 00:00 UTC.
        Assert.Contains($"period1={fixture.UrlParameter("period1")}&", request, StringComparison.Ordinal);
        Assert.Contains($"period2={fixture.UrlParameter("period2")}&", request, StringComparison.Ordinal);
        Assert.Contains("interval=1d", request, StringComparison.Ordinal);
        Assert.Contains("events=div,splits,capitalGains", request, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FetchAsync_AaplSplitRange_SplitAndDividendAreCorporateActions()
    {
        var fixture = YahooFixture.Load(AaplFile);
        await using var server = await YahooTestServer.StartAsync(new Dictionary<string, YahooFixture> { ["AAPL"] = fixture });

        var result = (await server.FetchAsync(["AAPL"], new(2020, 8, 31), new(2020, 11, 6)))["AAPL"];

        var split = fixture.Result["events"]!["splits"]!.AsObject().Single().Value!;
        var dividend = fixture.Result["events"]!["dividends"]!.AsObject().Single().Value!;
        Assert.Equal(2, result.Actions.Count);
        var s = Assert.Single(result.Actions, a => a.Type == CorporateActionTypes.Split);
        Assert.Equal(new DateOnly(2020, 8, 31), s.Date);
        Assert.Equal(fixture.LocalDate(split["date"]!.GetValue<long>()), s.Date);
        Assert.Equal(split["numerator"]!.GetValue<double>(), s.Numerator);
        Assert.Equal(split["denominator"]!.GetValue<double>(), s.Denominator);
        Assert.Equal(4, s.Numerator);
        Assert.Null(s.Value);
        var d = Assert.Single(result.Actions, a => a.Type == CorporateActionTypes.Dividend);
        Assert.Equal(new DateOnly(2020, 11, 6), d.Date);
        Assert.Equal(dividend["amount"]!.GetValue<double>(), d.Value);
        Assert.Null(d.Numerator);
        Assert.Equal("yahoo", d.Source);
    }

    [Fact]
    public async Task FetchAsync_EndBeforeLastRecordedBar_LaterBarRejectedAndItsDividendLeftOut()
    {
        var fixture = YahooFixture.Load(AaplFile);
        await using var server = await YahooTestServer.StartAsync(new Dictionary<string, YahooFixture> { ["AAPL"] = fixture });

        var result = (await server.FetchAsync(["AAPL"], new(2020, 8, 31), new(2020, 11, 5)))["AAPL"];

        Assert.Null(result.Error);
        Assert.Equal(fixture.Timestamps.Length - 1, result.Bars.Count);
        Assert.Equal(new DateOnly(2020, 11, 5), result.Bars[^1].Date);
        var reason = Assert.Single(result.Rejected);
        Assert.Contains("AAPL 2020-11-06", reason, StringComparison.Ordinal);
        Assert.Contains("after the requested end", reason, StringComparison.Ordinal);
        Assert.DoesNotContain(result.Actions, a => a.Type == CorporateActionTypes.Dividend);
    }

    [Fact]
    public async Task FetchAsync_NvdaSplitYear_SplitDatedInNewYorkAndBarsMatch()
    {
        var fixture = YahooFixture.Load("historical-via-chart-NVDA-split-2021-02-01-to-2022-01-31.csv.json");
        await using var server = await YahooTestServer.StartAsync(new Dictionary<string, YahooFixture> { ["NVDA"] = fixture });

        var result = (await server.FetchAsync(["NVDA"], new(2021, 2, 1), new(2022, 1, 31)))["NVDA"];

        Assert.Null(result.Error);
        Assert.Equal(fixture.Timestamps.Length, result.Bars.Count);
        var split = fixture.Result["events"]!["splits"]!.AsObject().Single().Value!;
        var action = Assert.Single(result.Actions);
        Assert.Equal(CorporateActionTypes.Split, action.Type);
        Assert.Equal(new DateOnly(2021, 7, 20), action.Date);
        Assert.Equal(split["numerator"]!.GetValue<double>(), action.Numerator);
        Assert.Equal(split["denominator"]!.GetValue<double>(), action.Denominator);
        var i = Array.FindIndex(fixture.Timestamps, t => fixture.LocalDate(t) == action.Date);
        var bar = Assert.Single(result.Bars, b => b.Date == action.Date);
        Assert.Equal(YahooFixture.Round(fixture.Quote("close", i), 2), bar.Close);
        Assert.Equal((long)fixture.Quote("volume", i)!.Value, bar.Volume);
    }

    [Fact]
    public async Task FetchAsync_MsftDividendYear_FourDividendsWithRecordedAmounts()
    {
        var fixture = YahooFixture.Load("historical-via-chart-MSFT-dividends-2021-02-01-to-2022-01-31.csv.json");
        await using var server = await YahooTestServer.StartAsync(new Dictionary<string, YahooFixture> { ["MSFT"] = fixture });

        var result = (await server.FetchAsync(["MSFT"], new(2021, 2, 1), new(2022, 1, 31)))["MSFT"];

        Assert.Null(result.Error);
        var recorded = fixture.Result["events"]!["dividends"]!.AsObject()
            .Select(p => (Date: fixture.LocalDate(p.Value!["date"]!.GetValue<long>()), Amount: p.Value!["amount"]!.GetValue<double>()))
            .OrderBy(d => d.Date)
            .ToArray();
        Assert.Equal(4, recorded.Length);
        Assert.All(result.Actions, a => Assert.Equal(CorporateActionTypes.Dividend, a.Type));
        Assert.Equal(recorded, result.Actions.Select(a => (a.Date, a.Value!.Value)));
        Assert.Equal(new DateOnly(2021, 2, 17), result.Actions[0].Date);
        Assert.Equal(new DateOnly(2021, 11, 17), result.Actions[^1].Date);
        Assert.Equal(fixture.Timestamps.Length, result.Bars.Count);
    }

    [Fact]
    public async Task FetchAsync_WsuDeOnXetra_DatesAreBerlinSessionDates()
    {
        var fixture = YahooFixture.Load("chart-WSU.DE-2023-08-04-to-2023-08-09.json");
        await using var server = await YahooTestServer.StartAsync(new Dictionary<string, YahooFixture> { ["WSU.DE"] = fixture });

        var result = (await server.FetchAsync(["WSU.DE"], new(2023, 8, 4), new(2023, 8, 8)))["WSU.DE"];

        Assert.Null(result.Error);
        Assert.Equal("Europe/Berlin", fixture.Zone.Id);
        // Sessions open at 09:00 Berlin (07:00 UTC): Friday, then Monday and Tuesday.
        Assert.Equal([new DateOnly(2023, 8, 4), new DateOnly(2023, 8, 7), new DateOnly(2023, 8, 8)], result.Bars.Select(b => b.Date));
        Assert.Equal(fixture.Timestamps.Select(fixture.LocalDate), result.Bars.Select(b => b.Date));
        Assert.Equal(YahooFixture.Round(fixture.Quote("close", 2), 2), result.Bars[2].Close);
        Assert.Equal(YahooFixture.Round(fixture.AdjClose(2), 2), result.Bars[2].AdjClose);
        Assert.Equal((long)fixture.Quote("volume", 2)!.Value, result.Bars[2].Volume);
    }

    [Fact]
    public async Task FetchAsync_EurUsdWithEquals_FourDecimalsAndZeroVolumeKept()
    {
        var fixture = YahooFixture.Load("chart-EURUSD=X-2020-01-01-to-2020-01-03.json");
        await using var server = await YahooTestServer.StartAsync(new Dictionary<string, YahooFixture> { ["EURUSD=X"] = fixture });

        var result = (await server.FetchAsync(["EURUSD=X"], new(2020, 1, 1), new(2020, 1, 3)))["EURUSD=X"];

        Assert.Null(result.Error);
        Assert.StartsWith("/v8/finance/chart/EURUSD%3DX?", Assert.Single(server.Requests), StringComparison.Ordinal);
        Assert.Equal(4, fixture.PriceHint);
        Assert.Equal(3, result.Bars.Count);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(YahooFixture.Round(fixture.Quote("open", i), 4), result.Bars[i].Open);
            Assert.Equal(YahooFixture.Round(fixture.Quote("close", i), 4), result.Bars[i].Close);
            Assert.Equal(0, result.Bars[i].Volume);
        }
        Assert.Equal(1.1221, result.Bars[0].Close);
    }

    [Fact]
    public async Task FetchAsync_BtcUsdSevenDayMarket_EveryCalendarDayKeptIncludingHoliday()
    {
        var fixture = YahooFixture.Load("chart-BTC-USD-2020-01-01-to-2020-01-03.json");
        await using var server = await YahooTestServer.StartAsync(new Dictionary<string, YahooFixture> { ["BTC-USD"] = fixture });

        var result = (await server.FetchAsync(["BTC-USD"], new(2020, 1, 1), new(2020, 1, 3)))["BTC-USD"];

        Assert.Null(result.Error);
        // New Year's Day (no stock session) is a BTC bar: no business-day filter is applied.
        Assert.Equal([new DateOnly(2020, 1, 1), new DateOnly(2020, 1, 2), new DateOnly(2020, 1, 3)], result.Bars.Select(b => b.Date));
        Assert.Equal((long)fixture.Quote("volume", 2)!.Value, result.Bars[2].Volume);
        Assert.Equal(YahooFixture.Round(fixture.Quote("high", 2), 2), result.Bars[2].High);
    }

    [Fact]
    public async Task FetchAsync_BtcUsdShiftedToAWeekend_SaturdayAndSundayKept()
    {
        // The recording covers Wednesday to Friday only; moved 3 days on it spans Saturday to Monday.
        var fixture = YahooFixture.Load("chart-BTC-USD-2020-01-01-to-2020-01-03.json");
        var timestamps = fixture.Result["timestamp"]!.AsArray();
        for (var i = 0; i < timestamps.Count; i++)
        {
            timestamps[i] = timestamps[i]!.GetValue<long>() + 3 * 86_400;
        }
        await using var server = await YahooTestServer.StartAsync(new Dictionary<string, YahooFixture> { ["BTC-USD"] = fixture });

        var result = (await server.FetchAsync(["BTC-USD"], new(2020, 1, 4), new(2020, 1, 6)))["BTC-USD"];

        Assert.Equal([DayOfWeek.Saturday, DayOfWeek.Sunday, DayOfWeek.Monday], result.Bars.Select(b => b.Date.DayOfWeek));
        Assert.Equal(YahooFixture.Round(fixture.Quote("close", 0), 2), result.Bars[0].Close);
    }

    [Fact]
    public async Task FetchAsync_TorontoFund_OneBarDatedInToronto()
    {
        var fixture = YahooFixture.Load("chart-0P000071W8.TO-2020-01-01-to-2020-01-03.json");
        await using var server = await YahooTestServer.StartAsync(new Dictionary<string, YahooFixture> { ["0P000071W8.TO"] = fixture });

        var result = (await server.FetchAsync(["0P000071W8.TO"], new(2020, 1, 1), new(2020, 1, 2)))["0P000071W8.TO"];

        Assert.Null(result.Error);
        var bar = Assert.Single(result.Bars);
        Assert.Equal(new DateOnly(2020, 1, 2), bar.Date);
        Assert.Equal(YahooFixture.Round(fixture.Quote("close", 0), 2), bar.Close);
        Assert.Equal(YahooFixture.Round(fixture.AdjClose(0), 2), bar.AdjClose);
        Assert.Equal(0, bar.Volume);
    }

    [Theory]
    [InlineData("chart-notimestamp-quotes-length.fake.json")]
    [InlineData("chart-notimestamp-weird-quote.fake.json")]
    public async Task FetchAsync_NoTimestampArray_EmptyResultWithReason(string file)
    {
        var fixture = YahooFixture.Load(file);
        Assert.Null(fixture.Result["timestamp"]);
        await using var server = await YahooTestServer.StartAsync(new Dictionary<string, YahooFixture> { ["AAPL"] = fixture });

        var result = (await server.FetchAsync(["AAPL"], new(2020, 1, 1), new(2020, 1, 2)))["AAPL"];

        Assert.Null(result.Error);
        Assert.Empty(result.Bars);
        var reason = Assert.Single(result.Rejected);
        Assert.Contains("no timestamp array", reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("chart-AAPL-2025-02-01-to-2025-02-02-includePrePost-false-interval-1m.json", "AAPL", "1m")]
    [InlineData("chart-TSLA-2025-01-01-to-2025-01-02-interval-1h.fake.json", "TSLA", "1h")]
    public async Task FetchAsync_IntradayAnswer_RefusedNamingTheGranularity(string file, string symbol, string granularity)
    {
        var fixture = YahooFixture.Load(file);
        Assert.Equal(granularity, fixture.Meta["dataGranularity"]!.GetValue<string>());
        await using var server = await YahooTestServer.StartAsync(new Dictionary<string, YahooFixture> { [symbol] = fixture });

        var result = (await server.FetchAsync([symbol], new(2025, 1, 1), new(2025, 2, 2)))[symbol];

        Assert.NotNull(result.Error);
        Assert.Contains($"'{granularity}'", result.Error, StringComparison.Ordinal);
        Assert.Contains(symbol, result.Error, StringComparison.Ordinal);
        Assert.Empty(result.Bars);
    }

    [Fact]
    public async Task FetchAsync_SameFixtureTwice_EqualBars()
    {
        var fixture = YahooFixture.Load(AaplFile);
        await using var server = await YahooTestServer.StartAsync(new Dictionary<string, YahooFixture> { ["AAPL"] = fixture });

        var first = (await server.FetchAsync(["AAPL"], new(2020, 8, 31), new(2020, 11, 6)))["AAPL"];
        var second = (await server.FetchAsync(["AAPL"], new(2020, 8, 31), new(2020, 11, 6)))["AAPL"];

        Assert.Equal(2, server.Attempts("AAPL"));
        Assert.Equal(first.Bars.Count, second.Bars.Count);
        // Only ingested_at (the fetch time) may differ.
        Assert.Equal(first.Bars.Select(b => b with { IngestedAt = default }), second.Bars.Select(b => b with { IngestedAt = default }));
        Assert.Equal(first.Actions.Select(a => a with { IngestedAt = default }), second.Actions.Select(a => a with { IngestedAt = default }));
    }
}
