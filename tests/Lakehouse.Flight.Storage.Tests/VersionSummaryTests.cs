using System.Globalization;
using System.Text.Json;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Core.Wire;
using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Storage.Tests;

/// <summary>
/// The version summaries (docs/decisions.md D38): a fresh process lists versions from one summary file per hundred
/// versions plus the entries after the last; the listing must equal the one built from every entry (the truth), with
/// every filter and the readable flags a vacuum leaves, whether the summaries were written by the checkpoints, are
/// missing, torn, or were being written when the writer was killed.
/// </summary>
public sealed class VersionSummaryTests : IDisposable
{
    private static readonly string[] Symbols = ["AAPL", "MSFT", "IBM", "^GSPC"];

    private readonly TempLake _lake = new();

    public void Dispose() => _lake.Dispose();

    private string SummaryDir => Path.Combine(_lake.Dir, "_metadata", "log", "summaries");

    private string SummaryPath(long last) => Path.Combine(SummaryDir, last.ToString("D20", CultureInfo.InvariantCulture) + ".json");

    /// <summary>
    /// <paramref name="commits"/> one-day writes of one symbol in turn, every 7th also correcting that symbol's first
    /// day (a superseded file), and a vacuum after the 150th (expiring every superseded file: the versions that named
    /// them become unreadable).
    /// </summary>
    private static async Task WriteHistoryAsync(LakeStore store, int commits)
    {
        var day = new DateOnly(2025, 1, 1);
        for (var i = 0; i < commits; i++)
        {
            do
            {
                day = day.AddDays(1);
            }
            while (day.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday);
            var symbol = Symbols[i % Symbols.Length];
            IReadOnlyList<PriceBar> write = i % 7 == 6
                ? [TestBars.Bar(symbol, day), TestBars.Bar(symbol, new DateOnly(2025, 1, 2)) with { Volume = 1000 + i }]
                : [TestBars.Bar(symbol, day)];
            await store.UpsertAsync(write, runId: $"run-{i}");
            if (i == 150)
            {
                await store.VacuumAsync(TimeSpan.Zero);
            }
        }
    }

    /// <summary>The listings a user asks for, as JSON (every field, readable flags included): all, by symbol, by time, both, a limit.</summary>
    private static List<string> Listings(LakeStore store, IReadOnlyList<DateTimeOffset> instants)
    {
        var silver = store.Catalog.Get(Layer.Silver, PriceTables.PricesDaily);
        return
        [
            Json(store.ListVersions(silver, limit: int.MaxValue)),
            Json(store.ListVersions(silver, symbol: "msft", limit: int.MaxValue)),
            Json(store.ListVersions(silver, from: instants[0], to: instants[1], limit: int.MaxValue)),
            Json(store.ListVersions(silver, symbol: "^GSPC", from: instants[0], to: instants[2], limit: int.MaxValue)),
            Json(store.ListVersions(silver, limit: 10)),
            // An instant after the vacuum (the versions before it that named an expired file are refused).
            store.ResolveVersion(silver, ReadAsOf.AtInstant(instants[2])).ToString(CultureInfo.InvariantCulture),
        ];
    }

    private static string Json(IReadOnlyList<TableVersionInfo> versions) => JsonSerializer.Serialize(versions);

    /// <summary>Three commit times of the history (listed from the entries), to filter by.</summary>
    private static DateTimeOffset[] Instants(LakeStore store)
    {
        var all = store.ListVersions(store.Catalog.Get(Layer.Silver, PriceTables.PricesDaily), limit: int.MaxValue).OrderBy(v => v.Version).ToList();
        return [all[40].Ts, all[180].Ts, all[^3].Ts];
    }

    [Fact]
    public async Task ListVersions_FromTheSummaryFilesCheckpointsWrote_EqualsTheListingFromEveryEntry()
    {
        var writer = _lake.Open();
        await WriteHistoryAsync(writer, 230);
        // 230 writes and a vacuum: the checkpoints of versions 100 and 200 wrote the summaries of 1..100 and 101..200.
        await TestTimeouts.WaitUntilAsync(() => File.Exists(SummaryPath(200)), "the summaries up to the checkpoint of version 200 are written");
        Assert.True(File.Exists(SummaryPath(100)));

        var fromSummaries = _lake.Open();
        var instants = Instants(fromSummaries);
        var listed = Listings(fromSummaries, instants);
        Assert.Equal(0, fromSummaries.Summaries.Rebuilt);

        Directory.Delete(SummaryDir, recursive: true);
        var fromEntries = _lake.Open();
        var truth = Listings(fromEntries, instants);
        Assert.Equal(2, fromEntries.Summaries.Rebuilt);

        Assert.Equal(truth, listed);
        var all = JsonSerializer.Deserialize<List<TableVersionInfo>>(listed[0])!;
        Assert.Equal(230, all.Count);
        Assert.Equal(Enumerable.Range(0, 230).Select(i => $"run-{i}").Reverse(), all.Select(v => v.RunId));
        // The vacuum's bookkeeping came through the summaries too: the versions that named an expired file are unreadable.
        Assert.Contains(all, v => !v.Readable);
        Assert.Contains(all, v => v.Readable && v.Version < 150);
        Assert.Equal(230 / 4 + (230 % 4 > 1 ? 1 : 0), JsonSerializer.Deserialize<List<TableVersionInfo>>(listed[1])!.Count);
    }

    [Fact]
    public async Task ListVersions_WithATornAMissingAndAForeignSummary_RebuildsThemFromTheEntries()
    {
        var writer = _lake.Open();
        await WriteHistoryAsync(writer, 310);
        await TestTimeouts.WaitUntilAsync(() => File.Exists(SummaryPath(300)), "the summaries up to the checkpoint of version 300 are written");
        var instants = Instants(_lake.Open());
        var truth = Listings(_lake.Open(), instants);

        var first = File.ReadAllBytes(SummaryPath(100));
        // Torn: half of it (what a power cut between the write and its flush could leave without the rename's guarantee).
        File.WriteAllBytes(SummaryPath(100), first[..(first.Length / 2)]);
        // Foreign: whole, but it describes versions 1..100, not 201..300.
        File.WriteAllBytes(SummaryPath(300), first);
        File.Delete(SummaryPath(200));

        var reopened = _lake.Open();
        Assert.Equal(truth, Listings(reopened, instants));
        Assert.Equal(3, reopened.Summaries.Rebuilt);
        // Written again, whole, by the listing that rebuilt them.
        Assert.NotNull(reopened.Summaries.TryRead(100));
        Assert.NotNull(reopened.Summaries.TryRead(200));
        Assert.Equal(201, reopened.Summaries.TryRead(300)![0].Summary.Version);
        var again = _lake.Open();
        Assert.Equal(truth, Listings(again, instants));
        Assert.Equal(0, again.Summaries.Rebuilt);
    }

    [Fact]
    public async Task Writers_KilledWhileTheirCheckpointWritesSummaries_LeaveThemWholeOrAbsent_AndTheListingExact()
    {
        var random = new Random(20261207);
        var nextK = 1;
        for (var round = 0; round < 3; round++)
        {
            // Up to a few versions before the next checkpoint in process (each generation is one version), then a child
            // writer past it, SIGKILLed a few milliseconds after that commit: inside its background checkpoint and
            // summary write, or just around it.
            var checkpoint = (round + 1) * LakeLog.CheckpointInterval;
            var writer = LakeStore.Open(_lake.Dir);
            for (; nextK <= checkpoint - 5; nextK++)
            {
                await writer.UpsertAsync(CrashWorkload.Generation(nextK));
            }
            var target = checkpoint + random.Next(0, 2);
            using (var child = new ChildProcess("loop", _lake.Dir, nextK.ToString(CultureInfo.InvariantCulture)))
            {
                child.WaitFor(l => l == $"committed {target}", TimeSpan.FromSeconds(120));
                Thread.Sleep(random.Next(0, 30));
                child.KillHard();
            }

            var store = LakeStore.Open(_lake.Dir);
            await store.Housekeeping;
            // No temp of the killed writer is left, and every summary on disk is whole and describes its hundred versions.
            Assert.Empty(Directory.Exists(SummaryDir) ? Directory.GetFiles(SummaryDir, DurableFile.TempPrefix + "*") : []);
            foreach (var file in Directory.Exists(SummaryDir) ? Directory.GetFiles(SummaryDir) : [])
            {
                var last = long.Parse(Path.GetFileNameWithoutExtension(file), CultureInfo.InvariantCulture);
                Assert.NotNull(store.Summaries.TryRead(last));
            }
            var silver = store.Catalog.Get(Layer.Silver, PriceTables.PricesDaily);
            var listed = Json(store.ListVersions(silver, limit: int.MaxValue));

            Directory.Delete(SummaryDir, recursive: true);
            var fromEntries = LakeStore.Open(_lake.Dir);
            Assert.Equal(Json(fromEntries.ListVersions(silver, limit: int.MaxValue)), listed);
            Assert.Equal(fromEntries.LatestVersion, JsonSerializer.Deserialize<List<TableVersionInfo>>(listed)!.Count);
            nextK = (int)fromEntries.LatestVersion + 1;
        }
        Assert.True(nextK > 300, $"the writer committed past three checkpoints ({nextK - 1} versions)");
    }
}
