using System.Globalization;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Storage.Tests;

/// <summary>
/// The commit log's checkpoints are thinned as versions go by (each holds every file kept for retention, so keeping all
/// of them grows the log quadratically): the last 1,000 versions' every 100, then every 1,000th, 10,000th, 100,000th.
/// </summary>
public sealed class CheckpointThinningTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lakehouse-checkpoints-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private long[] Checkpoints() => [.. Directory.GetFiles(_dir, "*.checkpoint.json")
        .Select(f => long.Parse(Path.GetFileName(f).AsSpan(0, 20), NumberStyles.None, CultureInfo.InvariantCulture)).Order()];

    [Fact]
    public void WritingCheckpointsTo12000_KeepsTheLastThousandVersionsAndEveryThousandthOfTheLastTenThousand()
    {
        var log = new LakeLog(_dir);
        for (long v = 100; v <= 12_000; v += 100)
        {
            log.WriteCheckpoint(new Checkpoint { Version = v, Ts = DateTimeOffset.UnixEpoch });
        }

        long[] expected = [2_000, 3_000, 4_000, 5_000, 6_000, 7_000, 8_000, 9_000, 10_000,
            11_000, 11_100, 11_200, 11_300, 11_400, 11_500, 11_600, 11_700, 11_800, 11_900, 12_000];
        Assert.Equal(expected, Checkpoints());
        Assert.Equal(12_000, log.ReadLatestCheckpoint()!.Version);
    }

    [Fact]
    public async Task TwoThousandOneRowCommits_ThinTheCheckpoints_AndEveryVersionStillReadsItsOwnRows()
    {
        using var lake = new TempLake();
        var store = lake.Open();
        var bar = TestBars.Bar("AAPL", new DateOnly(2026, 11, 2));
        var expected = new Dictionary<long, double>();
        for (var i = 0; i <= 2_050; i++)
        {
            var close = Math.Round(bar.Close + (i * 0.01), 2);
            await store.UpsertAsync([bar with { Close = close, High = Math.Max(bar.High, close) }]);
            expected[store.LatestVersion] = close;
        }
        var log = Path.Combine(lake.Dir, "_metadata", "log");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (File.Exists(Path.Combine(log, 100L.ToString("D20", CultureInfo.InvariantCulture) + ".checkpoint.json")) && DateTime.UtcNow < deadline)
        {
            // Checkpoints are written in the background; the one at 2,000 thins those before 1,000.
            await Task.Delay(100);
        }
        var kept = Directory.GetFiles(log, "*.checkpoint.json").Select(f => long.Parse(Path.GetFileName(f).AsSpan(0, 20), NumberStyles.None, CultureInfo.InvariantCulture)).ToHashSet();

        Assert.DoesNotContain(100L, kept);
        Assert.DoesNotContain(900L, kept);
        Assert.Contains(1_000L, kept);
        Assert.Contains(1_100L, kept);
        // A fresh process: as-of reads rebuilt from whichever checkpoint is left (or none) and the entries after it.
        var reopened = lake.Open();
        foreach (var version in new long[] { 150, 950, 1_050, 1_999, store.LatestVersion })
        {
            var read = reopened.Read(TableQuery.Create(symbols: ["AAPL"]).WithAsOf(ReadAsOf.AtVersion(version))).SelectMany(PriceBarBatches.ToBars).Single();
            Assert.Equal(expected[version], read.Close);
        }
    }

    [Theory]
    [InlineData(11_900, 12_000, true)]
    [InlineData(10_900, 12_000, false)]
    [InlineData(10_000, 20_000, true)]
    [InlineData(9_000, 20_000, false)]
    [InlineData(110_000, 210_000, true)]
    [InlineData(110_000, 210_100, false)]
    [InlineData(100_000, 5_000_000, true)]
    [InlineData(12_050, 12_050, true)]
    [InlineData(12_050, 12_060, false)]
    public void KeepCheckpoint_FollowsTheWindows(long version, long latest, bool kept) =>
        Assert.Equal(kept, LakeLog.KeepCheckpoint(version, latest));

    [Fact]
    public void ExtraCheckpoints_AreKeptOnlyWhileNewest_AndThePointerNeverMovesBack()
    {
        var log = new LakeLog(_dir);
        log.WriteCheckpoint(new Checkpoint { Version = 100, Ts = DateTimeOffset.UnixEpoch });
        log.WriteCheckpoint(new Checkpoint { Version = 130, Ts = DateTimeOffset.UnixEpoch });
        Assert.Equal([100, 130], Checkpoints());
        log.WriteCheckpoint(new Checkpoint { Version = 160, Ts = DateTimeOffset.UnixEpoch });
        Assert.Equal([100, 160], Checkpoints());
        Assert.Equal(160, log.ReadLatestCheckpoint()!.Version);

        // Finished after a newer one: an extra one is not written at all, a multiple of 100 is (as-of reads start there)
        // but is not pointed to.
        log.WriteCheckpoint(new Checkpoint { Version = 150, Ts = DateTimeOffset.UnixEpoch });
        Assert.Equal([100, 160], Checkpoints());
        log.WriteCheckpoint(new Checkpoint { Version = 200, Ts = DateTimeOffset.UnixEpoch });
        Assert.Equal([100, 200], Checkpoints());
        log.WriteCheckpoint(new Checkpoint { Version = 170, Ts = DateTimeOffset.UnixEpoch });
        log.WriteCheckpoint(new Checkpoint { Version = 100, Ts = DateTimeOffset.UnixEpoch });
        Assert.Equal([100, 200], Checkpoints());
        Assert.Equal(200, log.LastCheckpointVersion());
        Assert.Equal(200, log.ReadLatestCheckpoint()!.Version);

        // A pointer to a checkpoint that is gone: the newest on disk.
        File.Delete(Path.Combine(_dir, 200L.ToString("D20", CultureInfo.InvariantCulture) + ".checkpoint.json"));
        Assert.Equal(100, log.ReadLatestCheckpoint()!.Version);
    }

    [Fact]
    public void CheckpointsWrittenAtOnceInAnyOrder_LeaveTheNewestPointedTo_AndOnlyTheMultiplesBesideIt()
    {
        var log = new LakeLog(_dir);
        var versions = Enumerable.Range(1, 150).Select(v => (long)v).OrderBy(v => (v * 7919) % 151).ToArray();
        Parallel.ForEach(versions, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            v => log.WriteCheckpoint(new Checkpoint { Version = v, Ts = DateTimeOffset.UnixEpoch }));

        Assert.Equal([100, 150], Checkpoints());
        Assert.Equal(150, log.LastCheckpointVersion());
        Assert.Equal(150, log.ReadLatestCheckpoint()!.Version);
    }

    [Fact]
    public async Task HeavyEntries_BringACheckpointBeforeTheHundredth_AndAReopenReadsTheSameRows()
    {
        using var lake = new TempLake();
        // Each write of 300 symbols names them in silver and adds a file (20): 320 a commit, so the 4th passes 1,000.
        var store = LakeStore.Open(new StoreOptions { DataDir = lake.Dir, CheckpointWeight = 1_000 });
        var symbols = Enumerable.Range(1, 300).Select(i => $"SYM{i:D4}").ToArray();
        var pointer = Path.Combine(lake.Dir, "_metadata", "log", "_last_checkpoint");
        for (var day = 0; day < 4; day++)
        {
            await store.UpsertAsync(symbols.Select(s => TestBars.Bar(s, new DateOnly(2026, 11, 2).AddDays(day))).ToList());
        }
        Assert.Equal(4, store.LatestVersion);
        // The arithmetic this test is built on (a change to what a write commits changes it: fix the numbers above).
        var entries = new LakeLog(Path.Combine(lake.Dir, "_metadata", "log"));
        Assert.All(Enumerable.Range(1, 4), v => Assert.Equal(320, Committer.CheckpointWeightOf(entries.ReadHead(v))));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((!File.Exists(pointer) || File.ReadAllText(pointer).Trim() != "4") && DateTime.UtcNow < deadline)
        {
            // Written in the background, after the commit that made it due.
            await Task.Delay(50);
        }
        Assert.Equal("4", File.ReadAllText(pointer).Trim());
        Assert.Equal([4], Checkpoints(Path.Combine(lake.Dir, "_metadata", "log")));

        var reopened = LakeStore.Open(new StoreOptions { DataDir = lake.Dir });
        await reopened.Housekeeping;
        Assert.Equal(4, reopened.LatestVersion);
        var bars = reopened.Read(TableQuery.Create(symbols: ["SYM0007", "SYM0300"])).SelectMany(PriceBarBatches.ToBars).ToList();
        Assert.Equal(8, bars.Count);
        Assert.Equal([new DateOnly(2026, 11, 2), new DateOnly(2026, 11, 3), new DateOnly(2026, 11, 4), new DateOnly(2026, 11, 5)],
            bars.Where(b => b.Symbol == "SYM0300").Select(b => b.Date));
    }

    [Fact]
    public async Task AnOpenThatReplaysHeavyEntries_WritesACheckpoint_SoTheNextOpenDoesNot()
    {
        using var lake = new TempLake();
        var store = LakeStore.Open(new StoreOptions { DataDir = lake.Dir, CheckpointWeight = long.MaxValue });
        var symbols = Enumerable.Range(1, 300).Select(i => $"SYM{i:D4}").ToArray();
        for (var day = 0; day < 3; day++)
        {
            await store.UpsertAsync(symbols.Select(s => TestBars.Bar(s, new DateOnly(2026, 11, 2).AddDays(day))).ToList());
        }
        var log = Path.Combine(lake.Dir, "_metadata", "log");
        Assert.Empty(Checkpoints(log));

        // 3 x 320 (see above): heavy for a weight of 500, not for the default; an open that finds them heavy writes one, at
        // the latest version.
        var light = LakeStore.Open(new StoreOptions { DataDir = lake.Dir });
        await light.Housekeeping;
        Assert.Empty(Checkpoints(log));
        var heavy = LakeStore.Open(new StoreOptions { DataDir = lake.Dir, CheckpointWeight = 500 });
        await heavy.Housekeeping;
        Assert.Equal([3], Checkpoints(log));
        var bars = heavy.Read(TableQuery.Create(symbols: ["SYM0150"])).SelectMany(PriceBarBatches.ToBars).ToList();
        Assert.Equal(3, bars.Count);
    }

    private static long[] Checkpoints(string dir) => [.. Directory.GetFiles(dir, "*.checkpoint.json")
        .Select(f => long.Parse(Path.GetFileName(f).AsSpan(0, 20), NumberStyles.None, CultureInfo.InvariantCulture)).Order()];
}
