using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Storage.Tests;

/// <summary>
/// The ready gate (docs/decisions.md D25): <see cref="LakeStore.Open(StoreOptions, Microsoft.Extensions.Logging.ILogger?)"/>
/// returns before the partition index is listed; every read, plan, write and compaction waits for the walk,
/// so none is computed on a partial index.
/// </summary>
public sealed class StartupGateTests : IDisposable
{
    /// <summary>Above Linux's default pid_max: certainly not running.</summary>
    private const int DeadPid = 4194305;

    private readonly TempLake _lake = new();

    public void Dispose() => _lake.Dispose();

    private static IReadOnlyList<PriceBar> Bars(params string[] symbols) =>
        TestBars.Generate(symbols, new DateOnly(2023, 1, 1), new DateOnly(2024, 6, 30));

    private LakeStore OpenHeld(TaskCompletionSource hold, Func<Task>? before = null) =>
        LakeStore.Open(new StoreOptions
        {
            DataDir = _lake.Dir,
            CacheBytes = 1L << 28,
            BeforeIndexLoad = async () =>
            {
                if (before is not null)
                {
                    await before();
                }
                await hold.Task;
            },
        });

    [Fact]
    public async Task ReadPlanStats_WhileIndexLoadHeld_WaitThenAnswerAsAFullyOpenedStore()
    {
        await _lake.Open().UpsertAsync(Bars("AAPL", "MSFT", "^GSPC"));
        var reference = _lake.Open();
        reference.WaitReady();
        var query = TableQuery.Create(symbols: ["AAPL", "^GSPC"], dateFrom: "2023-02-10", dateTo: "2024-04-03");
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var store = OpenHeld(hold);
        var rows = Task.Run(() => Rows(store.Read(query)));
        var all = Task.Run(() => Rows(store.Read(TableQuery.Create())));
        var plan = Task.Run(() => store.Plan(query));
        var stats = Task.Run(() => store.Stats(PriceTables.Silver));
        // The gate opens only once all four calls are seen parked at it: a call that did not wait never counts.
        await TestTimeouts.WaitUntilAsync(() => store.ReadyWaiters == 4, "the four calls wait at the ready gate");

        Assert.False(store.IsReady);
        Assert.False(store.Ready.IsCompleted);
        Assert.All(new Task[] { rows, all, plan, stats }, t => Assert.False(t.IsCompleted, "answered on a partial index"));
        hold.SetResult();
        await store.Ready;

        Assert.Equal(Rows(reference.Read(query)), await rows);
        Assert.Equal(Rows(reference.Read(TableQuery.Create())), await all);
        Assert.Equal(reference.Plan(query), await plan);
        var (expected, actual) = (reference.Stats(PriceTables.Silver), await stats);
        Assert.Equal((expected.Symbols, expected.Files, expected.Rows), (actual.Symbols, actual.Files, actual.Rows));
    }

    [Fact]
    public async Task Upsert_WhileIndexLoadHeld_CommitsAfterTheLoadAndTheIndexHasOldAndNewFiles()
    {
        await _lake.Open().UpsertAsync(Bars("AAPL"));
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var store = OpenHeld(hold);
        var newcomer = TestBars.Generate(["NEWCO"], new DateOnly(2024, 1, 1), new DateOnly(2024, 3, 31));

        var write = store.UpsertAsync(newcomer);
        await TestTimeouts.WaitUntilAsync(() => store.ReadyWaiters == 1, "the write waits at the ready gate");
        Assert.False(write.IsCompleted, "a write was staged against a partial index");
        hold.SetResult();
        var reports = await write;

        Assert.Equal(newcomer.Count, Assert.Single(reports).Inserted);
        // AAPL's 2023 and 2024 files, and NEWCO's rows in a new 2024 file.
        Assert.Equal(3, store.DataFiles);
        Assert.Equal(["AAPL", "NEWCO"], store.SymbolsFor(TableQuery.Create()));
        Assert.Equal(newcomer.Count, store.Read(TableQuery.Create(symbols: ["NEWCO"])).Sum(b => b.Length));
        var fresh = _lake.Open();
        Assert.Equal(Bars("AAPL").Count + newcomer.Count, fresh.Read(TableQuery.Create()).Sum(b => b.Length));
    }

    [Fact]
    public async Task Open_WriterThatCommittedAndDiedDuringTheIndexLoad_ItsFilesAreKeptAndItsCommitFinished()
    {
        var bars = Bars("AAPL");
        await _lake.Open().UpsertAsync(bars);
        var july = TestBars.Generate(["AAPL"], new DateOnly(2024, 7, 1), new DateOnly(2024, 7, 31));
        var manifest = Path.Combine(_lake.Dir, "_metadata", "manifests", "silver_prices_daily.jsonl");
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // After the open's synchronous repair and before the index load: a writer commits and dies before it publishes
        // the table's folder or appends its manifest line (its folder, its line and its move of the record of complete
        // manifests are taken back to stand for that).
        var through = Path.Combine(_lake.Dir, "_metadata", "log", "_manifests_through");
        var store = OpenHeld(hold, async () =>
        {
            var before = await File.ReadAllBytesAsync(manifest);
            var throughBefore = await File.ReadAllBytesAsync(through);
            var other = _lake.Open();
            other.WaitReady();
            var folder = LakeFolder.Files(_lake.Dir, PriceTables.Silver).Select(Path.GetFileName).ToArray();
            await other.UpsertAsync(july);
            foreach (var f in LakeFolder.Files(_lake.Dir, PriceTables.Silver).Where(f => !folder.Contains(Path.GetFileName(f))))
            {
                File.Delete(f);
            }
            await File.WriteAllBytesAsync(manifest, before);
            await File.WriteAllBytesAsync(through, throughBefore);
        });
        hold.SetResult();
        await store.Housekeeping;

        // Its data file is named by a committed version: the sweep keeps it, and reads see the commit.
        Assert.Equal(bars.Count + july.Count, store.Read(TableQuery.Create(symbols: ["AAPL"])).Sum(b => b.Length));
        Assert.Equal(1, await store.RepairAsync());
        Assert.Equal(store.Metadata.Current.Table(PriceTables.Silver).Files.Keys.Order(),
            LakeFolder.Files(_lake.Dir, PriceTables.Silver).Select(Path.GetFileName).Order()!);
        Assert.Equal(bars.Count + july.Count, LakeFolder.Bars(_lake.Dir, PriceTables.Silver).Count);
        Assert.Equal(2, store.ReadManifest(PriceTables.Silver).Count);
        Assert.Equal(["AAPL"], Assert.Single(store.RecoveredCommits()).Reports.Select(r => r.Symbol));
    }

    private static List<string> Rows(IEnumerable<Apache.Arrow.RecordBatch> batches)
    {
        var rows = new List<string>();
        foreach (var b in batches)
        {
            var symbol = (Apache.Arrow.StringArray)b.Column("symbol");
            var date = (Apache.Arrow.Date32Array)b.Column("date");
            var close = (Apache.Arrow.DoubleArray)b.Column("close");
            for (var i = 0; i < b.Length; i++)
            {
                rows.Add($"{symbol.GetString(i)} {date.GetValue(i)} {close.GetValue(i)}");
            }
        }
        return rows;
    }
}
