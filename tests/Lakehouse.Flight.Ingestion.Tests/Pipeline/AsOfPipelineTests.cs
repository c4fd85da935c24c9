using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Ingestion.Tests.Yahoo;
using Lakehouse.Flight.Ingestion.Yahoo;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Ingestion.Tests.Pipeline;

/// <summary>
/// The issue's history through the real write path (recorded Yahoo answers, the runner, gold after each write):
/// ingest, correct a bar, the ingestion that brings a dividend and back-adjusts every earlier adj_close, a vendor's
/// re-upload of a week. Reads as of each version and of instants between the commits return exactly that moment's
/// rows: those read right after it, and those DuckDB finds in the files the commit log names for that version.
/// </summary>
public sealed class AsOfPipelineTests : IDisposable
{
    private const string Aapl = "chart-AAPL-2020-08-31-to-2020-11-07.json";
    private readonly TempDir _temp = new("lakehouse-asof-pipeline");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task IngestCorrectDividendReupload_ReadsAtEachVersionAndInstant_AreThatMomentsRows()
    {
        await using var yahoo = await YahooTestServer.StartAsync(new Dictionary<string, YahooFixture> { ["AAPL"] = YahooFixture.Load(Aapl) });
        using var source = YahooPriceSource.Create(yahoo.Options());
        var store = LakeStore.Open(_temp.Path);
        var runner = new IngestionRunner(store, new LakeWriter(store, new Ingestion.Gold.GoldBuilder(store)), [source]);
        var moments = new List<(long Version, DateTimeOffset After, List<PriceBar> Rows)>();
        async Task Moment()
        {
            await Task.Delay(15);
            moments.Add((store.LatestVersion, DateTimeOffset.UtcNow, Bars(store, TableQuery.Create(symbols: ["AAPL"]))));
            await Task.Delay(15);
        }

        await runner.RunAsync(new IngestRequest("yahoo", ["AAPL"], new DateOnly(2020, 8, 31), new DateOnly(2020, 10, 15)));
        await Moment();
        var bad = moments[0].Rows.Single(b => b.Date == new DateOnly(2020, 9, 15));
        var fixedClose = Math.Round(bad.Close + 0.5, 2);
        await store.UpsertAsync([bad with { Close = fixedClose, High = Math.Max(bad.High, fixedClose) }]);
        await Moment();
        await runner.RunAsync(new IngestRequest("yahoo", ["AAPL"], new DateOnly(2020, 10, 16), new DateOnly(2020, 11, 6)));
        await Moment();
        var week = moments[2].Rows.Where(b => b.Date >= new DateOnly(2020, 10, 19) && b.Date <= new DateOnly(2020, 10, 23)).ToList();
        await store.LandAsync([.. week.Select(b => b with { Volume = b.Volume + 100, Source = "vendor_x" })], "vendor_x", promote: true);
        await Moment();

        // The history changed what matters: the corrected close, the back-adjusted adj_close, the re-uploaded volume.
        Assert.Equal(fixedClose, moments[1].Rows.Single(b => b.Date == bad.Date).Close);
        var dividend = store.Read(TableQuery.Create("silver", PriceTables.CorporateActionsName, ["AAPL"]))
            .SelectMany(CorporateActionBatches.ToActions).Single(a => a.Type == CorporateActionTypes.Dividend);
        Assert.NotEqual(moments[1].Rows[0].AdjClose, moments[2].Rows[0].AdjClose);
        Assert.True(moments[0].Rows[0].Date < dividend.Date);
        Assert.Equal(week.Select(b => b.Volume + 100), moments[3].Rows.Where(b => week.Any(w => w.Date == b.Date)).Select(b => b.Volume));

        foreach (var (version, after, rows) in moments)
        {
            Assert.Equal(rows, Bars(store, TableQuery.Create(symbols: ["AAPL"]).WithAsOf(ReadAsOf.AtVersion(version))));
            Assert.Equal(rows, Bars(store, TableQuery.Create(symbols: ["AAPL"]).WithAsOf(ReadAsOf.AtInstant(after))));
            Assert.Equal(rows.Select(Key), DuckDb(CommitLogFiles.Of(_temp.Path, version, "silver/prices_daily")));
        }
        // The re-upload audited: the week's five rows changed, volume and source old and new.
        var diff = store.Read(TableQuery.Create(symbols: ["AAPL"]).WithAsOf(ReadAsOf.AtVersion(moments[3].Version)).WithDiffFrom(moments[2].Version))
            .ToList();
        Assert.Equal(5, diff.Sum(b => b.Length));
    }

    private static List<PriceBar> Bars(LakeStore store, TableQuery query) => store.Read(query).SelectMany(PriceBarBatches.ToBars).ToList();

    private static string Key(PriceBar b) =>
        FormattableString.Invariant($"{b.Symbol}|{b.Date:yyyy-MM-dd}|{b.Open}|{b.High}|{b.Low}|{b.Close}|{b.AdjClose}|{b.Volume}|{b.Source}");

    private static List<string> DuckDb(List<string> files) =>
        [.. DuckDbGold.Run($"""
            SELECT symbol, date, open, high, low, close, adj_close, volume, source
            FROM read_parquet([{string.Join(", ", files.Select(f => $"'{f}'"))}]) WHERE symbol = 'AAPL' ORDER BY date
            """).Select(r => FormattableString.Invariant(
                $"{r["symbol"]}|{(DateOnly)r["date"]!:yyyy-MM-dd}|{r["open"]}|{r["high"]}|{r["low"]}|{r["close"]}|{r["adj_close"]}|{r["volume"]}|{r["source"]}"))];
}
