using System.Security.Cryptography;
using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Ingestion.Gold;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Ingestion.Tests.Gold;

/// <summary>The gold layer built through a real store on a temp data dir: tables, files, reports, manifests.</summary>
public sealed class GoldBuilderTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "lakehouse-gold-" + Guid.NewGuid().ToString("N"));
    private LakeStore _store;

    public GoldBuilderTests() => _store = LakeStore.Open(_dir);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task BuildAsync_TwoSymbols_StoredTablesEqualCalculatorOverSilver()
    {
        await _store.UpsertAsync([.. Synthetic("MSFT", 2001, 2020), .. Synthetic("IBM", 2015, 2020)]);

        var result = await new GoldBuilder(_store).BuildAsync([]);

        Assert.Equal(["gold/prices_monthly/IBM", "gold/prices_monthly/MSFT", "gold/daily_metrics/IBM", "gold/daily_metrics/MSFT"],
            result.Reports.Select(r => $"{r.Layer}/{r.Table}/{r.Symbol}"));
        Assert.All(result.Reports, r => Assert.Equal((r.Rows, 0L, 0L, GoldBuilder.DerivedSource), (r.Inserted, r.Updated, r.Unchanged, r.Source)));
        foreach (var symbol in new[] { "MSFT", "IBM" })
        {
            var silver = Silver(symbol);
            AssertSameRows(GoldCalculator.Monthly(silver), Gold(GoldTables.PricesMonthlyName, symbol));
            AssertSameRows(GoldCalculator.DailyMetrics(silver), Gold(GoldTables.DailyMetricsName, symbol));
        }
        // Daily metrics in one file per year; monthly bars in one per decade.
        Assert.Equal(Enumerable.Range(2001, 20).Select(y => $"{y}"), Directory.GetFiles(Path.Combine(_dir, "gold", "daily_metrics")).Select(f => Path.GetFileName(f)[..4]).Order());
        Assert.Equal(["2000-2009", "2010-2019", "2020-2029"], Directory.GetFiles(Path.Combine(_dir, "gold", "prices_monthly")).Select(f => Path.GetFileName(f)[..9]).Order());
        Assert.Equal(2, _store.ReadManifest(GoldTables.DailyMetrics).Count);
    }

    [Fact]
    public async Task GoldParquetOnDisk_YahooAaplAndSynthetic_MatchesCalculatorInDuckDb()
    {
        await _store.UpsertAsync([.. GoldTestData.YahooAapl(), .. Synthetic("MSFT", 2001, 2020)]);

        await new GoldBuilder(_store).BuildAsync(["AAPL", "MSFT"]);

        foreach (var symbol in new[] { "AAPL", "MSFT" })
        {
            var silver = Silver(symbol);
            var metrics = DuckDbGold.Run($"""
                SELECT * FROM read_parquet('{Glob("daily_metrics")}', hive_partitioning = 1)
                WHERE symbol = '{symbol}' ORDER BY date
                """);
            var monthly = DuckDbGold.Run($"""
                SELECT * FROM read_parquet('{Glob("prices_monthly")}', hive_partitioning = 1)
                WHERE symbol = '{symbol}' ORDER BY month
                """);
            var (comparedMetrics, _) = DuckDbGold.AssertSame(GoldCalculator.DailyMetrics(silver), metrics);
            var (comparedMonthly, _) = DuckDbGold.AssertSame(GoldCalculator.Monthly(silver), monthly);
            Assert.True(comparedMetrics >= silver.Length * 4, $"{symbol}: only {comparedMetrics} doubles compared");
            Assert.True(comparedMonthly >= monthly.Count * 4, $"{symbol}: only {comparedMonthly} doubles compared");
        }
        Assert.Equal(GoldTestData.YahooAapl().Count, DuckDbGold.Run($"SELECT * FROM read_parquet('{Glob("daily_metrics")}') WHERE symbol = 'AAPL'").Count);
    }

    [Fact]
    public async Task BuildAsync_RerunWithoutSilverChanges_WritesNoFileAndReportsUnchanged()
    {
        await _store.UpsertAsync([.. Synthetic("MSFT", 2001, 2020), .. GoldTestData.YahooAapl()]);
        var builder = new GoldBuilder(_store);
        var first = await builder.BuildAsync([]);
        var before = GoldFiles();

        var again = await builder.BuildAsync([]);

        Assert.Equal(before, GoldFiles());
        Assert.Equal(first.Reports.Select(r => (r.Table, r.Symbol, r.Rows)), again.Reports.Select(r => (r.Table, r.Symbol, r.Rows)));
        Assert.All(again.Reports, r => Assert.Equal((0L, 0L, r.Rows), (r.Inserted, r.Updated, r.Unchanged)));
        Assert.All(again.Files, f => Assert.False(f.Written, $"{f.Path} rewritten"));
        var manifest = _store.ReadManifest(GoldTables.DailyMetrics);
        Assert.Equal(4, manifest.Count);
        Assert.All(manifest.TakeLast(2), m => Assert.Equal((again.RunId, 0L, m.Rows), (m.RunId, m.Inserted + m.Updated, m.Unchanged)));
    }

    [Fact]
    public async Task BuildAsync_LateCorrectionInLastYear_RewritesOnlyThatYearsFiles()
    {
        var bars = Synthetic("MSFT", 2018, 2020);
        await _store.UpsertAsync(bars);
        var builder = new GoldBuilder(_store);
        await builder.BuildAsync(["MSFT"]);
        var before = GoldFiles();
        // A lower close late in 2020 moves that day's metrics and the days after it, but no earlier year.
        var late = bars.Last(b => b.Date.Month == 11);
        await _store.UpsertAsync([late with { Close = late.Low, AdjClose = late.Low }]);

        var result = await builder.BuildAsync(["MSFT"]);

        var after = GoldFiles();
        // Data files are immutable: a changed one is replaced by a new name (of the same band); the report is rewritten in place.
        var gone = before.Keys.Where(k => !after.ContainsKey(k) || before[k] != after[k]).Select(Band).Order(StringComparer.Ordinal).ToArray();
        var added = after.Keys.Where(k => !before.ContainsKey(k) || before[k] != after[k]).Select(Band).Order(StringComparer.Ordinal).ToArray();
        string[] expected = [Path.Combine("daily_metrics", "2020"), Path.Combine("prices_monthly", "2020-2029"), Path.Combine("reports", "MSFT_daily_report.csv")];
        Assert.Equal(expected, gone);
        Assert.Equal(expected, added);
        var metrics = Assert.Single(result.Reports, r => r.Table == GoldTables.DailyMetricsName);
        Assert.Equal(0, metrics.Inserted);
        Assert.InRange(metrics.Updated, 2, 60);
        Assert.Equal(1L, Assert.Single(result.Reports, r => r.Table == GoldTables.PricesMonthlyName).Updated);
    }

    [Fact]
    public async Task RefreshAsync_AfterADailyAppendAndAPastCorrection_WritesOnlyTheTail_AndGoldEqualsAFullRebuild()
    {
        var bars = Synthetic("MSFT", 2018, 2020);
        await _store.UpsertAsync(bars.Where(b => b.Date < new DateOnly(2020, 12, 31)).ToList());
        var builder = new GoldBuilder(_store);
        await builder.BuildAsync(["MSFT"]);

        // A daily append: one new day. Only that day's metrics row and its month's bar are written.
        var append = await builder.RefreshAsync(await _store.UpsertAsync([bars[^1]]));
        Assert.Equal([(GoldTables.PricesMonthlyName, 1L, 0L, 1L), (GoldTables.DailyMetricsName, 1L, 1L, 0L)],
            append.Reports.Select(r => (r.Table, r.Rows, r.Inserted, r.Updated)));
        AssertSameRows(GoldCalculator.DailyMetrics(Silver("MSFT")), Gold(GoldTables.DailyMetricsName, "MSFT"));
        AssertSameRows(GoldCalculator.Monthly(Silver("MSFT")), Gold(GoldTables.PricesMonthlyName, "MSFT"));

        // A correction in mid-2019: only rows from that day on whose values it moves are compared (its 200-day windows at
        // least), none before; its month's bar alone; the result is a full rebuild's.
        var past = bars.First(b => b.Date >= new DateOnly(2019, 6, 10));
        var correction = await builder.RefreshAsync(await _store.UpsertAsync([past with { Close = past.Low, AdjClose = past.Low }]));
        var metrics = Assert.Single(correction.Reports, r => r.Table == GoldTables.DailyMetricsName);
        Assert.InRange(metrics.Rows, 200, bars.Count(b => b.Date >= past.Date));
        Assert.Equal(past.Date.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), metrics.DateFrom);
        Assert.Equal(metrics.Rows, metrics.Updated);
        Assert.Equal(1L, Assert.Single(correction.Reports, r => r.Table == GoldTables.PricesMonthlyName).Rows);
        AssertSameRows(GoldCalculator.DailyMetrics(Silver("MSFT")), Gold(GoldTables.DailyMetricsName, "MSFT"));
        AssertSameRows(GoldCalculator.Monthly(Silver("MSFT")), Gold(GoldTables.PricesMonthlyName, "MSFT"));
    }

    [Fact]
    public async Task RefreshAsync_BulkAppendsAndACorrection_ComputeTailsFromAWindow_AndGoldEqualsAFullRebuild()
    {
        // More symbols than get reports: each tail is computed from ~250 rows before it and the peak before those.
        var symbols = Enumerable.Range(0, GoldBuilder.ReportSymbolsPerWrite + 5).Select(i => $"B{i:D3}").ToArray();
        var bars = SyntheticBars.Generate(symbols, new DateOnly(2018, 1, 1), new DateOnly(2020, 12, 31));
        var days = bars.Select(b => b.Date).Distinct().Order().ToArray();
        await _store.UpsertAsync(bars.Where(b => b.Date < days[^3]).ToList());
        var builder = new GoldBuilder(_store);
        await builder.BuildAsync([]);
        // The cache holds every symbol whole; the appends land in small last chunks of the entries.
        _store.Warm(PriceTables.Silver);

        foreach (var day in days[^3..])
        {
            var append = await builder.RefreshAsync(await _store.UpsertAsync(bars.Where(b => b.Date == day).ToList()));
            var metrics = append.Reports.Where(r => r.Table == GoldTables.DailyMetricsName).ToList();
            Assert.Equal(symbols.Length, metrics.Count);
            Assert.All(metrics, r => Assert.Equal((1L, 1L), (r.Rows, r.Inserted)));
            Assert.Empty(append.Files);
        }
        // One bulk write correcting a day of 2019 for every symbol: the tail from that day, 400 rows after it.
        var past = days.First(d => d >= new DateOnly(2019, 8, 1));
        var corrected = bars.Where(b => b.Date == past).Select(b => b with { Close = b.Low, AdjClose = b.Low }).ToList();
        await builder.RefreshAsync(await _store.UpsertAsync(corrected));

        foreach (var symbol in symbols.Where((_, i) => i % 20 == 0).Append(symbols[^1]))
        {
            AssertSameRows(GoldCalculator.DailyMetrics(Silver(symbol)), Gold(GoldTables.DailyMetricsName, symbol));
            AssertSameRows(GoldCalculator.Monthly(Silver(symbol)), Gold(GoldTables.PricesMonthlyName, symbol));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RefreshAsync_DailyAppendAfterARestart_ReadsTheRecentYearsOnly_PeakFromOlderFiles_AndGoldEqualsAFullRebuild(bool oneMixed)
    {
        // More symbols than get reports, six years each, each one's highest price a spike in its first year: a tail
        // computed without the older years' peak gets every drawdown wrong.
        var symbols = Enumerable.Range(0, GoldBuilder.ReportSymbolsPerWrite + 5).Select(i => $"P{i:D3}").ToArray();
        var spikeDay = new DateOnly(2015, 3, 2);
        var bars = SyntheticBars.Generate(symbols, new DateOnly(2015, 1, 1), new DateOnly(2020, 12, 31))
            .Select(b => b.Date == spikeDay ? b with { High = b.High * 10, Close = b.High * 10, AdjClose = b.High * 10 } : b)
            // With oneMixed, one symbol's adj_close is missing in 2016 only: its older peak is no one column's highest
            // value, so it is read whole.
            .Select(b => oneMixed && b.Symbol == symbols[1] && b.Date.Year == 2016 ? b with { AdjClose = null } : b)
            .ToList();
        var last = bars.Max(b => b.Date);
        await _store.UpsertAsync(bars.Where(b => b.Date < last).ToList());
        await new GoldBuilder(_store).BuildAsync([]);

        // A server start: nothing cached. The append's refresh loads no symbol's history (but the one read whole).
        _store = LakeStore.Open(_dir);
        var append = await new GoldBuilder(_store).RefreshAsync(await _store.UpsertAsync(bars.Where(b => b.Date == last).ToList()));
        Assert.Equal(oneMixed ? bars.Count(b => b.Symbol == symbols[1]) : 0, _store.CachedRows);
        var metrics = append.Reports.Where(r => r.Table == GoldTables.DailyMetricsName).ToList();
        Assert.Equal(symbols.Length, metrics.Count);
        Assert.All(metrics, r => Assert.Equal((1L, 1L), (r.Rows, r.Inserted)));

        foreach (var symbol in symbols.Where((_, i) => i % 10 == 0).Append(symbols[1]).Append(symbols[^1]))
        {
            var silver = Silver(symbol);
            var gold = Gold(GoldTables.DailyMetricsName, symbol);
            AssertSameRows(GoldCalculator.DailyMetrics(silver), gold);
            AssertSameRows(GoldCalculator.Monthly(silver), Gold(GoldTables.PricesMonthlyName, symbol));
            // The peak is the spike of 2015: the last day's drawdown is far below zero.
            Assert.InRange(DailyMetricsColumns.Drawdown.Of(gold).GetValue(gold.Length - 1)!.Value, -1, -0.5);
        }
    }

    [Fact]
    public async Task RefreshAsync_DailyAppendOfMoreSymbolsThanAChunk_CommitsGoldOnce()
    {
        var symbols = Enumerable.Range(0, GoldBuilder.ChunkSymbols + 50).Select(i => $"C{i:D3}").ToArray();
        var bars = SyntheticBars.Generate(symbols, new DateOnly(2019, 1, 1), new DateOnly(2020, 12, 31));
        var last = bars.Max(b => b.Date);
        await _store.UpsertAsync(bars.Where(b => b.Date < last).ToList());
        var builder = new GoldBuilder(_store);
        await builder.BuildAsync([]);
        var versionBefore = _store.Version;

        var append = await builder.RefreshAsync(await _store.UpsertAsync(bars.Where(b => b.Date == last).ToList()));

        // The silver commit, then one gold commit for every symbol (its chunks were read and computed apart).
        Assert.Equal(symbols.Length * 2, append.Reports.Count);
        var version = Assert.Single(append.Reports.Select(r => r.Version).Distinct());
        Assert.Equal(versionBefore + 2, version);
        AssertSameRows(GoldCalculator.DailyMetrics(Silver(symbols[^1])), Gold(GoldTables.DailyMetricsName, symbols[^1]));
    }

    [Fact]
    public async Task BuildAsync_Report_AtSeedPathWithHeaderAndOneRowPerDay()
    {
        var aapl = GoldTestData.YahooAapl();
        var index = aapl.Select(b => b with { Symbol = "^GSPC" }).ToList();
        await _store.UpsertAsync([.. aapl, .. index]);

        var result = await new GoldBuilder(_store).BuildAsync(["AAPL", "^gspc"]);

        var path = Path.Combine(_dir, "gold", "reports", "AAPL_daily_report.csv");
        Assert.Equal([path, Path.Combine(_dir, "gold", "reports", "%5EGSPC_daily_report.csv")], result.Files.Select(f => f.Path));
        Assert.All(result.Files, f => Assert.True(f.Written && f.Rows == aapl.Count));
        var lines = File.ReadAllLines(path);
        Assert.Equal(DailyReport.Header, lines[0]);
        Assert.Equal(aapl.Count + 1, lines.Length);
        Assert.StartsWith("AAPL,2020-08-31,", lines[1], StringComparison.Ordinal);
        Assert.Equal(DailyReport.Csv(Silver("AAPL")), File.ReadAllText(path));
        Assert.StartsWith("^GSPC,2020-08-31,", File.ReadAllLines(result.Files[1].Path)[1], StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_dir, "gold", "reports"), ".*"));
    }

    [Fact]
    public async Task BuildAsync_SymbolWithoutSilver_IsNotFoundAndWritesNothing()
    {
        await _store.UpsertAsync(Synthetic("MSFT", 2020, 2020));

        var ex = await Assert.ThrowsAsync<LakehouseException>(() => new GoldBuilder(_store).BuildAsync(["MSFT", "NOPE"]));

        Assert.Equal(LakehouseErrorKind.NotFound, ex.Kind);
        Assert.Contains("no silver prices for NOPE", ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "gold")));
    }

    [Fact]
    public async Task RunAsync_SecondIngest_RebuildsGoldForTouchedSymbolsOnly()
    {
        var runner = new IngestionRunner(_store, new LakeWriter(_store, new GoldBuilder(_store)), [new SyntheticPriceSource()]);
        var from = new DateOnly(2024, 1, 1);
        var to = new DateOnly(2024, 3, 31);
        var first = await runner.RunAsync(new IngestRequest("synthetic", ["AAPL", "MSFT"], from, to));
        var msftReport = File.ReadAllBytes(Path.Combine(_dir, "gold", "reports", "MSFT_daily_report.csv"));

        var second = await runner.RunAsync(new IngestRequest("synthetic", ["MSFT", "NVDA"], from, to));

        Assert.Equal(["AAPL", "AAPL", "MSFT", "MSFT"], first.Gold.Select(r => r.Symbol).Order(StringComparer.Ordinal));
        Assert.Equal([("prices_monthly", "NVDA"), ("daily_metrics", "NVDA")], second.Gold.Select(r => (r.Table, r.Symbol)));
        Assert.All(second.Gold, r => Assert.Equal(second.RunId, r.RunId));
        Assert.Equal(msftReport, File.ReadAllBytes(Path.Combine(_dir, "gold", "reports", "MSFT_daily_report.csv")));
        AssertSameRows(GoldCalculator.DailyMetrics(Silver("NVDA")), Gold(GoldTables.DailyMetricsName, "NVDA"));
        Assert.Equal(["AAPL", "MSFT", "NVDA"], _store.SymbolsFor(TableQuery.Create("gold", GoldTables.DailyMetricsName)));
    }

    [Fact]
    public async Task PromoteAsync_BronzeOnlyLanding_RebuildsGold()
    {
        await _store.LandAsync(Synthetic("IBM", 2023, 2023), "vendor_x", promote: false);
        Assert.Empty(_store.SymbolsFor(TableQuery.Create("gold", GoldTables.PricesMonthlyName)));

        await new BronzePromoter(_store, new LakeWriter(_store, new GoldBuilder(_store))).PromoteAsync("vendor_x", ["IBM"], null, null);

        AssertSameRows(GoldCalculator.Monthly(Silver("IBM")), Gold(GoldTables.PricesMonthlyName, "IBM"));
        Assert.True(File.Exists(Path.Combine(_dir, "gold", "reports", "IBM_daily_report.csv")));
    }

    [Fact]
    public async Task WriteReportAsync_SameBytesOrBadName_LeavesFilesAlone()
    {
        var bytes = "a,b\n1,2\n"u8.ToArray();

        Assert.True(await _store.WriteReportAsync("X_daily_report.csv", bytes));
        var path = _store.ReportPath("X_daily_report.csv");
        var stamp = DateTime.UnixEpoch;
        File.SetLastWriteTimeUtc(path, stamp);
        Assert.False(await _store.WriteReportAsync("X_daily_report.csv", bytes));
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(path));
        Assert.True(await _store.WriteReportAsync("X_daily_report.csv", "a,b\n1,3\n"u8.ToArray()));
        Assert.Equal("a,b\n1,3\n", File.ReadAllText(path));

        foreach (var bad in new[] { "../x.csv", ".hidden", "", "sub/x.csv" })
        {
            var ex = await Assert.ThrowsAsync<LakehouseException>(() => _store.WriteReportAsync(bad, bytes));
            Assert.Equal(LakehouseErrorKind.InvalidArgument, ex.Kind);
        }
        Assert.Equal(["X_daily_report.csv"], Directory.EnumerateFiles(_store.Paths.GoldReportsDir).Select(Path.GetFileName));
    }

    private static List<PriceBar> Synthetic(string symbol, int fromYear, int toYear) =>
        [.. SyntheticBars.GenerateOne(symbol, new DateOnly(fromYear, 1, 1), new DateOnly(toYear, 12, 31))];

    private string Glob(string table) => Path.Combine(_dir, "gold", table, "**", "*.parquet").Replace('\\', '/');

    private RecordBatch Silver(string symbol) => Read(TableQuery.Create("silver", PriceTables.PricesDaily, [symbol]));

    private RecordBatch Gold(string table, string symbol) => Read(TableQuery.Create("gold", table, [symbol]));

    private RecordBatch Read(TableQuery query) => RecordBatches.Concatenate(_store.Read(query).ToArray());

    /// <summary>SHA-256 and write time of every file under gold/, by path relative to it.</summary>
    /// <summary>A gold file's table and band (<c>daily_metrics/2020</c>), or the report's own path.</summary>
    private static string Band(string relative) =>
        relative.EndsWith(".parquet", StringComparison.Ordinal)
            ? Path.Combine(Path.GetDirectoryName(relative)!, Path.GetFileName(relative)[..Path.GetFileName(relative).LastIndexOf('-')])
            : relative;

    private SortedDictionary<string, string> GoldFiles()
    {
        var root = Path.Combine(_dir, "gold");
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var f in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            files[Path.GetRelativePath(root, f)] = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))) + "@" + File.GetLastWriteTimeUtc(f).Ticks;
        }
        return files;
    }

    /// <summary>Same columns, same rows, every cell equal (doubles bit for bit: Parquet stores them exactly).</summary>
    private static void AssertSameRows(RecordBatch expected, RecordBatch actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        foreach (var field in expected.Schema.FieldsList)
        {
            var e = expected.Column(field.Name);
            var a = actual.Column(field.Name);
            for (var i = 0; i < expected.Length; i++)
            {
                Assert.True(Cell(e, i).Equals(Cell(a, i)), $"{field.Name} row {i}: expected {Cell(e, i)}, got {Cell(a, i)}");
            }
        }
    }

    private static object Cell(IArrowArray array, int i) => array switch
    {
        DoubleArray d => d.GetValue(i) is { } v ? BitConverter.DoubleToInt64Bits(v) : "null",
        Date32Array d => d.GetDateOnly(i)!.Value,
        Int64Array l => l.GetValue(i)!.Value,
        Int32Array n => n.GetValue(i)!.Value,
        StringArray s => s.GetString(i),
        _ => throw new NotSupportedException(array.Data.DataType.Name),
    };
}
