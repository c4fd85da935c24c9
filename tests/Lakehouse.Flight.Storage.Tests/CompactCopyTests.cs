using System.Globalization;
using Apache.Arrow;
using DuckDB.NET.Data;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Storage.Tests;

/// <summary>
/// Compacted copies (docs/decisions.md D22): a read served from them equals the month files, a write
/// after compaction is never hidden by a stale copy, a damaged copy is never served, and a scan of a
/// lake larger than the cache stays within the cache's budget.
/// </summary>
public sealed class CompactCopyTests : IDisposable
{
    private static readonly string[] Universe = ["AAPL", "^GSPC", "EURUSD=X", "MSFT"];

    private readonly TempLake _lake = new();

    public void Dispose() => _lake.Dispose();

    private static IReadOnlyList<PriceBar> Bars(string from, string to, params string[] symbols) =>
        SyntheticSource.Generate(symbols, DateOnly.Parse(from, CultureInfo.InvariantCulture), DateOnly.Parse(to, CultureInfo.InvariantCulture));

    private PriceStore Open(long cacheBytes = 1L << 28, bool copies = true) =>
        PriceStore.Open(new StoreOptions { DataDir = _lake.Dir, CacheBytes = cacheBytes, UseCompactCopies = copies });

    /// <summary>The month files alone: no cache, no copies.</summary>
    private PriceStore Reference() => Open(cacheBytes: 0, copies: false);

    private static readonly PriceQuery[] Queries =
    [
        PriceQuery.Create(),
        PriceQuery.Create(symbols: ["AAPL"]),
        PriceQuery.Create(symbols: ["MSFT", "AAPL"], dateFrom: "2021-03-15", dateTo: "2022-08-03"),
        PriceQuery.Create(symbols: ["^GSPC"], dateFrom: "2022-02-01", dateTo: "2022-02-28", columns: ["date", "close"]),
        PriceQuery.Create(dateFrom: "2020-12-31", dateTo: "2021-01-04"),
    ];

    [Fact]
    public async Task Compact_ReadsFromCopies_EqualMonthFilesInValuesAndOrder()
    {
        var writer = Open();
        var bars = Bars("2020-01-01", "2022-12-31", Universe).ToList();
        bars[5] = bars[5] with { AdjClose = null };
        await writer.UpsertAsync(bars);

        var result = writer.Compact();

        Assert.Equal(Universe.Length, result.Rebuilt);
        Assert.Equal(bars.Count, result.Rows);
        var copyFile = Path.Combine(_lake.Dir, "_metadata", "compact", "silver_prices_daily", "symbol=%5EGSPC", "data.arrows");
        Assert.True(File.Exists(copyFile));
        // Nothing changed since: the next pass looks at no symbol.
        Assert.Equal(0, writer.Compact().Rebuilt);

        var reference = Reference();
        foreach (var cacheBytes in new[] { 1L << 28, 0L })
        {
            var store = Open(cacheBytes);
            foreach (var q in Queries)
            {
                Assert.Equal(Dump(reference.Read(q)), Dump(store.Read(q)));
            }
            Assert.True(store.Copies.Loaded > 0, $"cache {cacheBytes}: the copies were not used");
            Assert.Equal(0, store.Copies.Rejected);
        }
        // The warm-up reads one copy per symbol and no month file.
        var warmed = Open();
        Assert.Equal(Universe.Length * 36, warmed.Warm(PriceTables.Silver));
        Assert.Equal(Universe.Length, warmed.Copies.Loaded);
        Assert.Equal(Dump(reference.Read(PriceQuery.Create())), Dump(warmed.Read(PriceQuery.Create())));
        Assert.Equal(bars.Count, Dump(warmed.Read(PriceQuery.Create())).Count);
    }

    [Fact]
    public async Task WriteAfterCompaction_ReadSeesNewRows_CompactorRefreshesOnlyThatSymbol()
    {
        var server = Open();
        await server.UpsertAsync(Bars("2020-01-01", "2022-12-31", Universe));
        Assert.Equal(Universe.Length, server.Compact().Rebuilt);
        var reader = Open();
        Dump(reader.Read(PriceQuery.Create()));

        // Another process (the CLI beside the server) changes one month and adds one.
        var other = Open(cacheBytes: 0, copies: false);
        var changed = Bars("2021-06-01", "2021-06-30", "AAPL").Select(b => b with { Close = b.Close + 0.5, High = b.High + 0.5 }).ToList();
        await other.UpsertAsync(changed);
        await other.UpsertAsync(Bars("2023-01-01", "2023-01-31", "AAPL"));

        var reference = Reference();
        // A store opened now has the stale copy on disk: the changed month comes from its file.
        var fresh = Open();
        foreach (var q in Queries)
        {
            Assert.Equal(Dump(reference.Read(q)), Dump(fresh.Read(q)));
        }
        var june = Dump(fresh.Read(PriceQuery.Create(symbols: ["AAPL"], dateFrom: "2021-06-01", dateTo: "2021-06-30")));
        Assert.Equal(changed.Count, june.Count);
        // The running store sees the change through the manifests.
        Assert.Equal(Dump(reference.Read(PriceQuery.Create())), Dump(reader.Read(PriceQuery.Create())));

        // The compactor rewrites the one stale copy; its own later writes are picked up without a full check.
        var pass = server.Compact();
        Assert.Equal(1, pass.Rebuilt);
        await server.UpsertAsync(Bars("2023-02-01", "2023-02-28", "MSFT"));
        var next = server.Compact();
        Assert.Equal((1, 1), (next.Checked, next.Rebuilt));
        Assert.Equal((0, 0), (server.Compact().Checked, server.Compact().Rebuilt));

        var after = Open();
        foreach (var q in Queries)
        {
            Assert.Equal(Dump(Reference().Read(q)), Dump(after.Read(q)));
        }
        Assert.Equal(Universe.Length, after.Copies.Loaded);
        Assert.Equal(0, after.Copies.Rejected);
    }

    [Fact]
    public async Task WalkStamps_MonthRewrittenAfterOpen_NeverHiddenByTheCopy()
    {
        var writer = Open();
        await writer.UpsertAsync(Bars("2020-01-01", "2022-12-31", Universe));
        writer.Compact();
        // Opened after compaction and never read before the changes: every copy check uses the walk's stamps.
        var reader = Open();
        await reader.Ready;
        var silver = new TableId(PriceTables.Silver);
        foreach (var symbol in Universe)
        {
            var known = reader.Index.KnownStamps(silver, symbol, reader.Index.PartitionsOf(silver, symbol));
            Assert.NotNull(known);
            Assert.Equal(36, known.Length);
        }

        // Our own commit rewrites a month that exists (the partition set stays the same) ...
        var june = Bars("2021-06-01", "2021-06-30", "AAPL").Select(b => b with { Close = b.Close + 0.5, High = b.High + 0.5 }).ToList();
        await reader.UpsertAsync(june);
        // ... and another process another symbol's month, seen through the manifests at the next read.
        var march = Bars("2021-03-01", "2021-03-31", "MSFT").Select(b => b with { Volume = b.Volume + 7 }).ToList();
        await Open(cacheBytes: 0, copies: false).UpsertAsync(march);

        var reference = Reference();
        foreach (var q in Queries)
        {
            Assert.Equal(Dump(reference.Read(q)), Dump(reader.Read(q)));
        }
        Assert.Null(reader.Index.KnownStamps(silver, "AAPL", reader.Index.PartitionsOf(silver, "AAPL")));
        Assert.Null(reader.Index.KnownStamps(silver, "MSFT", reader.Index.PartitionsOf(silver, "MSFT")));
        Assert.NotNull(reader.Index.KnownStamps(silver, "^GSPC", reader.Index.PartitionsOf(silver, "^GSPC")));
        var aaplJune = Dump(reader.Read(PriceQuery.Create(symbols: ["AAPL"], dateFrom: "2021-06-01", dateTo: "2021-06-30", columns: ["close"])));
        Assert.Equal(june.Select(b => b.Close.ToString("R", CultureInfo.InvariantCulture)), aaplJune);
        Assert.True(reader.Copies.Loaded >= Universe.Length - 1, $"copies loaded: {reader.Copies.Loaded}");
        Assert.Equal(0, reader.Copies.Rejected);
    }

    [Theory]
    [InlineData("flip")]
    [InlineData("truncate")]
    [InlineData("garbage")]
    public async Task DamagedCopy_IsNeverServed_DeletedAndRebuilt(string damage)
    {
        var store = Open();
        await store.UpsertAsync(Bars("2021-01-01", "2022-12-31", Universe));
        store.Compact();
        var path = store.Paths.CompactFile(new TableId(PriceTables.Silver), "AAPL");
        var bytes = File.ReadAllBytes(path);
        switch (damage)
        {
            case "flip":
                // A price in the middle of the file: only the checksum can tell.
                bytes[bytes.Length / 2] ^= 0x40;
                File.WriteAllBytes(path, bytes);
                break;
            case "truncate":
                File.WriteAllBytes(path, bytes[..(bytes.Length * 2 / 3)]);
                break;
            default:
                File.WriteAllBytes(path, Enumerable.Repeat((byte)0x5A, bytes.Length).ToArray());
                break;
        }

        var reader = Open();
        var reference = Reference();
        foreach (var q in Queries)
        {
            Assert.Equal(Dump(reference.Read(q)), Dump(reader.Read(q)));
        }
        Assert.Equal(1, reader.Copies.Rejected);
        Assert.False(File.Exists(path));

        var pass = reader.Compact();
        Assert.Equal(1, pass.Rebuilt);
        var again = Open();
        Assert.Equal(Dump(reference.Read(PriceQuery.Create())), Dump(again.Read(PriceQuery.Create())));
        Assert.Equal(Universe.Length, again.Copies.Loaded);
        Assert.Equal(0, again.Copies.Rejected);
    }

    [Fact]
    public async Task CrashedCompaction_TempOfDeadProcessRemoved_CopyStillServed()
    {
        var store = Open();
        await store.UpsertAsync(Bars("2021-01-01", "2021-12-31", "AAPL"));
        store.Compact();
        var path = store.Paths.CompactFile(new TableId(PriceTables.Silver), "AAPL");
        // What a process killed between writing its temp file and renaming it leaves behind.
        var deadPid = 4_194_000;
        var temp = Path.Combine(Path.GetDirectoryName(path)!, $".tmp-{deadPid}-{Guid.NewGuid():N}-data.arrows.tmp");
        File.WriteAllBytes(temp, File.ReadAllBytes(path)[..100]);

        var next = Open();
        var pass = next.Compact();

        Assert.Equal(1, pass.TempsRemoved);
        Assert.False(File.Exists(temp));
        Assert.Equal(0, pass.Rebuilt);
        Assert.Equal(Dump(Reference().Read(PriceQuery.Create())), Dump(next.Read(PriceQuery.Create())));
        Assert.Equal(1, next.Copies.Loaded);
    }

    [Fact]
    public async Task MonthFilesReadByDuckDb_EqualStoreAfterCompaction()
    {
        var store = Open();
        await store.UpsertAsync(Bars("2020-06-01", "2022-06-30", Universe));
        store.Compact();
        await Open(cacheBytes: 0, copies: false).UpsertAsync(Bars("2021-03-01", "2021-03-31", "MSFT").Select(b => b with { Volume = b.Volume + 11 }).ToList());
        var reader = Open();

        var ours = Dump(reader.Read(PriceQuery.Create(columns: ["symbol", "date", "close", "adj_close", "volume"])));

        var duck = new List<string>();
        using (var conn = new DuckDBConnection("DataSource=:memory:"))
        {
            conn.Open();
            using var cmd = conn.CreateCommand();
            var glob = Path.Combine(_lake.Dir, "silver", "prices_daily", "**", "*.parquet").Replace('\\', '/');
            cmd.CommandText = $"""
                SELECT symbol, CAST(date - DATE '1970-01-01' AS INTEGER), close, adj_close, volume
                FROM read_parquet('{glob}', hive_partitioning = 1) ORDER BY symbol, date
                """;
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                duck.Add(string.Join('|', r.GetString(0), r.GetInt32(1).ToString(CultureInfo.InvariantCulture),
                    r.GetDouble(2).ToString("R", CultureInfo.InvariantCulture),
                    r.IsDBNull(3) ? "null" : r.GetDouble(3).ToString("R", CultureInfo.InvariantCulture),
                    r.GetInt64(4).ToString(CultureInfo.InvariantCulture)));
            }
        }

        Assert.True(reader.Copies.Loaded > 0);
        Assert.Equal(duck.Count, ours.Count);
        Assert.Equal(duck, ours);
    }

    [Fact]
    public async Task FullScan_LakeFourTimesTheBudget_EvictsNothing_LoadsTheRestForItself()
    {
        var (symbols, budget) = await CompactedLakeAsync("S");
        var expected = Dump(Reference().Read(PriceQuery.Create()));

        var store = Open(cacheBytes: budget);
        store.Warm(PriceTables.Silver);
        var table = new TableId(PriceTables.Silver);
        string[] Cached() => symbols.Where(s => store.Cache.Symbols.Contains(table, s)).ToArray();
        var warmed = Cached();
        Assert.InRange(warmed.Length, 1, symbols.Length / 2);
        string[] cached = [];
        long bytes = 0, scanLoaded = 0, copiesLoaded = 0;
        for (var scan = 1; scan <= 3; scan++)
        {
            var rows = new List<string>();
            foreach (var batch in store.Read(PriceQuery.Create()))
            {
                rows.AddRange(Dump([batch]));
                Assert.True(store.Cache.Bytes <= store.Cache.BudgetBytes, $"cache holds {store.Cache.Bytes} bytes, budget {store.Cache.BudgetBytes}");
            }

            Assert.Equal(expected, rows);
            // Nothing the warm-up put in is evicted (the first scan may add what fits below the warm-up mark).
            Assert.Subset(Cached().ToHashSet(), warmed.ToHashSet());
            if (scan == 1)
            {
                (cached, bytes, scanLoaded, copiesLoaded) = (Cached(), store.Cache.Bytes, store.Cache.ScanLoaded, store.Copies.Loaded);
                Assert.True(scanLoaded > 0);
                continue;
            }
            // From then on every scan serves the same symbols from the cache and loads the others for itself, once each.
            Assert.Equal(cached, Cached());
            Assert.Equal(bytes, store.Cache.Bytes);
            Assert.Equal(scanLoaded + ((scan - 1) * (symbols.Length - cached.Length)), store.Cache.ScanLoaded);
            Assert.Equal(copiesLoaded + ((scan - 1) * (symbols.Length - cached.Length)), store.Copies.Loaded);
        }

        // A read that fits the cache still builds entries (evicting as it must).
        var small = PriceQuery.Create(symbols: [symbols[^1]]);
        Assert.Equal(expected.Where(r => r.StartsWith(symbols[^1] + "|", StringComparison.Ordinal)), Dump(store.Read(small)));
        Assert.True(store.Cache.Symbols.Contains(table, symbols[^1]));
    }

    [Fact]
    public async Task FullScan_ColdServer_LakeLargerThanTheCache_FillsItsRoomWithoutEvicting()
    {
        var (symbols, budget) = await CompactedLakeAsync("C");
        var store = Open(cacheBytes: budget);
        var table = new TableId(PriceTables.Silver);

        var rows = Dump(store.Read(PriceQuery.Create()));

        Assert.Equal(Dump(Reference().Read(PriceQuery.Create())), rows);
        // Symbols of the scan fill the cache up to its warm-up mark and stay; the rest were the scan's own.
        var cached = symbols.Where(s => store.Cache.Symbols.Contains(table, s)).ToArray();
        Assert.InRange(cached.Length, 1, symbols.Length / 2);
        Assert.True(store.Cache.Bytes <= store.Cache.BudgetBytes * 9 / 10, $"{store.Cache.Bytes} of {store.Cache.BudgetBytes}");
        Assert.True(store.Cache.Bytes > store.Cache.BudgetBytes / 2, $"{store.Cache.Bytes} of {store.Cache.BudgetBytes}");
        Assert.Equal(symbols.Length - cached.Length, store.Cache.ScanLoaded);
        // Once full, the scan loads the rest in the layout that is freed young (not one meant to be kept).
        Assert.InRange(store.Cache.KeptLayoutMisses, 0, Environment.ProcessorCount);
    }

    /// <summary>24 symbols x 4 years, compacted; the budget a quarter of what the whole lake takes in the cache.</summary>
    private async Task<(string[] Symbols, long QuarterBudget)> CompactedLakeAsync(string prefix)
    {
        var symbols = Enumerable.Range(0, 24).Select(i => prefix + i.ToString("D2", CultureInfo.InvariantCulture)).ToArray();
        var writer = Open();
        await writer.UpsertAsync(Bars("2019-01-01", "2022-12-31", symbols));
        writer.Compact();
        var everything = Open();
        everything.Warm(PriceTables.Silver);
        return (symbols, everything.Cache.Bytes / 4);
    }

    [Fact]
    public async Task FileStamps_NativeStat_EqualsFileInfo()
    {
        var store = Open();
        await store.UpsertAsync(Bars("2021-11-01", "2022-02-28", "AAPL"));
        var table = new TableId(PriceTables.Silver);
        var months = new[] { (2021, 11), (2021, 12), (2022, 1), (2022, 2), (2022, 3) };

        var stamps = FileStamps.OfMonths(store.Paths.SymbolDir(table, "AAPL"), Partitioning.SymbolYearMonth, months);

        for (var i = 0; i < months.Length; i++)
        {
            var info = new FileInfo(store.Paths.PartitionFile(table, new PartitionKey("AAPL", months[i].Item1, months[i].Item2)));
            var expected = info.Exists ? new FileStamp(info.Length, info.LastWriteTimeUtc) : default;
            Assert.Equal(expected, stamps[i]);
            Assert.Equal(expected, FileStamp.Of(info.FullName));
        }
        Assert.Equal(default, stamps[^1]);
        Assert.NotEqual(default, stamps[0]);
        Assert.All(FileStamps.OfMonths(store.Paths.SymbolDir(table, "NOPE"), Partitioning.SymbolYearMonth, months), s => Assert.Equal(default, s));
    }

    private static List<string> Dump(IEnumerable<RecordBatch> batches) => BatchDump.Rows(batches);
}
