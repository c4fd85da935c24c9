using System.Globalization;
using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Storage.Tests;

/// <summary>The compactor merges overlapping files in windows of symbols, into files cut by symbol, rows unchanged.</summary>
public sealed class CompactionTests : IDisposable
{
    private readonly TempLake _lake = new();

    public void Dispose() => _lake.Dispose();

    [Fact]
    public async Task OverlappingFilesOfMoreThanAWindow_AreMergedIntoFilesCutBySymbol_RowsUnchanged()
    {
        // 1,000 symbols of one year in five commits whose symbols interleave: every file of the band spans the whole
        // alphabet (depth 5), and the band holds two windows' worth of rows.
        var symbols = Enumerable.Range(0, 1000).Select(i => "S" + i.ToString("D4", CultureInfo.InvariantCulture)).ToArray();
        var store = _lake.Open(cacheBytes: 0);
        for (var k = 0; k < 5; k++)
        {
            await store.UpsertAsync(TestBars.Generate(symbols.Where((_, i) => i % 5 == k), new DateOnly(2024, 1, 1), new DateOnly(2024, 12, 31)));
        }
        var before = BatchDump.Rows(store.Read(TableQuery.Create()));
        Assert.Equal(5, store.Metadata.Current.Table(PriceTables.Silver).Files.Count);

        var result = await store.CompactAsync(PriceTables.Silver);

        var files = store.Metadata.Current.Table(PriceTables.Silver).Files.Values.OrderBy(f => f.MinSymbol, StringComparer.Ordinal).ToList();
        Assert.Equal(5, result.FilesIn);
        Assert.Equal(files.Count, result.FilesOut);
        Assert.Equal(before.Count, result.Rows);
        Assert.True(files.Count >= 2, $"{files.Count} file(s) for {before.Count} rows");
        for (var i = 1; i < files.Count; i++)
        {
            Assert.True(string.CompareOrdinal(files[i].MinSymbol, files[i - 1].MaxSymbol) > 0,
                $"{files[i - 1].Name} ({files[i - 1].MinSymbol}..{files[i - 1].MaxSymbol}) overlaps {files[i].Name} ({files[i].MinSymbol}..)");
        }
        Assert.All(files, f => Assert.InRange(f.Rows, 1, FileSizing.TargetRows * 3 / 2));
        Assert.Equal(before.Count, files.Sum(f => f.Rows));
        Assert.Equal(before, BatchDump.Rows(store.Read(TableQuery.Create())));
        Assert.Equal(before, BatchDump.Rows(_lake.Open(cacheBytes: 0).Read(TableQuery.Create())));
        // Nothing left to merge.
        Assert.Equal(0, (await store.CompactAsync(PriceTables.Silver)).FilesIn);
    }

    [Fact]
    public async Task HotDays_TheNewestMonthsSmallFilesStayOutOfCompaction_SoADailyUpdateRewritesOnlyItsMonth()
    {
        var store = _lake.Open(cacheBytes: 0);
        var table = GoldTables.PricesMonthly;
        string[] symbols = ["H01", "H02", "H03"];
        // January to June 2024, a write each: six small files of one decade band.
        for (var m = 1; m <= 6; m++)
        {
            await store.WriteAsync([new TableWrite(table, Monthly(symbols, new DateOnly(2024, m, 1), close: m), "silver")]);
        }
        var first = Files(store);
        Assert.Equal(6, first.Count);
        var may = first.Single(f => f.MinDay == Day(new DateOnly(2024, 5, 1)));
        var june = first.Single(f => f.MinDay == Day(new DateOnly(2024, 6, 1)));

        // January to April merge (four small files); May and June lie within the band's newest 45 days: left alone.
        Assert.Equal(4, (await store.CompactAsync(table)).FilesIn);
        var compacted = Files(store);
        Assert.Equal(3, compacted.Count);
        Assert.Contains(compacted, f => f.Name == may.Name);
        Assert.Contains(compacted, f => f.Name == june.Name);

        // June's bars change with every trading day: the update rewrites June's small file, no other.
        await store.WriteAsync([new TableWrite(table, Monthly(symbols, new DateOnly(2024, 6, 1), close: 6.5), "silver")]);
        var updated = Files(store);
        Assert.Equal(compacted.Where(f => f.Name != june.Name).Select(f => f.Name).Order(StringComparer.Ordinal),
            updated.Where(f => f.MinDay < june.MinDay).Select(f => f.Name).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(updated, f => f.Name == june.Name);
        Assert.Equal(0, (await store.CompactAsync(table)).FilesIn);
        var closes = BatchDump.Rows(store.Read(TableQuery.Create("gold", GoldTables.PricesMonthlyName)));
        Assert.Equal(18, closes.Count);
        Assert.Equal(3, closes.Count(r => r.Contains($"|{june.MinDay}|6.5|", StringComparison.Ordinal)));

        // Once newer months land, the months that left the hot window merge like any small files.
        for (var m = 7; m <= 9; m++)
        {
            await store.WriteAsync([new TableWrite(table, Monthly(symbols, new DateOnly(2024, m, 1), close: m), "silver")]);
        }
        // Hot now: August and September. Merged: January-April's file, May, June and July.
        Assert.Equal(4, (await store.CompactAsync(table)).FilesIn);
        Assert.Equal(3, Files(store).Count);
        Assert.Equal(27, BatchDump.Rows(store.Read(TableQuery.Create("gold", GoldTables.PricesMonthlyName))).Count);
    }

    private static List<DataFile> Files(LakeStore store) => [.. store.Metadata.Current.Table(GoldTables.PricesMonthly).Files.Values];

    private static int Day(DateOnly date) => date.DayNumber - new DateOnly(1970, 1, 1).DayNumber;

    /// <summary>One monthly bar per symbol for <paramref name="month"/>, every price <paramref name="close"/>.</summary>
    private static RecordBatch Monthly(string[] symbols, DateOnly month, double close)
    {
        var prices = Enumerable.Range(0, 5).Select(_ => new DoubleArray.Builder().AppendRange(symbols.Select(_ => close)).Build()).ToArray();
        return new RecordBatch(GoldTables.PricesMonthlySchema,
        [
            new StringArray.Builder().AppendRange(symbols).Build(),
            new Date32Array.Builder().AppendRange(symbols.Select(_ => month.ToDateTime(TimeOnly.MinValue))).Build(),
            .. prices,
            new Int64Array.Builder().AppendRange(symbols.Select(_ => 1000L)).Build(),
            new Int32Array.Builder().AppendRange(symbols.Select(_ => 20)).Build(),
        ], symbols.Length);
    }
}
