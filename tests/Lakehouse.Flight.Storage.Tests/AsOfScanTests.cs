using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Storage.Tests;

/// <summary>
/// A large read at an older version decodes the row groups it needs ahead, side by side, into no cache (docs/decisions.md
/// D38): it must return exactly the rows that version had (what a read returned while it was current), in order, with
/// date filters, symbols, limits and batch sizes, merge runs whose dates interleave, and leave the caches as they were.
/// </summary>
public sealed class AsOfScanTests : IDisposable
{
    private static readonly DateOnly From = new(2022, 1, 1);
    private static readonly DateOnly To = new(2025, 12, 31);

    /// <summary>A cache whose run slice (1/32) holds far less than the old version's ~150K rows: those reads are decoded ahead.</summary>
    private const long SmallCache = 64L << 20;

    private readonly TempLake _lake = new();

    public void Dispose() => _lake.Dispose();

    private static string[] Universe => [.. Enumerable.Range(0, 150).Select(i => $"S{i:D3}")];

    /// <summary>
    /// 150 symbols x 4 years (a file of ~38K rows per year: 3 row groups each), loaded without every 9th day, which a
    /// second commit inserts (a small file per year whose dates interleave with the first's). Returns that version and
    /// its rows as read while current.
    /// </summary>
    private static async Task<(long Version, List<PriceBar> Rows)> OldVersionAsync(LakeStore store)
    {
        var bars = TestBars.Generate(Universe, From, To);
        await store.UpsertAsync([.. bars.Where(b => b.Date.DayNumber % 9 != 0)]);
        await store.UpsertAsync([.. bars.Where(b => b.Date.DayNumber % 9 == 0)]);
        var version = store.LatestVersion;
        var rows = VersionReadTests.ReadAll(store, TableQuery.Create());
        Assert.Equal(bars.Count, rows.Count);
        // Then history is rewritten: every 2023 close corrected, and a new year appended.
        await store.UpsertAsync([.. bars.Where(b => b.Date.Year == 2023).Select(b => b with { Close = b.Low, AdjClose = b.Low })]);
        await store.UpsertAsync(TestBars.Generate(Universe, new DateOnly(2026, 1, 1), new DateOnly(2026, 1, 31)));
        return (version, rows);
    }

    [Fact]
    public async Task ScanAtAnOldVersion_DecodedAhead_ReturnsThatVersionsRowsInOrder_AndLeavesTheCachesAsTheyWere()
    {
        var (version, rows) = await OldVersionAsync(_lake.Open());
        var store = LakeStore.Open(new StoreOptions { DataDir = _lake.Dir, TargetBatchRows = 1000, CacheBytes = SmallCache });
        await store.WaitReadyAsync();
        var asOf = ReadAsOf.AtVersion(version);
        var before = (store.Cache.Runs.Count, store.Cache.Groups.Count, store.Cache.Bytes);

        var batches = store.Read(TableQuery.Create().WithAsOf(asOf)).ToList();

        Assert.Equal(rows, batches.SelectMany(PriceBarBatches.ToBars).ToList());
        Assert.All(batches, b => Assert.InRange(b.Length, 1, 1000));
        // Nothing decoded went into the caches (a read by runs keeps each run it decoded).
        Assert.Equal(before, (store.Cache.Runs.Count, store.Cache.Groups.Count, store.Cache.Bytes));
        // The current version is another: the old rows are not what a current read sees.
        Assert.NotEqual(rows.Count, VersionReadTests.ReadAll(store, TableQuery.Create()).Count);
    }

    [Fact]
    public async Task ScanAVersionBack_AfterACorrectionRewroteAYearsFile_ServesTheOtherYearsAsCurrentRows_AndThatYearAsItWas()
    {
        var store = _lake.Open();
        var bars = TestBars.Generate(Universe, From, To);
        await store.UpsertAsync(bars);
        var version = store.LatestVersion;
        var before = VersionReadTests.ReadAll(store, TableQuery.Create());
        // One symbol's closes of 2024 corrected: the 2024 file is rewritten (every symbol's 2024 run is a new file's), the
        // other years' files stay: their runs are the current version's.
        await store.UpsertAsync([.. bars.Where(b => b.Symbol == "S007" && b.Date.Year == 2024).Select(b => b with { Close = b.Low, AdjClose = b.Low })]);
        var fresh = LakeStore.Open(new StoreOptions { DataDir = _lake.Dir, TargetBatchRows = 4096, CacheBytes = SmallCache });
        await fresh.WaitReadyAsync();

        var old = VersionReadTests.ReadAll(fresh, TableQuery.Create().WithAsOf(ReadAsOf.AtVersion(version)));
        var window = VersionReadTests.ReadAll(fresh, TableQuery.Create(symbols: ["S006", "S007"], dateFrom: "2023-12-04", dateTo: "2024-02-29")
            .WithAsOf(ReadAsOf.AtVersion(version)));

        Assert.Equal(before, old);
        Assert.Equal(before.Where(r => r.Symbol is "S006" or "S007" && r.Date >= new DateOnly(2023, 12, 4) && r.Date <= new DateOnly(2024, 2, 29)), window);
        Assert.Contains(window, r => r.Symbol == "S007" && r.Close != r.Low);
        // Every symbol of the scan and of the window (December 2023 is shared) shared runs with the current version (2022,
        // 2023, 2025; not 2024's).
        Assert.Equal(Universe.Length + 2, fresh.AsOfSymbolsSharingCurrent);
        Assert.NotEqual(before, VersionReadTests.ReadAll(fresh, TableQuery.Create()));
    }

    [Fact]
    public async Task ReadsAtAnOldVersion_WithDatesSymbolsAndALimit_ReturnThoseRowsOfThatVersion()
    {
        var (version, rows) = await OldVersionAsync(_lake.Open());
        var store = LakeStore.Open(new StoreOptions { DataDir = _lake.Dir, TargetBatchRows = 4096, CacheBytes = SmallCache });
        await store.WaitReadyAsync();
        var asOf = ReadAsOf.AtVersion(version);
        string[] some = [.. Universe.Where((_, i) => i % 3 == 0)];

        var window = VersionReadTests.ReadAll(store, TableQuery.Create(symbols: some, dateFrom: "2023-03-01", dateTo: "2024-06-30").WithAsOf(asOf));
        var limited = VersionReadTests.ReadAll(store, TableQuery.Create(limit: 12345).WithAsOf(asOf));

        Assert.Equal(rows.Where(r => some.Contains(r.Symbol) && r.Date >= new DateOnly(2023, 3, 1) && r.Date <= new DateOnly(2024, 6, 30)), window);
        Assert.Equal(rows.Take(12345), limited);
        // A 2023 close as that version had it, not the correction after it.
        Assert.Contains(window, r => r.Date.Year == 2023 && r.Close != r.Low);
    }

    [Fact]
    public async Task StreamAtAnOldVersion_LeftAfterItsFirstBatch_StopsItsDecodes()
    {
        var (version, rows) = await OldVersionAsync(_lake.Open());
        var store = LakeStore.Open(new StoreOptions { DataDir = _lake.Dir, TargetBatchRows = 500, CacheBytes = SmallCache });
        await store.WaitReadyAsync();

        using (var stream = store.Read(TableQuery.Create().WithAsOf(ReadAsOf.AtVersion(version))).GetEnumerator())
        {
            Assert.True(stream.MoveNext());
            Assert.Equal(rows.Take(500), PriceBarBatches.ToBars(stream.Current));
        }
        using var cancelled = new CancellationTokenSource();
        var read = store.Read(TableQuery.Create().WithAsOf(ReadAsOf.AtVersion(version)), cancelled.Token);
        var seen = 0;
        Assert.ThrowsAny<OperationCanceledException>(() =>
        {
            foreach (var batch in read)
            {
                seen += batch.Length;
                cancelled.Cancel();
            }
        });
        // Cancellation is checked between symbols: the stream ends within the symbol it was in, long before its end.
        Assert.InRange(seen, 500, 1500);
    }
}
