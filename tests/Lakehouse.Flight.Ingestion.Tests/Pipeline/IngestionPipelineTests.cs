using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Ingestion.Csv;
using Lakehouse.Flight.Ingestion.Tests.Yahoo;
using Lakehouse.Flight.Ingestion.Yahoo;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Ingestion.Tests.Pipeline;

/// <summary>
/// Real market data through the whole write path: recorded Yahoo answers served by a local Kestrel
/// listener, fetched by the Yahoo source, landed and promoted by the runner into a real lake.
/// </summary>
public sealed class IngestionPipelineTests : IDisposable
{
    private const string Aapl = "chart-AAPL-2020-08-31-to-2020-11-07.json";
    private const string Nvda = "historical-via-chart-NVDA-split-2021-02-01-to-2022-01-31.csv.json";
    private readonly TempDir _temp = new("lakehouse-pipeline");

    public void Dispose() => _temp.Dispose();

    private static LakeWriter Writer(LakeStore store) => new(store, new Ingestion.Gold.GoldBuilder(store));

    [Fact]
    public async Task YahooFixture_IngestedTwice_SecondRunChangesNothing()
    {
        await using var yahoo = await YahooTestServer.StartAsync(new Dictionary<string, YahooFixture> { ["AAPL"] = YahooFixture.Load(Aapl) });
        using var source = YahooPriceSource.Create(yahoo.Options());
        var store = LakeStore.Open(_temp.Path);
        var runner = new IngestionRunner(store, Writer(store), [source]);
        var request = new IngestRequest("yahoo", ["AAPL"], new DateOnly(2020, 8, 31), new DateOnly(2020, 11, 6));

        var first = await runner.RunAsync(request);
        var second = await runner.RunAsync(request);

        var fixture = YahooFixture.Load(Aapl);
        var expected = fixture.Timestamps.Select(fixture.LocalDate).Count(d => d <= new DateOnly(2020, 11, 6));
        Assert.Empty(first.Failures);
        Assert.Equal(expected, Report(first, "silver", PriceTables.PricesDaily).Inserted);
        Assert.Equal(2L, Report(first, "silver", PriceTables.CorporateActionsName).Inserted);
        Assert.All(second.Reports, r => Assert.Equal((0L, 0L), (r.Inserted, r.Updated)));
        Assert.Equal(expected, Report(second, "silver", PriceTables.PricesDaily).Unchanged);
        var stored = Bars(store, "AAPL");
        Assert.Equal(expected, stored.Count);
        // A value as Yahoo recorded it, rounded to priceHint, on its exchange-local date.
        var i = Array.IndexOf(fixture.Timestamps.Select(fixture.LocalDate).ToArray(), new DateOnly(2020, 9, 15));
        var bar = stored.Single(b => b.Date == new DateOnly(2020, 9, 15));
        Assert.Equal((YahooFixture.Round(fixture.Quote("close", i), fixture.PriceHint), YahooFixture.Round(fixture.AdjClose(i), fixture.PriceHint)),
            (bar.Close, bar.AdjClose!.Value));
    }

    [Fact]
    public async Task TenYearsOf500Symbols_AreStoredInOneFileOfEveryYearPerTable()
    {
        // 1.3M rows. A run commits up to 500 symbols at once, so each year's file holds every symbol's year (~130K rows).
        // Cut at 1M rows, the run made two files a year (~104K and ~26K rows), which the compactor leaves as they are.
        var store = LakeStore.Open(_temp.Path);
        var runner = new IngestionRunner(store, Writer(store), [new SyntheticPriceSource()]);
        var symbols = Enumerable.Range(1, 500).Select(i => $"SYM{i:D4}").ToArray();

        var result = await runner.RunAsync(new IngestRequest("synthetic", symbols, new DateOnly(2015, 1, 1), new DateOnly(2024, 12, 31)));

        Assert.Empty(result.Failures);
        foreach (var folder in new[] { "bronze/prices_daily", "silver/prices_daily", "gold/daily_metrics" })
        {
            var rows = Directory.GetFiles(Path.Combine(_temp.Path, folder), "*.parquet", SearchOption.AllDirectories)
                .Select(f =>
                {
                    using var reader = new ParquetSharp.ParquetFileReader(f);
                    using var meta = reader.FileMetaData;
                    return meta.NumRows;
                })
                .ToArray();
            Assert.Equal(10, rows.Length);
            Assert.All(rows, n => Assert.InRange(n, 100_000, 140_000));
        }
    }

    [Fact]
    public async Task NvdaSplit_IngestedInTwoHalves_EarlierAdjCloseIsRescaledOnceAndCounted()
    {
        await using var yahoo = await YahooTestServer.StartAsync(new Dictionary<string, YahooFixture> { ["NVDA"] = YahooFixture.Load(Nvda) });
        using var source = YahooPriceSource.Create(yahoo.Options());
        var store = LakeStore.Open(_temp.Path);
        var runner = new IngestionRunner(store, Writer(store), [source]);
        var split = new DateOnly(2021, 7, 20);

        await runner.RunAsync(new IngestRequest("yahoo", ["NVDA"], new DateOnly(2021, 2, 1), split.AddDays(-1)));
        var before = Bars(store, "NVDA").ToDictionary(b => b.Date);
        var second = await runner.RunAsync(new IngestRequest("yahoo", ["NVDA"], split, new DateOnly(2022, 1, 31)));
        var after = Bars(store, "NVDA").ToDictionary(b => b.Date);
        var again = await runner.RunAsync(new IngestRequest("yahoo", ["NVDA"], split, new DateOnly(2022, 1, 31)));

        var action = Assert.Single(Actions(store, "NVDA"));
        Assert.Equal((split, CorporateActionTypes.Split, 4.0, 1.0), (action.Date, action.Type, action.Numerator!.Value, action.Denominator!.Value));
        Assert.NotEmpty(before);
        foreach (var (date, old) in before)
        {
            // 4:1 after these days: the history is worth a quarter per share; the raw close stays as traded.
            Assert.Equal(old.AdjClose!.Value * 0.25, after[date].AdjClose!.Value, 12);
            Assert.Equal(old.Close, after[date].Close);
        }
        Assert.Equal(before.Count, Report(second, "silver", PriceTables.PricesDaily).Updated);
        Assert.All(again.Reports, r => Assert.Equal((0L, 0L), (r.Inserted, r.Updated)));
        Assert.Equal(after.Values.Select(b => b.AdjClose), Bars(store, "NVDA").Select(b => b.AdjClose));
    }

    [Fact]
    public async Task AaplDividend_IngestedInTwoHalves_EarlierAdjCloseScaledByTheDividendFactor()
    {
        await using var yahoo = await YahooTestServer.StartAsync(new Dictionary<string, YahooFixture> { ["AAPL"] = YahooFixture.Load(Aapl) });
        using var source = YahooPriceSource.Create(yahoo.Options());
        var store = LakeStore.Open(_temp.Path);
        var runner = new IngestionRunner(store, Writer(store), [source]);

        await runner.RunAsync(new IngestRequest("yahoo", ["AAPL"], new DateOnly(2020, 8, 31), new DateOnly(2020, 10, 15)));
        var before = Bars(store, "AAPL").ToDictionary(b => b.Date);
        await runner.RunAsync(new IngestRequest("yahoo", ["AAPL"], new DateOnly(2020, 10, 16), new DateOnly(2020, 11, 6)));
        var after = Bars(store, "AAPL");

        var dividend = Actions(store, "AAPL").Single(a => a.Type == CorporateActionTypes.Dividend);
        Assert.Equal((new DateOnly(2020, 11, 6), 0.205), (dividend.Date, dividend.Value!.Value));
        var lastClose = after.Last(b => b.Date < dividend.Date).Close;
        var factor = 1 - (0.205 / lastClose);
        foreach (var bar in after.Where(b => before.ContainsKey(b.Date)))
        {
            Assert.Equal(before[bar.Date].AdjClose!.Value * factor, bar.AdjClose!.Value, 12);
        }
        // Bars of the fetch that brought the dividend are Yahoo's own values, not rescaled again.
        var fixture = YahooFixture.Load(Aapl);
        var dates = fixture.Timestamps.Select(fixture.LocalDate).ToArray();
        var i = Array.IndexOf(dates, new DateOnly(2020, 10, 20));
        Assert.Equal(YahooFixture.Round(fixture.AdjClose(i), fixture.PriceHint), after.Single(b => b.Date == dates[i]).AdjClose!.Value);
    }

    [Fact]
    public async Task YahooAndStooqCsvOfTheSameDays_GiveTheSameSilverRows()
    {
        Directory.CreateDirectory(_temp.Path);
        var yahooCsv = Path.Combine(_temp.Path, "yahoo", "IBM.csv");
        var stooqCsv = Path.Combine(_temp.Path, "stooq", "IBM.csv");
        Directory.CreateDirectory(Path.GetDirectoryName(yahooCsv)!);
        Directory.CreateDirectory(Path.GetDirectoryName(stooqCsv)!);
        await File.WriteAllTextAsync(yahooCsv, "Date,Open,High,Low,Close,Adj Close,Volume\n2024-01-02,160.5,162.1,159.9,161.8,155.2,4500000\n2024-01-03,161.0,161.9,158.4,159.2,152.7,3900000\n2024-01-04,159.5,null,158.0,160.1,153.6,3100000\n");
        await File.WriteAllTextAsync(stooqCsv, "Date,Open,High,Low,Close,Volume\n2024-01-02,160.5,162.1,159.9,161.8,4500000\n2024-01-03,161.0,161.9,158.4,159.2,3900000\n");
        var yahooLake = LakeStore.Open(Path.Combine(_temp.Path, "lake-yahoo"));
        var stooqLake = LakeStore.Open(Path.Combine(_temp.Path, "lake-stooq"));

        var y = await new IngestionRunner(yahooLake, Writer(yahooLake), [new CsvPriceSource()]).RunAsync(new IngestRequest("csv", [], null, null, Path: yahooCsv));
        await new IngestionRunner(stooqLake, Writer(stooqLake), [new CsvPriceSource()]).RunAsync(new IngestRequest("csv", [], null, null, Path: stooqCsv));

        var fromYahoo = Bars(yahooLake, "IBM");
        var fromStooq = Bars(stooqLake, "IBM");
        Assert.Equal(fromYahoo.Select(b => (b.Date, b.Open, b.High, b.Low, b.Close, b.Volume)), fromStooq.Select(b => (b.Date, b.Open, b.High, b.Low, b.Close, b.Volume)));
        Assert.Equal([155.2, 152.7], fromYahoo.Select(b => b.AdjClose!.Value));
        Assert.All(fromStooq, b => Assert.Null(b.AdjClose));
        var silver = Report(y, "silver", PriceTables.PricesDaily);
        Assert.Equal((2L, 1L), (silver.Inserted, silver.Rejected));
        Assert.Contains("IBM.csv:4", Assert.Single(silver.RejectReasons!), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CsvRowDatedOutsideTheLakesDates_IsRejectedWithItsReasonAndLandsNowhere()
    {
        Directory.CreateDirectory(_temp.Path);
        var csv = Path.Combine(_temp.Path, "ZZV.csv");
        await File.WriteAllTextAsync(csv, "Date,Open,High,Low,Close,Adj Close,Volume\n2020-01-02,10,11,9,10.5,10.5,100\n9999-12-31,10,11,9,10.5,10.5,100\n1850-01-02,10,11,9,10.5,10.5,100\n");
        var lake = LakeStore.Open(Path.Combine(_temp.Path, "lake"));

        var result = await new IngestionRunner(lake, Writer(lake), [new CsvPriceSource()]).RunAsync(new IngestRequest("csv", [], null, null, Path: csv));

        var silver = Report(result, "silver", PriceTables.PricesDaily);
        Assert.Equal((1L, 2L), (silver.Inserted, silver.Rejected));
        Assert.Contains(silver.RejectReasons!, r => r.Contains("9999-12-31 is outside the dates the lake accepts", StringComparison.Ordinal));
        Assert.Equal(1L, Report(result, "bronze", PriceTables.PricesDaily).Inserted);
        Assert.Equal([new DateOnly(2020, 1, 2)], lake.Read(TableQuery.Create("bronze", symbols: ["ZZV"])).SelectMany(PriceBarBatches.ToBars).Select(b => b.Date));
        Assert.False(Directory.Exists(Path.Combine(_temp.Path, "lake", "bronze", "prices_daily", "source=csv", "symbol=ZZV", "year=9999")));
    }

    [Fact]
    public async Task BulkIngestCommittedInChunks_WritesNoReportForAnyChunk_AndGoldForEverySymbol()
    {
        // 520 symbols x 2 years: the runner commits at most 500 symbols at a time, so the run's last chunk has 20 symbols.
        // Reports are decided for the run (more than 100 symbols: none), not per chunk.
        var symbols = Enumerable.Range(0, 520).Select(i => $"B{i:D3}").ToArray();
        var store = LakeStore.Open(_temp.Path);
        var runner = new IngestionRunner(store, Writer(store), [new SyntheticPriceSource()]);

        var result = await runner.RunAsync(new IngestRequest(SyntheticBars.Name, symbols, new DateOnly(2008, 1, 1), new DateOnly(2009, 12, 31)));

        Assert.Empty(result.Failures);
        Assert.True(result.Reports.Select(r => r.Version).Distinct().Count() >= 2, "the run was one commit: it no longer tests chunks");
        Assert.False(Directory.Exists(store.Paths.GoldReportsDir) && Directory.EnumerateFiles(store.Paths.GoldReportsDir).Any(),
            "a bulk run wrote report files for some of its chunks' symbols");
        Assert.Equal(symbols.Order(StringComparer.Ordinal),
            result.Gold.Where(r => r.Table == GoldTables.DailyMetricsName).Select(r => r.Symbol).Order(StringComparer.Ordinal));
    }

    private static StorageReport Report(IngestResult result, string layer, string table) =>
        result.Reports.Single(r => r.Layer == layer && r.Table == table);

    private static List<PriceBar> Bars(LakeStore store, string symbol) =>
        store.Read(TableQuery.Create(symbols: [symbol])).SelectMany(PriceBarBatches.ToBars).ToList();

    private static List<CorporateAction> Actions(LakeStore store, string symbol) =>
        store.Read(TableQuery.Create("silver", PriceTables.CorporateActionsName, [symbol])).SelectMany(CorporateActionBatches.ToActions).ToList();
}
