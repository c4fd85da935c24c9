using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Storage.Tests;

/// <summary>
/// As-of reads (docs/decisions.md D38): a lake that is ingested, corrected, back-adjusted by a dividend and re-uploaded
/// for a week is read at each version and at instants between the commits; each read must return exactly the rows of
/// that moment: the rows read right after the commit, and the rows DuckDB finds in the files that version names in the
/// commit log (parsed here on its own).
/// </summary>
public sealed class VersionReadTests : IDisposable
{
    private static readonly string[] Universe = ["AAPL", "MSFT", "^GSPC"];
    private static readonly DateOnly From = new(2026, 10, 1);
    private static readonly DateOnly To = new(2026, 11, 30);

    private readonly TempLake _lake = new();

    public void Dispose() => _lake.Dispose();

    private sealed record Moment(long Version, List<PriceBar> Rows);

    /// <summary>Four commits that rewrite history: ingest, a corrected bar, a dividend's back-adjusted adj_close, a vendor re-upload of a week.</summary>
    private static async Task<List<Moment>> RewriteHistoryAsync(LakeStore store)
    {
        var moments = new List<Moment>();
        async Task Commit(IReadOnlyList<PriceBar> bars)
        {
            await store.UpsertAsync(bars);
            moments.Add(new Moment(store.LatestVersion, ReadAll(store, TableQuery.Create())));
            // Commit times a few milliseconds apart, so an instant lies strictly between two of them.
            await Task.Delay(15);
        }
        var bars = TestBars.Generate(Universe, From, To);
        await Commit(bars);
        // A late correction of one bar.
        var bad = bars.First(b => b.Symbol == "AAPL" && b.Date == new DateOnly(2026, 11, 12));
        await Commit([bad with { Close = Math.Round(bad.Close * 1.01, 2), High = Math.Max(bad.High, Math.Round(bad.Close * 1.01, 2)) }]);
        // A dividend back-adjusts every stored adj_close of MSFT before its ex-date.
        var exDate = new DateOnly(2026, 11, 20);
        await Commit([.. bars.Where(b => b.Symbol == "MSFT" && b.Date < exDate).Select(b => b with { AdjClose = Math.Round(b.Close * 0.98, 4) })]);
        // A vendor re-uploads a week of ^GSPC with other volumes.
        await Commit([.. bars.Where(b => b.Symbol == "^GSPC" && b.Date >= new DateOnly(2026, 11, 2) && b.Date <= new DateOnly(2026, 11, 6))
            .Select(b => b with { Volume = b.Volume + 1000, Source = "vendor_x" })]);
        return moments;
    }

    [Fact]
    public async Task ReadAtEachVersion_ReturnsExactlyTheRowsOfThatVersion_AsDuckDbSeesItsFiles()
    {
        var store = _lake.Open();
        var moments = await RewriteHistoryAsync(store);
        Assert.Equal(4, moments.Select(m => m.Version).Distinct().Count());
        // The history did change the rows: each version differs from the next.
        for (var i = 1; i < moments.Count; i++)
        {
            Assert.NotEqual(moments[i - 1].Rows, moments[i].Rows);
        }

        foreach (var moment in moments)
        {
            var asOf = ReadAll(store, TableQuery.Create().WithAsOf(ReadAsOf.AtVersion(moment.Version)));
            Assert.Equal(moment.Rows, asOf);

            var duck = DuckDbRows(CommitLogFiles.Of(_lake.Dir, moment.Version, "silver/prices_daily"));
            Assert.Equal(moment.Rows.Select(Key), duck);
        }
        // Values that matter: the corrected close, the back-adjusted adj_close and the re-uploaded volume, before and after.
        var v = moments.Select(m => m.Version).ToArray();
        var aapl = TableQuery.Create(symbols: ["AAPL"], dateFrom: "2026-11-12", dateTo: "2026-11-12");
        var before = ReadAll(store, aapl.WithAsOf(ReadAsOf.AtVersion(v[0]))).Single();
        var after = ReadAll(store, aapl.WithAsOf(ReadAsOf.AtVersion(v[1]))).Single();
        Assert.Equal(TestBars.Bar("AAPL", new DateOnly(2026, 11, 12)).Close, before.Close);
        Assert.Equal(Math.Round(before.Close * 1.01, 2), after.Close);
        var msft = TableQuery.Create(symbols: ["MSFT"], dateFrom: "2026-10-01", dateTo: "2026-10-01");
        Assert.Equal(TestBars.Bar("MSFT", From).AdjClose, ReadAll(store, msft.WithAsOf(ReadAsOf.AtVersion(v[1]))).Single().AdjClose);
        Assert.Equal(Math.Round(TestBars.Bar("MSFT", From).Close * 0.98, 4), ReadAll(store, msft.WithAsOf(ReadAsOf.AtVersion(v[2]))).Single().AdjClose);
        var gspc = TableQuery.Create(symbols: ["^GSPC"], dateFrom: "2026-11-03", dateTo: "2026-11-03");
        Assert.Equal(TestBars.Bar("^GSPC", new DateOnly(2026, 11, 3)).Volume, ReadAll(store, gspc.WithAsOf(ReadAsOf.AtVersion(v[2]))).Single().Volume);
        Assert.Equal(TestBars.Bar("^GSPC", new DateOnly(2026, 11, 3)).Volume + 1000, ReadAll(store, gspc.WithAsOf(ReadAsOf.AtVersion(v[3]))).Single().Volume);
        // Version 0 is the empty lake.
        Assert.Empty(ReadAll(store, TableQuery.Create().WithAsOf(ReadAsOf.AtVersion(0))));
    }

    [Fact]
    public async Task ReadAtInstantsBetweenCommits_SeesTheLastVersionCommittedAtOrBeforeIt()
    {
        var store = _lake.Open();
        var moments = await RewriteHistoryAsync(store);
        var versions = store.ListVersions(store.Catalog.Get(Layer.Silver, PriceTables.PricesDaily)).OrderBy(x => x.Version).ToList();
        Assert.Equal(moments.Select(m => m.Version), versions.Select(x => x.Version));
        for (var i = 0; i < moments.Count; i++)
        {
            var ts = versions[i].Ts;
            var next = i + 1 < versions.Count ? versions[i + 1].Ts : DateTimeOffset.UtcNow;
            Assert.True(next > ts, "commit times rise with versions");
            foreach (var instant in new[] { ts, ts + ((next - ts) / 2) })
            {
                var query = TableQuery.Create().WithAsOf(ReadAsOf.AtInstant(instant));
                Assert.Equal(moments[i].Version, store.ResolveVersion(store.Catalog.Get(Layer.Silver, PriceTables.PricesDaily), query.AsOf!));
                Assert.Equal(moments[i].Rows, ReadAll(store, query));
            }
        }
        // Before the first commit: the empty lake.
        Assert.Empty(ReadAll(store, TableQuery.Create().WithAsOf(ReadAsOf.AtInstant(versions[0].Ts.AddMilliseconds(-1)))));
    }

    [Fact]
    public async Task StreamAtAnOldVersion_WhoseFilesAVacuumDeletesMeanwhile_EndsNotFound()
    {
        var writer = _lake.Open();
        var bars = TestBars.Generate(["AAPL", "IBM", "MSFT"], From, To);
        await writer.UpsertAsync(bars);
        var old = writer.LatestVersion;
        // Every row changed: every file of that version superseded.
        await writer.UpsertAsync([.. bars.Select(b => b with { Close = b.Low, AdjClose = b.Low })]);
        // No cache: each symbol of the stream is decoded from its file when the stream reaches it.
        var store = LakeStore.Open(new StoreOptions { DataDir = _lake.Dir, CacheBytes = 0, TargetBatchRows = 16 });

        using var stream = store.Read(TableQuery.Create().WithAsOf(ReadAsOf.AtVersion(old))).GetEnumerator();
        Assert.True(stream.MoveNext());
        Assert.True((await store.VacuumAsync(TimeSpan.Zero)).Files > 0);
        var ex = Assert.Throws<LakehouseException>(() =>
        {
            while (stream.MoveNext())
            {
            }
        });

        Assert.Equal(LakehouseErrorKind.NotFound, ex.Kind);
        Assert.Contains("no longer readable", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EntryStampedBeforeTheVersionBeforeIt_TakesThatVersionsTime()
    {
        var store = _lake.Open();
        await store.UpsertAsync(TestBars.Generate(["AAPL"], From, To));
        var previous = store.Metadata.Log.Read(store.LatestVersion);
        // A writer that stamped its entry before the previous commit took its version (another table's writer, or
        // another process that lost the put-if-absent race and retried).
        var (late, _) = store.Metadata.Commit(new Internal.LogEntry { Ts = previous.Ts.AddSeconds(-5), Operation = "write" }, null);

        Assert.Equal(previous.Version + 1, late.Version);
        Assert.Equal(previous.Ts, late.Ts);
        Assert.Equal(late.Ts, store.Metadata.Log.Read(late.Version).Ts);
        // An instant of that time sees silver as both left it.
        Assert.Equal(previous.Version, store.ResolveVersion(PriceTables.Silver, ReadAsOf.AtInstant(late.Ts)));
    }

    [Fact]
    public async Task AsOf_BadVersionFutureInstantUnknownSnapshot_AreInvalidArgumentsNamingTheField()
    {
        var store = _lake.Open();
        await store.UpsertAsync(TestBars.Generate(["AAPL"], From, To));
        var latest = store.LatestVersion;

        var unknown = Assert.Throws<LakehouseException>(() => store.SchemaOf(TableQuery.Create().WithAsOf(ReadAsOf.AtVersion(latest + 5))));
        Assert.Equal(LakehouseErrorKind.InvalidArgument, unknown.Kind);
        Assert.Contains($"version {latest + 5} does not exist", unknown.Message, StringComparison.Ordinal);

        var future = Assert.Throws<LakehouseException>(() => store.Read(TableQuery.Create().WithAsOf(ReadAsOf.AtInstant(DateTimeOffset.UtcNow.AddDays(1)))).ToList());
        Assert.Equal(LakehouseErrorKind.InvalidArgument, future.Kind);
        Assert.StartsWith("as_of ", future.Message, StringComparison.Ordinal);
        Assert.Contains("in the future", future.Message, StringComparison.Ordinal);

        var snapshot = Assert.Throws<LakehouseException>(() => store.Plan(TableQuery.Create().WithAsOf(ReadAsOf.AtSnapshot("nope"))));
        Assert.Equal(LakehouseErrorKind.InvalidArgument, snapshot.Kind);
        Assert.Contains("snapshot 'nope' does not exist", snapshot.Message, StringComparison.Ordinal);

        var both = Assert.Throws<LakehouseException>(() => ReadAsOf.Create(3, "2026-11-30T22:00:00Z", null));
        Assert.Contains("version and as_of", both.Message, StringComparison.Ordinal);
        var noZone = Assert.Throws<LakehouseException>(() => ReadAsOf.Create(null, "2026-11-30T22:00:00", null));
        Assert.StartsWith("as_of '2026-11-30T22:00:00'", noZone.Message, StringComparison.Ordinal);
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 21, 0, 0, TimeSpan.Zero), ReadAsOf.Create(null, "2026-11-30T22:00:00+01:00", null)!.Instant);
    }

    [Fact]
    public async Task Plan_AsOfAVersion_CountsThatVersionsRows()
    {
        var store = _lake.Open();
        await store.UpsertAsync(TestBars.Generate(["AAPL"], From, new DateOnly(2026, 10, 31)));
        var first = store.LatestVersion;
        await store.UpsertAsync(TestBars.Generate(["AAPL", "MSFT"], new DateOnly(2026, 11, 1), To));

        var old = store.Plan(TableQuery.Create().WithAsOf(ReadAsOf.AtVersion(first)));
        var now = store.Plan(TableQuery.Create());
        Assert.Equal(["AAPL"], old.Select(p => p.Symbol));
        Assert.Equal(TestBars.Generate(["AAPL"], From, new DateOnly(2026, 10, 31)).Count, old.Single().Rows);
        Assert.Equal(["AAPL", "MSFT"], now.Select(p => p.Symbol));
    }

    [Fact]
    public async Task Snapshot_SurvivesVacuum_WhileUnpinnedOldVersionsAreRefusedNamingTheOldestReadable()
    {
        var store = _lake.Open();
        var moments = await RewriteHistoryAsync(store);
        var silver = store.Catalog.Get(Layer.Silver, PriceTables.PricesDaily);
        var pinned = moments[1];
        var info = await store.CreateSnapshotAsync("backtest-1", [silver], pinned.Version);
        Assert.Equal(pinned.Version, info.Tables["silver/prices_daily"]);
        Assert.Equal(["backtest-1"], store.ListSnapshots().Select(s => s.Name));
        var taken = await Assert.ThrowsAsync<LakehouseException>(() => store.CreateSnapshotAsync("backtest-1"));
        Assert.Equal(LakehouseErrorKind.InvalidArgument, taken.Kind);

        var vacuum = await store.VacuumAsync(TimeSpan.Zero);
        Assert.True(vacuum.Files > 0, "the superseded files of the unpinned versions are deleted");
        Assert.True(vacuum.Pinned > 0, "the pinned version's superseded files are kept");

        // The snapshot reads exactly its version's rows, by name and by number.
        Assert.Equal(pinned.Rows, ReadAll(store, TableQuery.Create().WithAsOf(ReadAsOf.AtSnapshot("backtest-1"))));
        Assert.Equal(pinned.Rows, ReadAll(store, TableQuery.Create().WithAsOf(ReadAsOf.AtVersion(pinned.Version))));
        Assert.Equal(moments[^1].Rows, ReadAll(store, TableQuery.Create().WithAsOf(ReadAsOf.AtVersion(moments[^1].Version))));
        // The other old versions are gone: NotFound naming the oldest version still readable (the pinned one here) and
        // from which version on all are (the latest write).
        foreach (var gone in new[] { moments[0], moments[2] })
        {
            var ex = Assert.Throws<LakehouseException>(() => store.SchemaOf(TableQuery.Create().WithAsOf(ReadAsOf.AtVersion(gone.Version))));
            Assert.Equal(LakehouseErrorKind.NotFound, ex.Kind);
            Assert.Contains($"the oldest version still readable is {pinned.Version}, and every version from {moments[^1].Version} on is", ex.Message,
                StringComparison.Ordinal);
        }
        var listed = store.ListVersions(silver).ToDictionary(x => x.Version);
        Assert.False(listed[moments[0].Version].Readable);
        Assert.True(listed[pinned.Version].Readable);
        Assert.False(listed[moments[2].Version].Readable);
        Assert.True(listed[moments[^1].Version].Readable);

        // Deleting the snapshot lets the next vacuum free its version.
        await store.DeleteSnapshotAsync("backtest-1");
        Assert.Empty(store.ListSnapshots());
        var second = await store.VacuumAsync(TimeSpan.Zero);
        Assert.Equal(vacuum.Pinned, second.Files);
        var refused = Assert.Throws<LakehouseException>(() => store.SchemaOf(TableQuery.Create().WithAsOf(ReadAsOf.AtVersion(pinned.Version))));
        Assert.Equal(LakehouseErrorKind.NotFound, refused.Kind);

        // A fresh process agrees (the snapshot and the vacuums are in files, not in memory).
        var reopened = _lake.Open();
        Assert.Equal(moments[^1].Rows, ReadAll(reopened, TableQuery.Create().WithAsOf(ReadAsOf.AtVersion(moments[^1].Version))));
        Assert.Equal(LakehouseErrorKind.NotFound, Assert.Throws<LakehouseException>(
            () => reopened.SchemaOf(TableQuery.Create().WithAsOf(ReadAsOf.AtVersion(moments[0].Version)))).Kind);
    }

    [Fact]
    public async Task Vacuum_OfOneFile_MakesUnreadableExactlyTheVersionsThatNamedIt()
    {
        var store = _lake.Open();
        var silver = store.Catalog.Get(Layer.Silver, PriceTables.PricesDaily);
        await store.UpsertAsync(TestBars.Generate(["AAPL"], new DateOnly(2025, 3, 3), new DateOnly(2025, 3, 7)));
        var v1 = store.LatestVersion;
        var aapl = ReadAll(store, TableQuery.Create());
        await store.UpsertAsync(TestBars.Generate(["MSFT"], new DateOnly(2026, 3, 2), new DateOnly(2026, 3, 6)));
        var v2 = store.LatestVersion;
        var bar = TestBars.Bar("MSFT", new DateOnly(2026, 3, 4));
        await store.UpsertAsync([bar with { Volume = bar.Volume + 1 }]);
        var v3 = store.LatestVersion;

        // Only MSFT's first 2026 file is superseded: the version before it (v1) never named it.
        var silverStore = Path.Combine(_lake.Dir, "_metadata", "data", "silver", "prices_daily");
        var before = Directory.GetFiles(silverStore).Select(Path.GetFileName).ToHashSet();
        Assert.Equal(1, (await store.VacuumAsync(TimeSpan.Zero)).Files);
        var vacuumed = Assert.Single(before.Except(Directory.GetFiles(silverStore).Select(Path.GetFileName)));
        // Its bytes are freed: no link to it is left anywhere (the view swapped out by the last commit linked it).
        Assert.Empty(Directory.GetFiles(_lake.Dir, vacuumed!, SearchOption.AllDirectories));

        var listed = store.ListVersions(silver).ToDictionary(v => v.Version, v => v.Readable);
        Assert.Equal([(v1, true), (v2, false), (v3, true)], listed.OrderBy(kv => kv.Key).Select(kv => (kv.Key, kv.Value)));
        Assert.Equal(aapl, ReadAll(store, TableQuery.Create().WithAsOf(ReadAsOf.AtVersion(v1))));
        var gone = Assert.Throws<LakehouseException>(() => store.SchemaOf(TableQuery.Create().WithAsOf(ReadAsOf.AtVersion(v2))));
        Assert.Equal(LakehouseErrorKind.NotFound, gone.Kind);
        Assert.Contains($"the oldest version still readable is {v1}, and every version from {v3} on is", gone.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListVersions_FiltersBySymbolAndTime_AndCountsRows()
    {
        var store = _lake.Open();
        var moments = await RewriteHistoryAsync(store);
        var silver = store.Catalog.Get(Layer.Silver, PriceTables.PricesDaily);
        var all = store.ListVersions(silver);
        Assert.Equal(moments.Select(m => m.Version).Reverse(), all.Select(v => v.Version));
        var first = all[^1];
        Assert.Equal("write", first.Operation);
        Assert.Equal(TestBars.Generate(Universe, From, To).Count, first.Inserted);
        Assert.Equal(["AAPL", "MSFT", "^GSPC"], first.Symbols.Order(StringComparer.Ordinal));
        Assert.Equal(1, all[^2].Updated);
        Assert.Equal(["vendor_x"], all[0].Sources);
        Assert.Equal(5, all[0].Updated);

        var msft = store.ListVersions(silver, symbol: "msft");
        Assert.Equal([moments[2].Version, moments[0].Version], msft.Select(v => v.Version));
        var window = store.ListVersions(silver, from: all[^2].Ts, to: all[1].Ts);
        Assert.Equal([moments[2].Version, moments[1].Version], window.Select(v => v.Version));
        Assert.Single(store.ListVersions(silver, limit: 1));
    }

    [Fact]
    public async Task ReadAtVersionsAroundACheckpoint_RebuildsFromTheCheckpointAndTheEntriesAfterIt()
    {
        var store = _lake.Open();
        var rows = new Dictionary<long, List<PriceBar>>();
        var day = new DateOnly(2026, 1, 1);
        // 105 commits: a new day of AAPL each, and every 10th a correction of the first day (a rewritten file).
        for (var i = 0; i < 105; i++)
        {
            day = day.AddDays(1);
            var bar = TestBars.Bar("AAPL", day);
            IReadOnlyList<PriceBar> write = i % 10 == 9
                ? [bar, TestBars.Bar("AAPL", new DateOnly(2026, 1, 2)) with { Volume = 1000 + i }]
                : [bar];
            await store.UpsertAsync(write);
            if (store.LatestVersion is 50 or 99 or 100 or 101 or 105)
            {
                rows[store.LatestVersion] = ReadAll(store, TableQuery.Create());
            }
        }
        Assert.Equal(105, store.LatestVersion);
        var checkpoint = Path.Combine(_lake.Dir, "_metadata", "log", "00000000000000000100.checkpoint.json");
        await TestTimeouts.WaitUntilAsync(() => File.Exists(checkpoint), "the checkpoint of version 100 is written");

        var reopened = _lake.Open();
        foreach (var (version, expected) in rows)
        {
            Assert.Equal(expected, ReadAll(reopened, TableQuery.Create().WithAsOf(ReadAsOf.AtVersion(version))));
        }
        Assert.Equal(1000 + 99, ReadAll(reopened, TableQuery.Create(dateFrom: "2026-01-02", dateTo: "2026-01-02").WithAsOf(ReadAsOf.AtVersion(101))).Single().Volume);
        Assert.Equal(1000 + 89, ReadAll(reopened, TableQuery.Create(dateFrom: "2026-01-02", dateTo: "2026-01-02").WithAsOf(ReadAsOf.AtVersion(99))).Single().Volume);
        // Rebuilt states are kept: reading the same versions again rebuilds nothing.
        var rebuilt = reopened.VersionStatesRebuilt;
        foreach (var version in rows.Keys.Where(v => v != 105))
        {
            ReadAll(reopened, TableQuery.Create().WithAsOf(ReadAsOf.AtVersion(version)));
        }
        Assert.Equal(rebuilt, reopened.VersionStatesRebuilt);
    }

    [Fact]
    public async Task Diff_BetweenVersions_ListsAddedRemovedAndChangedRowsWithOldAndNewValues()
    {
        var store = _lake.Open();
        var moments = await RewriteHistoryAsync(store);
        var v = moments.Select(m => m.Version).ToArray();

        // The vendor's re-upload of a week: five changed ^GSPC rows, volume and source old and new.
        var reupload = Diff(store, TableQuery.Create(symbols: ["^GSPC", "AAPL"]).WithAsOf(ReadAsOf.AtVersion(v[3])).WithDiffFrom(v[2]));
        Assert.Equal(5, reupload.Count);
        Assert.All(reupload, r => Assert.Equal(("changed", "^GSPC", "synthetic", "vendor_x"), (r["change"], r["symbol"], r["old_source"], r["new_source"])));
        Assert.Equal(reupload.Select(r => (long)r["old_volume"]! + 1000), reupload.Select(r => (long)r["new_volume"]!));
        Assert.Equal(["2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05", "2026-11-06"], reupload.Select(r => (string)r["date"]!));
        Assert.All(reupload, r => Assert.Equal(r["old_close"], r["new_close"]));

        // The corrected bar: one changed close; the dividend: every MSFT adj_close before the ex-date.
        var correction = Assert.Single(Diff(store, TableQuery.Create().WithAsOf(ReadAsOf.AtVersion(v[1])).WithDiffFrom(v[0])));
        Assert.Equal(("AAPL", "2026-11-12"), (correction["symbol"], correction["date"]));
        Assert.Equal(Math.Round((double)correction["old_close"]! * 1.01, 2), correction["new_close"]);
        var dividend = Diff(store, TableQuery.Create(symbols: ["MSFT"]).WithAsOf(ReadAsOf.AtVersion(v[2])).WithDiffFrom(v[1]));
        Assert.Equal(TestBars.Generate(["MSFT"], From, new DateOnly(2026, 11, 19)).Count, dividend.Count);
        Assert.All(dividend, r => Assert.Equal(Math.Round((double)r["old_close"]! * 0.98, 4), r["new_adj_close"]));

        // From the empty lake everything is added; back to it (diff from the latest, as of version 0) everything is removed.
        var added = Diff(store, TableQuery.Create(symbols: ["AAPL"]).WithDiffFrom(0));
        Assert.Equal(moments[^1].Rows.Count(b => b.Symbol == "AAPL"), added.Count);
        Assert.All(added, r => Assert.Equal(("added", null), (r["change"], r["old_close"])));
        var removed = Diff(store, TableQuery.Create(symbols: ["AAPL"]).WithAsOf(ReadAsOf.AtVersion(0)).WithDiffFrom(v[3]));
        Assert.Equal(added.Count, removed.Count);
        Assert.All(removed, r => Assert.Equal(("removed", null), (r["change"], r["new_close"])));
        // The latest version against itself: nothing.
        Assert.Empty(Diff(store, TableQuery.Create().WithDiffFrom(v[3])));
        // Its plan counts the diff's rows per symbol.
        Assert.Equal([("^GSPC", 5L)], store.Plan(TableQuery.Create().WithAsOf(ReadAsOf.AtVersion(v[3])).WithDiffFrom(v[2])).Select(p => (p.Symbol, p.Rows)));

        var projected = Assert.Throws<LakehouseException>(() => store.SchemaOf(TableQuery.Create(columns: ["close"]).WithDiffFrom(v[0])));
        Assert.StartsWith("diff_from_version:", projected.Message, StringComparison.Ordinal);
        var unknown = Assert.Throws<LakehouseException>(() => store.SchemaOf(TableQuery.Create().WithDiffFrom(v[3] + 10)));
        Assert.Equal(LakehouseErrorKind.InvalidArgument, unknown.Kind);
        Assert.StartsWith($"diff_from_version: version {v[3] + 10} does not exist", unknown.Message, StringComparison.Ordinal);
    }

    private static List<Dictionary<string, object?>> Diff(LakeStore store, TableQuery query)
    {
        var schema = store.SchemaOf(query);
        Assert.Equal(["change", "symbol", "date", "old_open", "new_open"], schema.FieldsList.Take(5).Select(f => f.Name));
        var rows = new List<Dictionary<string, object?>>();
        foreach (var batch in store.Read(query))
        {
            for (var i = 0; i < batch.Length; i++)
            {
                rows.Add(schema.FieldsList.Select((f, c) => (f.Name, Value: PriceBarBatches.ValueAt(batch.Column(c), i)))
                    .ToDictionary(x => x.Name, x => x.Value));
            }
        }
        return rows;
    }

    internal static List<PriceBar> ReadAll(LakeStore store, TableQuery query) =>
        [.. store.Read(query).SelectMany(PriceBarBatches.ToBars)];

    private static string Key(PriceBar b) =>
        FormattableString.Invariant($"{b.Symbol}|{b.Date:yyyy-MM-dd}|{b.Open}|{b.High}|{b.Low}|{b.Close}|{b.AdjClose}|{b.Volume}|{b.Source}");

    private static List<string> DuckDbRows(List<string> files)
    {
        Assert.NotEmpty(files);
        var list = string.Join(", ", files.Select(f => $"'{f}'"));
        return [.. DuckDbGold.Run($"""
            SELECT symbol, date, open, high, low, close, adj_close, volume, source
            FROM read_parquet([{list}]) ORDER BY symbol, date
            """).Select(r => FormattableString.Invariant(
                $"{r["symbol"]}|{(DateOnly)r["date"]!:yyyy-MM-dd}|{r["open"]}|{r["high"]}|{r["low"]}|{r["close"]}|{r["adj_close"]}|{r["volume"]}|{r["source"]}"))];
    }
}
