using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Storage.Tests;

public sealed class LakeLifecycleTests : IDisposable
{
    private readonly TempLake _lake = new();

    public void Dispose() => _lake.Dispose();

    private static IReadOnlyList<PriceBar> Jan(params string[] symbols) =>
        TestBars.Generate(symbols, new DateOnly(2024, 1, 1), new DateOnly(2024, 1, 31));

    [Fact]
    public async Task Land_SameRecordsTwice_AddsNothingToBronze()
    {
        var store = _lake.Open();
        var bars = Jan("AAPL");

        var first = await store.LandAsync(bars, "vendor_x", promote: false);
        var second = await store.LandAsync(bars, "vendor_x", promote: false);

        Assert.Equal(bars.Count, Assert.Single(first).Inserted);
        var again = Assert.Single(second);
        Assert.Equal((0L, (long)bars.Count), (again.Inserted, again.Unchanged));
        Assert.Equal("bronze", again.Layer);
        var raw = store.Read(TableQuery.Create("bronze", symbols: ["AAPL"])).Sum(b => b.Length);
        Assert.Equal(bars.Count, raw);
        Assert.False(Directory.Exists(Path.Combine(_lake.Dir, "silver")));
    }

    [Fact]
    public async Task Open_AgainAndAgain_AppendsNoManifestLineTwice_AndRestoresExactlyTheLinesACrashCut()
    {
        // Entry 1 is small; entry 2 writes 15,000 lines (~5 MB) after it, so entry 1's lines are far from the end.
        var store = _lake.Open();
        await store.UpsertAsync(Jan("AAPL"));
        var many = Enumerable.Range(0, 15_000).Select(i => Jan($"S{i:D5}")[0]).ToArray();
        await store.UpsertAsync(many);
        var manifest = Path.Combine(_lake.Dir, "_metadata", "manifests", "silver_prices_daily.jsonl");
        var written = await File.ReadAllLinesAsync(manifest);
        Assert.Equal(15_001, written.Length);
        Assert.True(new FileInfo(manifest).Length > 4 << 20);

        // Each commit recorded that every entry up to its own has its lines; without that record, each reopen's repair
        // compares both entries with the manifests, and appends nothing.
        var through = Path.Combine(_lake.Dir, "_metadata", "log", "_manifests_through");
        Assert.Equal("2", await File.ReadAllTextAsync(through));
        for (var i = 0; i < 3; i++)
        {
            File.Delete(through);
            var reopened = _lake.Open();
            await reopened.Housekeeping;
            Assert.Empty(reopened.RecoveredCommits());
            // The repair recorded what it checked.
            Assert.Equal("2", await File.ReadAllTextAsync(through));
        }
        Assert.Equal(written, await File.ReadAllLinesAsync(manifest));

        // A writer killed while appending entry 2's lines: the last 10 lines (and half of one) never reached the file.
        // No repair can have found entry 2 complete before such a crash (it would have waited for the writer's locks), so
        // the lake it leaves has no record past 1.
        await File.WriteAllTextAsync(through, "1");
        var cut = string.Join('\n', written[..^10]) + "\n" + written[^10][..40];
        await File.WriteAllTextAsync(manifest, cut);
        var repaired = _lake.Open();
        await repaired.Housekeeping;

        Assert.Equal(written.Order(StringComparer.Ordinal), (await File.ReadAllLinesAsync(manifest)).Order(StringComparer.Ordinal));
        Assert.Equal([2L], repaired.RecoveredCommits().Select(c => c.Reports[0].Version ?? 0));
        Assert.Equal("2", await File.ReadAllTextAsync(through));
    }

    [Fact]
    public void RecordOfCompleteManifests_MovesPastCommitsThatFinishOutOfOrder_AndWaitsAtAGap()
    {
        var dir = Path.Combine(_lake.Dir, "_metadata", "log");
        Directory.CreateDirectory(dir);
        var log = new LakeLog(dir);
        log.WriteManifestsThrough(4);

        // 6 and 7 finish before 5 (a compaction's commit between another commit's point and its lines): the record waits.
        log.AdvanceManifestsThrough(6);
        log.AdvanceManifestsThrough(7);
        Assert.Equal(4, log.ManifestsThrough());
        log.AdvanceManifestsThrough(5);
        Assert.Equal(7, log.ManifestsThrough());
        // 9 without 8 (a commit whose lines failed: a repair appends them): the record stays at 7.
        log.AdvanceManifestsThrough(9);
        Assert.Equal(7, log.ManifestsThrough());
        // A record moved by a repair past what waited here: the next commit moves on from there.
        log.RepairedManifestsThrough(9, wasAhead: false);
        log.AdvanceManifestsThrough(10);
        Assert.Equal(10, log.ManifestsThrough());
        // A repair that started before commits 11 and 12 finished writes what it saw (10), not less than they recorded.
        log.AdvanceManifestsThrough(11);
        log.AdvanceManifestsThrough(12);
        log.RepairedManifestsThrough(10, wasAhead: false);
        Assert.Equal(12, log.ManifestsThrough());
        // A record lowered anyway (another process's repair, an older build): this process goes on from what it recorded.
        log.WriteManifestsThrough(10);
        log.AdvanceManifestsThrough(13);
        Assert.Equal(13, log.ManifestsThrough());
        // A record ahead of the log (a lake copied while written), found by a repair, is rewritten to what it checked.
        log.WriteManifestsThrough(40);
        log.RepairedManifestsThrough(13, wasAhead: true);
        Assert.Equal(13, log.ManifestsThrough());
    }

    [Fact]
    public async Task WritesOfSeveralTablesAndCompactions_AtOnce_LeaveTheRecordAtTheLatestVersion()
    {
        var store = _lake.Open();
        // Different tables commit under different locks: their commits and their manifest lines interleave.
        var writes = Enumerable.Range(0, 12).Select(i => Task.Run(async () =>
        {
            var bars = Jan($"W{i:D2}");
            var batch = PriceBarBatches.ToBatch(bars);
            await store.WriteAsync([new TableWrite(i % 2 == 0 ? PriceTables.Silver : PriceTables.Bronze, batch, "vendor")]);
            store.Compact();
        }));
        await Task.WhenAll(writes);
        await store.Housekeeping;

        var log = new LakeLog(Path.Combine(_lake.Dir, "_metadata", "log"));
        Assert.Equal(log.VersionsAfter(0).Max(), log.ManifestsThrough());
    }

    [Fact]
    public async Task Open_WithARecordOfCompleteManifestsAheadOfTheLog_ChecksFromTheCheckpointAndRewritesIt()
    {
        // A lake copied while it was written: the record names a version its log does not have, and a line is missing.
        var store = _lake.Open();
        await store.UpsertAsync(Jan("AAPL"));
        await store.UpsertAsync(Jan("MSFT"));
        var manifest = Path.Combine(_lake.Dir, "_metadata", "manifests", "silver_prices_daily.jsonl");
        var written = await File.ReadAllLinesAsync(manifest);
        await File.WriteAllTextAsync(manifest, written[0] + "\n");
        var through = Path.Combine(_lake.Dir, "_metadata", "log", "_manifests_through");
        await File.WriteAllTextAsync(through, "40");

        var repaired = _lake.Open();
        await repaired.Housekeeping;

        Assert.Equal(written, await File.ReadAllLinesAsync(manifest));
        Assert.Equal("2", await File.ReadAllTextAsync(through));
    }

    [Fact]
    public async Task Open_AfterManyCommitsWithoutACheckpoint_WritesOne_SoTheNextOpenReadsFewEntries()
    {
        var store = _lake.Open();
        for (var i = 0; i < 120; i++)
        {
            await store.UpsertAsync(Jan($"C{i:D3}"));
        }
        await store.Housekeeping;
        // What a process that exits right after its commits leaves (its background checkpoint never ran).
        var logDir = Path.Combine(_lake.Dir, "_metadata", "log");
        foreach (var f in Directory.GetFiles(logDir).Where(f => Path.GetFileName(f).Contains("checkpoint", StringComparison.Ordinal)))
        {
            File.Delete(f);
        }
        Assert.DoesNotContain(Directory.GetFiles(logDir), f => f.Contains("checkpoint", StringComparison.Ordinal));

        var reopened = _lake.Open();

        Assert.Equal(120, reopened.Version);
        Assert.True(File.Exists(Path.Combine(logDir, "00000000000000000120.checkpoint.json")));
        Assert.Equal(120 * 23, UpsertTests.Read(_lake.Open(), TableQuery.Create()).Count);
        Assert.Equal(120, reopened.ReadManifest(PriceTables.Silver, limit: 1000).Count);
    }

    [Fact]
    public async Task Open_AfterTornManifestLine_ReadersSkipItAndNextAppendStartsClean()
    {
        var store = _lake.Open();
        await store.UpsertAsync(Jan("AAPL"));
        var manifest = Path.Combine(_lake.Dir, "_metadata", "manifests", "silver_prices_daily.jsonl");
        await File.AppendAllTextAsync(manifest, "{\"run_id\":\"torn\",\"ts\":\"2026-");

        var reopened = _lake.Open();
        await reopened.UpsertAsync(Jan("MSFT"));
        var lines = reopened.ReadManifest(PriceTables.Silver);

        Assert.Equal(["AAPL", "MSFT"], lines.Select(l => l.Symbol));
        Assert.EndsWith("\n", await File.ReadAllTextAsync(manifest), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_WithStaleFilesOfDeadWriters_DeletesThemButKeepsData()
    {
        var store = _lake.Open();
        await store.UpsertAsync(Jan("AAPL"));
        var dir = Path.Combine(_lake.Dir, "_metadata", "data", "silver", "prices_daily");
        // pid 2^22+1 is above Linux's pid_max default: certainly not running.
        var stale = Path.Combine(dir, $"{DurableFile.TempPrefix}4194305-abc-2024-x.parquet{DurableFile.TempSuffix}");
        await File.WriteAllTextAsync(stale, "half a parquet file");
        var ours = Path.Combine(dir, $"{DurableFile.TempPrefix}{Environment.ProcessId}-abc-2024-x.parquet{DurableFile.TempSuffix}");
        await File.WriteAllTextAsync(ours, "a live writer's temp");
        // A file a writer wrote and died before committing: no version names it.
        var orphan = Path.Combine(dir, "2024-0123456789abcdef.parquet");
        File.Copy(Directory.GetFiles(dir, "*.parquet").First(), orphan);
        // Something else dropped into the table's folder: not the table's.
        var foreign = Path.Combine(_lake.Dir, "silver", "prices_daily", "copied-by-hand.parquet");
        File.Copy(orphan, foreign);

        var reopened = _lake.Open();
        await reopened.Housekeeping;

        Assert.False(File.Exists(stale));
        Assert.False(File.Exists(orphan));
        Assert.True(File.Exists(ours), "a live process's temp file must not be touched");
        // The folder shows the table's files only; what was dropped in is kept aside, never deleted.
        Assert.False(File.Exists(foreign));
        Assert.Single(Directory.GetFiles(Path.Combine(_lake.Dir, "_metadata", "displaced"), "copied-by-hand.parquet", SearchOption.AllDirectories));
        Assert.Equal(Jan("AAPL").Count, LakeFolder.Bars(_lake.Dir, PriceTables.Silver).Count);
        Assert.Equal(Jan("AAPL").Count, reopened.Read(TableQuery.Create(symbols: ["AAPL"])).Sum(b => b.Length));
    }

    [Fact]
    public async Task Read_AfterAnotherInstanceWrote_SeesTheNewRowsWithoutReopening()
    {
        var reader = _lake.Open();
        var writer = _lake.Open();
        await writer.UpsertAsync(Jan("AAPL"));
        Assert.Equal(Jan("AAPL").Count, reader.Read(TableQuery.Create(symbols: ["AAPL"])).Sum(b => b.Length));

        var changed = Jan("AAPL").Select(b => b with { Close = b.Open, High = Math.Max(b.High, b.Open), Low = Math.Min(b.Low, b.Open) }).ToArray();
        await writer.UpsertAsync(changed);
        await writer.UpsertAsync(Jan("MSFT"));

        var aapl = UpsertTests.Read(reader, TableQuery.Create(symbols: ["AAPL"]));
        Assert.Equal(changed.Select(b => b.Close), aapl.Select(b => b.Close));
        Assert.Equal(["AAPL", "MSFT"], reader.SymbolsFor(TableQuery.Create()));
    }

    [Fact]
    public async Task Plan_CountsExactRowsPerSymbolAndPrunesFiles()
    {
        var store = _lake.Open();
        var bars = TestBars.Generate(["AAPL", "MSFT"], new DateOnly(2023, 1, 1), new DateOnly(2024, 12, 31));
        await store.UpsertAsync(bars);

        var plan = store.Plan(TableQuery.Create(symbols: ["MSFT", "NOPE"], dateFrom: "2024-02-10", dateTo: "2024-04-05"));

        var msft = Assert.Single(plan);
        Assert.Equal("MSFT", msft.Symbol);
        // Rows of 2024 only: one data file (the 2024 band).
        Assert.Equal(1, msft.Files);
        Assert.Equal(bars.Count(b => b.Symbol == "MSFT" && b.Date >= new DateOnly(2024, 2, 10) && b.Date <= new DateOnly(2024, 4, 5)), msft.Rows);
        var stats = store.Stats(PriceTables.Silver);
        Assert.Equal((2, 2, (long)bars.Count), (stats.Symbols, stats.Files, stats.Rows));
    }
}

public sealed class WarmTests : IDisposable
{
    private readonly TempLake _lake = new();

    public void Dispose() => _lake.Dispose();

    [Fact]
    public async Task Warm_LoadsEveryRowOnce_AndReadsAfterwardsEqualFileContents()
    {
        var bars = TestBars.Generate(["AAPL", "MSFT", "^GSPC"], new DateOnly(2023, 1, 1), new DateOnly(2023, 12, 31));
        await _lake.Open().UpsertAsync(bars);
        var store = _lake.Open();

        var loaded = store.Warm(PriceTables.Silver);

        Assert.Equal(bars.Count, loaded);
        Assert.Equal(0, store.Warm(PriceTables.Silver));
        var rows = UpsertTests.Read(store, TableQuery.Create());
        Assert.Equal(bars.Select(b => (b.Symbol, b.Date, b.Close)).OrderBy(x => x.Symbol, StringComparer.Ordinal).ThenBy(x => x.Date),
            rows.Select(b => (b.Symbol, b.Date, b.Close)));
    }

    [Fact]
    public async Task Warm_WithCacheOff_LoadsNothingAndReadsStillWork()
    {
        var bars = TestBars.Generate(["AAPL"], new DateOnly(2023, 1, 1), new DateOnly(2023, 6, 30));
        await _lake.Open().UpsertAsync(bars);
        var store = _lake.Open(cacheBytes: 0);

        Assert.Equal(0, store.Warm(PriceTables.Silver));
        Assert.Equal(bars.Count, store.Read(TableQuery.Create(symbols: ["AAPL"])).Sum(b => b.Length));
    }
}
