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
    public void KeepCheckpoint_FollowsTheWindows(long version, long latest, bool kept) =>
        Assert.Equal(kept, LakeLog.KeepCheckpoint(version, latest));
}
