using System.Globalization;
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
}
