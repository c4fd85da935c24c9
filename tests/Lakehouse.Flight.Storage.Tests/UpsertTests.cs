using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Storage.Tests;

public sealed class UpsertTests : IDisposable
{
    private readonly TempLake _lake = new();

    public void Dispose() => _lake.Dispose();

    private static IReadOnlyList<PriceBar> Q1(params string[] symbols) =>
        TestBars.Generate(symbols, new DateOnly(2024, 1, 1), new DateOnly(2024, 3, 31));

    [Fact]
    public async Task Upsert_SameRangeTwice_SecondIsAllUnchanged()
    {
        var store = _lake.Open();
        var bars = Q1("AAPL");

        var first = Assert.Single(await store.UpsertAsync(bars));
        var second = Assert.Single(await store.UpsertAsync(bars));

        Assert.Equal(bars.Count, first.Inserted);
        Assert.Equal((0L, 0L, 0L), (first.Updated, first.Unchanged, first.Rejected));
        Assert.Equal((0L, 0L, (long)bars.Count), (second.Inserted, second.Updated, second.Unchanged));
        Assert.Equal(bars.Count, second.Rows);
        Assert.Equal("2024-01-01", first.DateFrom);
        Assert.Equal("2024-03-29", first.DateTo);
    }

    [Fact]
    public async Task ManySymbolsNewDays_InNoOrder_WithCorrectionsAmongThem_LandInTableOrderAndCounted()
    {
        // 100 symbols (staged on all cores, new days as ranges of the write), written in descending order, every tenth also
        // correcting a January bar (an update between the ranges).
        var store = _lake.Open();
        var symbols = Enumerable.Range(1, 100).Select(i => $"S{i:D3}").ToArray();
        await store.UpsertAsync(TestBars.Generate(symbols, new DateOnly(2024, 1, 1), new DateOnly(2024, 1, 31)));
        var day = new DateOnly(2024, 2, 1);
        var jan15 = new DateOnly(2024, 1, 15);
        var bars = new List<PriceBar>();
        foreach (var (symbol, i) in symbols.Select((s, i) => (s, i)).Reverse())
        {
            if (i % 10 == 0)
            {
                var bar = TestBars.Bar(symbol, jan15);
                bars.Add(bar with { Close = bar.Close + 1, High = bar.High + 1, AdjClose = bar.Close + 1 });
            }
            bars.Add(TestBars.Bar(symbol, day));
        }

        var reports = await store.UpsertAsync(bars);

        // (A write's rows are put in symbol order before they are staged.)
        Assert.Equal(symbols, reports.Select(r => r.Symbol));
        foreach (var (r, i) in reports.Select((r, k) => (r, k)))
        {
            Assert.Equal((1L, i % 10 == 0 ? 1L : 0L, 0L), (r.Inserted, r.Updated, r.Unchanged));
        }
        // Every file of the table folder is in table order (symbol, then date; one row per key), and holds what a read returns.
        var files = LakeFolder.Files(_lake.Dir, PriceTables.Silver);
        foreach (var file in files)
        {
            var rows = PriceBarBatches.ToBars(SegmentFiles.ReadAll(file, PriceTables.Silver)).ToList();
            Assert.Equal(rows.OrderBy(b => b.Symbol, StringComparer.Ordinal).ThenBy(b => b.Date).Select(b => (b.Symbol, b.Date)), rows.Select(b => (b.Symbol, b.Date)));
            Assert.Equal(rows.Count, rows.Select(b => (b.Symbol, b.Date)).Distinct().Count());
        }
        var fresh = LakeStore.Open(_lake.Dir);
        foreach (var (symbol, i) in symbols.Select((s, i) => (s, i)))
        {
            var read = Read(fresh, TableQuery.Create(symbols: [symbol]));
            Assert.Equal(TestBars.Generate([symbol], new DateOnly(2024, 1, 1), day).Select(b => b.Date), read.Select(b => b.Date));
            Assert.Equal(TestBars.Bar(symbol, jan15).Close + (i % 10 == 0 ? 1 : 0), read.Single(b => b.Date == jan15).Close);
        }
        Assert.Equal(100 * 24, LakeFolder.Bars(_lake.Dir, PriceTables.Silver).Count);
    }

    [Fact]
    public async Task Upsert_OneChangedClose_CountsOneUpdateAndReadsNewValue()
    {
        var store = _lake.Open();
        var bars = Q1("AAPL").ToList();
        await store.UpsertAsync(bars);
        var target = bars[10];
        bars[10] = target with { Close = target.Close + 0.01, High = Math.Max(target.High, target.Close + 0.01) };

        var report = Assert.Single(await store.UpsertAsync(bars));

        Assert.Equal((0L, 1L, (long)bars.Count - 1), (report.Inserted, report.Updated, report.Unchanged));
        var read = Read(LakeStore.Open(_lake.Dir), TableQuery.Create(symbols: ["AAPL"], dateFrom: $"{target.Date:yyyy-MM-dd}", dateTo: $"{target.Date:yyyy-MM-dd}"));
        Assert.Equal(target.Close + 0.01, Assert.Single(read).Close);
    }

    [Fact]
    public async Task Upsert_WritesOneSortedFileOfTheYear_LinkedIntoTheTableFolder()
    {
        var store = _lake.Open();

        await store.UpsertAsync(Q1("AAPL", "^GSPC", "EURUSD=X"));

        // One file for the 2024 band, sorted by symbol (ordinal) then date, in the folder and in the file store.
        var file = Assert.Single(LakeFolder.Files(_lake.Dir, PriceTables.Silver));
        Assert.Matches("^2024-[0-9a-f]{16}\\.parquet$", Path.GetFileName(file));
        Assert.True(File.Exists(Path.Combine(_lake.Dir, "_metadata", "data", "silver", "prices_daily", Path.GetFileName(file))));
        var bars = LakeFolder.Bars(_lake.Dir, PriceTables.Silver);
        Assert.Equal(Q1("AAPL", "^GSPC", "EURUSD=X").Count, bars.Count);
        Assert.Equal(bars.OrderBy(b => b.Symbol, StringComparer.Ordinal).ThenBy(b => b.Date).Select(b => (b.Symbol, b.Date)),
            bars.Select(b => (b.Symbol, b.Date)));
        Assert.Equal(["AAPL", "EURUSD=X", "^GSPC"], bars.Select(b => b.Symbol).Distinct());
        var manifest = File.ReadAllLines(Path.Combine(_lake.Dir, "_metadata", "manifests", "silver_prices_daily.jsonl"));
        Assert.Equal(3, manifest.Length);
        Assert.Contains("\"symbol\":\"^GSPC\"", manifest[0] + manifest[1] + manifest[2]);
        Assert.All(manifest, line => Assert.Contains("\"version\":1", line));
    }

    [Fact]
    public async Task Land_SeveralSymbolsInOneWrite_BronzeFileIsSortedBySymbolThenDate()
    {
        var store = _lake.Open();

        // Bronze (append, per source) and corporate actions (a three-column key) are sorted by a merge, not just concatenated.
        await store.LandAsync(Q1("MSFT", "AAPL", "^GSPC"), "vendor_x", promote: false);

        var rows = LakeFolder.Bars(_lake.Dir, PriceTables.Bronze);
        Assert.Equal(Q1("MSFT", "AAPL", "^GSPC").Count, rows.Count);
        Assert.Equal(rows.OrderBy(b => b.Symbol, StringComparer.Ordinal).ThenBy(b => b.Date).Select(b => (b.Symbol, b.Date)),
            rows.Select(b => (b.Symbol, b.Date)));
        var file = Assert.Single(LakeFolder.Files(_lake.Dir, PriceTables.Bronze));
        Assert.Equal(["AAPL", "MSFT", "^GSPC"], Internal.SegmentFiles.ReadDirectory(file).Symbols);
    }

    [Fact]
    public async Task Upsert_InvalidRows_AreRejectedWithReasonAndOthersLand()
    {
        var store = _lake.Open();
        var bars = Q1("MSFT").Take(5).ToList();
        bars[1] = bars[1] with { Low = bars[1].High + 1 };
        bars[2] = bars[2] with { Close = double.NaN };
        bars[3] = bars[3] with { Volume = -1 };

        var report = Assert.Single(await store.UpsertAsync(bars));

        Assert.Equal((2L, 3L), (report.Inserted, report.Rejected));
        Assert.NotNull(report.RejectReasons);
        Assert.Contains(report.RejectReasons!, r => r.Contains("low", StringComparison.Ordinal));
        Assert.Contains(report.RejectReasons!, r => r.Contains("volume", StringComparison.Ordinal));
        Assert.Equal(2, Read(store, TableQuery.Create(symbols: ["MSFT"])).Count);
    }

    [Fact]
    public async Task Upsert_DuplicateKeyInBatch_IsRefusedAndNothingWritten()
    {
        var store = _lake.Open();
        var bars = Q1("MSFT").Take(3).ToList();
        bars.Add(bars[0]);

        var ex = await Assert.ThrowsAsync<LakehouseException>(() => store.UpsertAsync(bars));

        Assert.Equal(LakehouseErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains("duplicate key (MSFT, 2024-01-01)", ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_lake.Dir, "silver")));
    }

    [Fact]
    public async Task Upsert_RowsOfASymbolApartAndOutOfOrder_AreOneSymbolsRows_AndARepeatAcrossThemIsRefused()
    {
        var store = _lake.Open();
        var msft = Q1("MSFT").Take(6).ToList();
        var ibm = Q1("IBM").Take(2).ToList();
        // MSFT's rows in two stretches around IBM's, the second stretch before the first in time.
        List<PriceBar> bars = [.. msft.Skip(3), .. ibm, .. msft.Take(3)];

        var reports = await store.UpsertAsync(bars);

        Assert.Equal([("IBM", 2L), ("MSFT", 6L)], reports.Select(r => (r.Symbol, r.Inserted)));
        Assert.Equal(msft.Select(b => b.Date), Read(store, TableQuery.Create(symbols: ["MSFT"])).Select(b => b.Date));
        var repeated = new List<PriceBar>([.. msft.Skip(3), .. ibm, msft[4] with { Close = msft[4].Close + 1, High = msft[4].High + 1 }]);
        var ex = await Assert.ThrowsAsync<LakehouseException>(() => store.UpsertAsync(repeated));
        Assert.Contains($"duplicate key (MSFT, {msft[4].Date:yyyy-MM-dd})", ex.Message, StringComparison.Ordinal);
        Assert.Equal(msft.Select(b => b.Close), Read(store, TableQuery.Create(symbols: ["MSFT"])).Select(b => b.Close));
    }

    [Theory]
    [InlineData("../../etc")]
    [InlineData("A/B")]
    [InlineData("..")]
    [InlineData("A B")]
    [InlineData("")]
    public async Task Upsert_PathLikeSymbol_IsRefusedBeforeAnyPath(string symbol)
    {
        var store = _lake.Open();
        var bar = Q1("X")[0] with { Symbol = symbol };

        var ex = await Assert.ThrowsAsync<LakehouseException>(() => store.UpsertAsync([bar]));

        Assert.Equal(LakehouseErrorKind.InvalidArgument, ex.Kind);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_lake.Dir, "*.parquet", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Read_RangeAndProjection_ReturnsOrderedRowsOfThoseColumns()
    {
        var store = _lake.Open();
        var bars = Q1("MSFT", "AAPL");
        await store.UpsertAsync(bars);

        var query = TableQuery.Create(symbols: ["msft", "AAPL"], dateFrom: "2024-01-15", dateTo: "2024-02-20", columns: ["date", "close", "symbol"]);
        var batches = store.Read(query).ToList();

        Assert.All(batches, b => Assert.Equal(["date", "close", "symbol"], b.Schema.FieldsList.Select(f => f.Name)));
        var rows = batches.SelectMany(b => Enumerable.Range(0, b.Length).Select(i => (
            Symbol: ((StringArray)b.Column(2)).GetString(i),
            Date: ((Date32Array)b.Column(0)).GetDateOnly(i)!.Value,
            Close: ((DoubleArray)b.Column(1)).GetValue(i)!.Value))).ToList();
        var expected = bars.Where(b => b.Date >= new DateOnly(2024, 1, 15) && b.Date <= new DateOnly(2024, 2, 20))
            .OrderBy(b => b.Symbol, StringComparer.Ordinal).ThenBy(b => b.Date).Select(b => (b.Symbol, b.Date, b.Close)).ToList();
        Assert.Equal(expected, rows);
    }

    [Fact]
    public async Task Read_FreshProcessView_SeesSameRowsAsWriter()
    {
        var writer = _lake.Open();
        var bars = Q1("AAPL");
        await writer.UpsertAsync(bars);

        var reader = LakeStore.Open(_lake.Dir);
        var read = Read(reader, TableQuery.Create(symbols: ["AAPL"]));

        Assert.Equal(bars.Select(b => (b.Date, b.Open, b.High, b.Low, b.Close, b.AdjClose, b.Volume)),
            read.Select(b => (b.Date, b.Open, b.High, b.Low, b.Close, b.AdjClose, b.Volume)));
        Assert.All(read, b => Assert.Equal("synthetic", b.Source));
    }

    internal static List<PriceBar> Read(LakeStore store, TableQuery query) =>
        store.Read(query).SelectMany(PriceBarBatches.ToBars).ToList();
}
