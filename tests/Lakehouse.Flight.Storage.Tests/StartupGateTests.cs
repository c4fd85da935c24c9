using System.Text.Json;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Storage.Tests;

/// <summary>
/// The ready gate (docs/decisions.md D25): <see cref="PriceStore.Open(StoreOptions, Microsoft.Extensions.Logging.ILogger?)"/>
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
        SyntheticSource.Generate(symbols, new DateOnly(2023, 1, 1), new DateOnly(2024, 6, 30));

    private PriceStore OpenHeld(TaskCompletionSource hold, Func<Task>? before = null) =>
        PriceStore.Open(new StoreOptions
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
        var query = PriceQuery.Create(symbols: ["AAPL", "^GSPC"], dateFrom: "2023-02-10", dateTo: "2024-04-03");
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var store = OpenHeld(hold);
        var rows = Task.Run(() => Rows(store.Read(query)));
        var all = Task.Run(() => Rows(store.Read(PriceQuery.Create())));
        var plan = Task.Run(() => store.Plan(query));
        var stats = Task.Run(() => store.Stats(PriceTables.Silver));
        await Task.Delay(200);

        Assert.False(store.IsReady);
        Assert.False(store.Ready.IsCompleted);
        Assert.All(new Task[] { rows, all, plan, stats }, t => Assert.False(t.IsCompleted, "answered on a partial index"));
        hold.SetResult();
        await store.Ready;

        Assert.Equal(Rows(reference.Read(query)), await rows);
        Assert.Equal(Rows(reference.Read(PriceQuery.Create())), await all);
        Assert.Equal(reference.Plan(query), await plan);
        var (expected, actual) = (reference.Stats(PriceTables.Silver), await stats);
        Assert.Equal((expected.Symbols, expected.Partitions, expected.Rows), (actual.Symbols, actual.Partitions, actual.Rows));
    }

    [Fact]
    public async Task Upsert_WhileIndexLoadHeld_CommitsAfterTheWalkAndTheIndexHasOldAndNewMonths()
    {
        await _lake.Open().UpsertAsync(Bars("AAPL"));
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var store = OpenHeld(hold);
        var newcomer = SyntheticSource.Generate(["NEWCO"], new DateOnly(2024, 1, 1), new DateOnly(2024, 3, 31));

        var write = store.UpsertAsync(newcomer);
        await Task.Delay(200);
        Assert.False(write.IsCompleted, "a write was staged against a partial index");
        hold.SetResult();
        var reports = await write;

        Assert.Equal(newcomer.Count, Assert.Single(reports).Inserted);
        Assert.Equal(18 + 3, store.IndexedPartitions);
        Assert.Equal(["AAPL", "NEWCO"], store.SymbolsFor(PriceQuery.Create()));
        Assert.Equal(newcomer.Count, store.Read(PriceQuery.Create(symbols: ["NEWCO"])).Sum(b => b.Length));
        var fresh = _lake.Open();
        Assert.Equal(Bars("AAPL").Count + newcomer.Count, fresh.Read(PriceQuery.Create()).Sum(b => b.Length));
    }

    [Fact]
    public async Task Open_WriterThatCommittedAndDiedDuringTheWalk_ItsTempIsKeptAndRolledForward()
    {
        var bars = Bars("AAPL");
        await _lake.Open().UpsertAsync(bars);
        var final = Path.Combine(_lake.Dir, "silver", "prices_daily", "symbol=AAPL", "year=2024", "month=7", "data.parquet");
        var temp = Path.Combine(Path.GetDirectoryName(final)!, $"{DurableFile.TempPrefix}{DeadPid}-{Guid.NewGuid():N}-data.parquet{DurableFile.TempSuffix}");
        var july = SyntheticSource.Generate(["AAPL"], new DateOnly(2024, 7, 1), new DateOnly(2024, 7, 31));
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // After the open's synchronous journal recovery and before the walk: a writer commits its journal and dies.
        var store = OpenHeld(hold, async () =>
        {
            var scratch = new TempLake();
            await PriceStore.Open(scratch.Dir).UpsertAsync(july);
            Directory.CreateDirectory(Path.GetDirectoryName(final)!);
            File.Copy(Path.Combine(scratch.Dir, "silver", "prices_daily", "symbol=AAPL", "year=2024", "month=7", "data.parquet"), temp);
            scratch.Dispose();
            var record = new JournalRecord(DeadPid, [new StagedFile(temp, final)], []);
            await File.WriteAllBytesAsync(Path.Combine(_lake.Dir, "_metadata", "journal", $"{DeadPid}-{Guid.NewGuid():N}.json"),
                JsonSerializer.SerializeToUtf8Bytes(record, JournalJson.Default.JournalRecord));
        });
        hold.SetResult();
        await store.Housekeeping;

        Assert.True(File.Exists(temp), "the background cleanup deleted a temp file that a committed journal names");
        // The next commit rolls the dead writer's journal forward.
        await store.UpsertAsync(SyntheticSource.Generate(["MSFT"], new DateOnly(2024, 1, 1), new DateOnly(2024, 1, 31)));
        Assert.False(File.Exists(temp));
        Assert.True(File.Exists(final));
        Assert.Equal(bars.Count + july.Count, _lake.Open().Read(PriceQuery.Create(symbols: ["AAPL"])).Sum(b => b.Length));
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
