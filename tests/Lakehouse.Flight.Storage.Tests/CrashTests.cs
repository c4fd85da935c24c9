using System.Globalization;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Storage.Tests;

public sealed class CrashTests : IDisposable
{
    private readonly TempLake _lake = new();

    public void Dispose() => _lake.Dispose();

    [Fact]
    public async Task Upserts_KilledAtRandomMoments_LeaveEveryUpsertWholeOrAbsent()
    {
        var random = new Random(20261126);
        var nextK = 1;
        var kills = 0;
        for (var round = 0; round < 15; round++)
        {
            int lastReported;
            using (var child = new ChildProcess("loop", _lake.Dir, nextK.ToString(CultureInfo.InvariantCulture)))
            {
                child.WaitFor(l => l.StartsWith("committed", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
                // Let it get into the middle of further upserts, then SIGKILL at an arbitrary instant.
                Thread.Sleep(random.Next(5, 120));
                child.KillHard();
                kills++;
                lastReported = LastCommitted(child);
            }

            var (store, k) = await ReopenAfterKillAsync(lastReported);
            nextK = k + 1;
        }
        Assert.Equal(15, kills);
        Assert.True(nextK > 15, "the child should have committed at least one upsert per round");
    }

    [Fact]
    public async Task UpsertsCompactionsAndVacuums_KilledAtRandomMoments_LoseNoCommitAndDuckDbSeesExactlyTheStoresRows()
    {
        var random = new Random(20261206);
        var nextK = 1;
        string[] steps = ["committed", "compacting", "vacuuming"];
        var killedIn = new Dictionary<string, int>();
        for (var round = 0; round < 18; round++)
        {
            // Each round aims at one step of the child's loop: a write, a compaction pass or a vacuum, entered
            // for the 1st to 4th time in this child, then SIGKILL a few milliseconds into it.
            var step = steps[round % steps.Length];
            var target = $"{step} {nextK + random.Next(0, 4)}";
            int lastReported;
            using (var child = new ChildProcess("maintain", _lake.Dir, nextK.ToString(CultureInfo.InvariantCulture)))
            {
                child.WaitFor(l => l == target, TimeSpan.FromSeconds(60));
                Thread.Sleep(random.Next(0, step == "committed" ? 60 : 12));
                child.KillHard();
                killedIn[step] = killedIn.GetValueOrDefault(step) + 1;
                lastReported = LastCommitted(child);
            }

            var (store, k) = await ReopenAfterKillAsync(lastReported);
            AssertDuckDbSeesTheStoresRows(store);
            nextK = k + 1;
        }
        Assert.Equal([6, 6, 6], steps.Select(s => killedIn[s]));
        // The loop did compact and vacuum between the kills (so kills could land inside them).
        var operations = Directory.GetFiles(Path.Combine(_lake.Dir, "_metadata", "log"), "*.json")
            .Where(f => !f.EndsWith(".checkpoint.json", StringComparison.Ordinal))
            .Select(f => System.Text.Json.JsonDocument.Parse(File.ReadAllText(f)).RootElement.GetProperty("operation").GetString())
            .ToList();
        Assert.Contains("compact", operations);
        Assert.Contains("vacuum", operations);
    }

    [Fact]
    public async Task SnapshotsAndVacuums_KilledAtRandomMoments_LeaveEverySnapshotAndTheLatestVersionReadable()
    {
        var random = new Random(20261207);
        var nextK = 1;
        string[] steps = ["snapshotting", "deleting", "vacuuming"];
        var killedIn = new Dictionary<string, int>();
        var snapshotsRead = 0;
        for (var round = 0; round < 12; round++)
        {
            var step = steps[round % steps.Length];
            var target = $"{step} {nextK + random.Next(0, 3)}";
            int lastReported;
            using (var child = new ChildProcess("snapshots", _lake.Dir, nextK.ToString(CultureInfo.InvariantCulture)))
            {
                child.WaitFor(l => l == target, TimeSpan.FromSeconds(60));
                Thread.Sleep(random.Next(0, 12));
                child.KillHard();
                killedIn[step] = killedIn.GetValueOrDefault(step) + 1;
                lastReported = LastCommitted(child);
            }

            var (store, k) = await ReopenAfterKillAsync(lastReported);
            // Every snapshot on disk is whole and reads exactly its generation, whatever the vacuums deleted since.
            var snapshots = store.ListSnapshots();
            snapshotsRead += snapshots.Count;
            foreach (var snapshot in snapshots)
            {
                var generation = int.Parse(snapshot.Name[1..], CultureInfo.InvariantCulture);
                var rows = store.Read(TableQuery.Create(symbols: CrashWorkload.SymbolsUsed).WithAsOf(ReadAsOf.AtSnapshot(snapshot.Name)))
                    .SelectMany(PriceBarBatches.ToBars).ToList();
                Assert.Equal(CrashWorkload.SymbolsUsed.Length * (CrashWorkload.Q1BusinessDays + generation), rows.Count);
                Assert.All(rows, r => Assert.Equal(generation, r.Close));
            }
            Assert.Equal(store.Read(TableQuery.Create()).SelectMany(PriceBarBatches.ToBars).ToList(),
                store.Read(TableQuery.Create().WithAsOf(ReadAsOf.AtVersion(store.LatestVersion))).SelectMany(PriceBarBatches.ToBars).ToList());
            nextK = k + 1;
        }
        Assert.Equal([4, 4, 4], steps.Select(s => killedIn[s]));
        Assert.True(snapshotsRead >= 12, $"snapshots were read after the kills ({snapshotsRead})");
        Assert.Contains("vacuum", Directory.GetFiles(Path.Combine(_lake.Dir, "_metadata", "log"), "*.json")
            .Where(f => !f.EndsWith(".checkpoint.json", StringComparison.Ordinal))
            .Select(f => System.Text.Json.JsonDocument.Parse(File.ReadAllText(f)).RootElement.GetProperty("operation").GetString()));
    }

    /// <summary>The last generation the child reported committed.</summary>
    private static int LastCommitted(ChildProcess child) =>
        child.Lines.Where(l => l.StartsWith("committed ", StringComparison.Ordinal))
            .Select(l => int.Parse(l["committed ".Length..], CultureInfo.InvariantCulture)).Max();

    /// <summary>
    /// Opens the lake a killed child left: one whole generation, the killed upsert either committed (reported + 1)
    /// or without a trace (reported), and once the background sweep ran (D25) no stray file. Returns the generation.
    /// </summary>
    private async Task<(LakeStore Store, int K)> ReopenAfterKillAsync(int lastReported)
    {
        var store = LakeStore.Open(_lake.Dir);
        var k = AssertConsistentGeneration(store);
        Assert.InRange(k, lastReported, lastReported + 1);
        await store.Housekeeping;
        AssertNoStrayFiles(store);
        return (store, k);
    }

    /// <summary>DuckDB over the silver folder (what any engine reads) returns exactly the store's rows.</summary>
    private void AssertDuckDbSeesTheStoresRows(LakeStore store)
    {
        var ours = store.Read(TableQuery.Create(symbols: CrashWorkload.SymbolsUsed)).SelectMany(PriceBarBatches.ToBars)
            .Select(b => (b.Symbol, b.Date, b.Close)).Order().ToList();
        var duck = new List<(string, DateOnly, double)>();
        using (var conn = new DuckDB.NET.Data.DuckDBConnection("DataSource=:memory:"))
        {
            conn.Open();
            using var cmd = conn.CreateCommand();
            var glob = Path.Combine(_lake.Dir, "silver", "prices_daily", "**", "*.parquet");
            cmd.CommandText = $"SELECT symbol, date, close FROM read_parquet('{glob}', hive_partitioning = 1)";
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                duck.Add((r.GetString(0), DateOnly.FromDateTime(r.GetDateTime(1)), r.GetDouble(2)));
            }
        }
        Assert.Equal(ours, duck.Order().ToList());
    }

    [Fact]
    public async Task WriteKilledRightAfterItsCommitPoint_IsRolledForwardAndRecordedForGoldUntilSettled()
    {
        string[] symbols = ["KA", "KB"];
        using (var child = new ChildProcess(new Dictionary<string, string> { [LakeMetadata.CrashAfterCommitPointVariable] = "1" }, "promote", _lake.Dir, string.Join(',', symbols)))
        {
            Assert.True(child.WaitForExit(TimeSpan.FromSeconds(60)));
            Assert.Equal(137, child.ExitCode);
        }
        // Committed (the log entry is there), nothing after it: no table folder published, no manifest line.
        Assert.True(File.Exists(Path.Combine(_lake.Dir, "_metadata", "log", "00000000000000000001.json")));
        Assert.Empty(LakeFolder.Files(_lake.Dir, PriceTables.Silver));
        Assert.False(File.Exists(Path.Combine(_lake.Dir, "_metadata", "manifests", "silver_prices_daily.jsonl")));

        var first = LakeStore.Open(_lake.Dir);
        var recovered = Assert.Single(first.RecoveredCommits());
        // Another process opening the lake before anyone finished the follow-up still sees it.
        var second = LakeStore.Open(_lake.Dir);
        Assert.Equal([recovered.Id], second.RecoveredCommits().Select(c => c.Id));
        Assert.Equal(symbols.Sum(s => CrashWorkload.Year(s).Count), first.Read(TableQuery.Create(symbols: symbols)).Sum(b => b.Length));
        Assert.Equal([("bronze", "KA"), ("bronze", "KB"), ("silver", "KA"), ("silver", "KB")],
            recovered.Reports.Select(r => (r.Layer, r.Symbol)).Order());
        Assert.All(recovered.Reports, r => Assert.Equal(CrashWorkload.Year(r.Symbol).Count, r.Inserted));
        Assert.Equal(2, first.ReadManifest(PriceTables.Silver).Count);

        second.SettleRecovered(recovered);

        Assert.False(first.HasRecoveredCommits);
        Assert.Empty(LakeStore.Open(_lake.Dir).RecoveredCommits());
        Assert.Equal(symbols.Sum(s => CrashWorkload.Year(s).Count), LakeFolder.Bars(_lake.Dir, PriceTables.Silver).Count);
        await first.Housekeeping;
    }

    [Fact]
    public async Task WriteKilledRightAfterItsCommitPoint_AfterTheVersionsBeforeWereRecordedComplete_IsStillRolledForward()
    {
        var before = LakeStore.Open(_lake.Dir);
        await before.UpsertAsync(CrashWorkload.Year("KZ"));
        await before.Housekeeping;
        // The commit recorded that every entry up to its own has its manifest lines.
        await LakeStore.Open(_lake.Dir).Housekeeping;
        var through = Path.Combine(_lake.Dir, "_metadata", "log", "_manifests_through");
        Assert.Equal("1", await File.ReadAllTextAsync(through));

        using (var child = new ChildProcess(new Dictionary<string, string> { [LakeMetadata.CrashAfterCommitPointVariable] = "1" }, "promote", _lake.Dir, "KA"))
        {
            Assert.True(child.WaitForExit(TimeSpan.FromSeconds(60)));
            Assert.Equal(137, child.ExitCode);
        }
        var reopened = LakeStore.Open(_lake.Dir);
        var recovered = Assert.Single(reopened.RecoveredCommits());
        Assert.All(recovered.Reports, r => Assert.Equal(2L, r.Version));
        Assert.Equal(CrashWorkload.Year("KA").Count, Assert.Single(reopened.ReadManifest(PriceTables.Silver), r => r.Symbol == "KA").Inserted);
        Assert.Equal("2", await File.ReadAllTextAsync(through));
        await reopened.Housekeeping;
    }

    /// <summary>Every partition opens; all rows of all symbols carry one generation K; row counts are those of K.</summary>
    private int AssertConsistentGeneration(LakeStore store)
    {
        // Every data file in the folder opens and holds rows, and the folder holds exactly the store's rows.
        var folder = LakeFolder.Bars(_lake.Dir, PriceTables.Silver);
        var rows = store.Read(TableQuery.Create(symbols: CrashWorkload.SymbolsUsed)).SelectMany(PriceBarBatches.ToBars).ToList();
        Assert.Equal(rows.Select(r => (r.Symbol, r.Date, r.Close)).Order(), folder.Select(r => (r.Symbol, r.Date, r.Close)).Order());
        var generations = rows.Select(r => (int)r.Close).Distinct().ToArray();
        var k = Assert.Single(generations);
        foreach (var symbol in CrashWorkload.SymbolsUsed)
        {
            Assert.Equal(CrashWorkload.Q1BusinessDays + k, rows.Count(r => r.Symbol == symbol));
        }
        var manifestLines = store.ReadManifest(PriceTables.Silver, limit: 100_000);
        Assert.Equal(k * CrashWorkload.SymbolsUsed.Length, manifestLines.Count);
        return k;
    }

    /// <summary>No temp file anywhere, and every data file in the store is one a version names (current, or kept for retention).</summary>
    private void AssertNoStrayFiles(LakeStore store)
    {
        var temps = Directory.EnumerateFiles(_lake.Dir, DurableFile.TempPrefix + "*", SearchOption.AllDirectories).ToArray();
        Assert.Empty(temps);
        var state = store.Metadata.Current;
        foreach (var table in store.Catalog.Tables)
        {
            var dir = store.Files.StoreDir(table);
            var named = state.Table(table).Files.Keys.Concat(state.Tombstones.Where(t => t.Table == table.Id).Select(t => t.Name)).ToHashSet();
            var onDisk = Directory.Exists(dir) ? Directory.GetFiles(dir).Select(Path.GetFileName).ToArray() : [];
            Assert.All(onDisk, name => Assert.Contains(name!, named));
            // The table's folder shows exactly the current files.
            Assert.Equal(state.Table(table).Files.Keys.Order(), LakeFolder.Files(_lake.Dir, table).Select(Path.GetFileName).Order()!);
        }
    }
}
