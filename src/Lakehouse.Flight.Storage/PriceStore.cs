using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lakehouse.Flight.Storage;

/// <summary>
/// The lakehouse storage engine: idempotent upserts and raw landings into the partitions of any table
/// of the <see cref="TableCatalog"/>, and streamed reads with partition pruning. One instance per data
/// dir per process (a singleton in the server); several processes may share a data dir.
/// It is a facade over its parts: <c>CommitPipeline</c> (locks, journal, renames, manifests),
/// <c>UpsertMerge</c> (the merge rules), <c>ReadCache</c> and <c>PartitionIndex</c>.
/// </summary>
public sealed partial class PriceStore
{
    private readonly PartitionIndex _index;
    private readonly ReadCache _cache;
    private readonly ChangeFeed _changes;
    private readonly Journal _journal;
    private readonly CommitPipeline _commits;
    private readonly CompactCopies _copies;

    /// <summary>Commits applied so far: reads check it to see every symbol as of one commit (docs/architecture.md, "Snapshot reads").</summary>
    private readonly CommitSequence _snapshot = new();
    private readonly ILogger _logger;

    private PriceStore(StoreOptions options, ILogger logger)
    {
        Options = options;
        Catalog = options.Catalog;
        Paths = new LakePaths(options.DataDir);
        _logger = logger;
        try
        {
            Directory.CreateDirectory(Paths.Root);
            Directory.CreateDirectory(Paths.ManifestDir);
            Directory.CreateDirectory(Paths.LockDir);
            Directory.CreateDirectory(Paths.JournalDir);
        }
        catch (Exception ex) when (StorageFaults.IsReadOnly(ex) && Directory.Exists(Paths.Root))
        {
            // A read-only lake that lacks a bookkeeping folder is still readable.
        }
        var manifests = new ManifestLog(Paths.LockDir);
        _journal = new Journal(Paths.JournalDir, manifests, Paths.Root, RecordRecovered);
        _index = new PartitionIndex(Paths);
        _copies = new CompactCopies(Paths, logger);
        _cache = new ReadCache(Paths, _index, options.CacheBytes, options.UseCompactCopies ? _copies : null);
        _changes = new ChangeFeed(Catalog, Paths, _index, _cache, logger);
        manifests.Appended += _changes.OnOwnAppend;
        _wal = new WriteAheadLog(Paths.WalDir);
        _pending = new PendingRows(Math.Max(0, options.PendingUploadBytes));
        _commits = new CommitPipeline(Paths, new LakeLocks(Paths.LockDir, options.LockTimeout), _journal, _index, _cache, _changes,
            RecoveryLock, _snapshot, logger);
    }

    public StoreOptions Options { get; }

    /// <summary>The tables this store serves.</summary>
    public TableCatalog Catalog { get; }

    public LakePaths Paths { get; }

    /// <summary>The read cache (tests check eviction and accounting through it).</summary>
    internal ReadCache Cache => _cache;

    /// <summary>The compacted copies (tests count loads and rejections through it).</summary>
    internal CompactCopies Copies => _copies;

    /// <summary>The partition index (tests).</summary>
    internal PartitionIndex Index => _index;

    /// <summary>
    /// Opens (and creates) the lake: rolls forward committed writes of crashed processes (before it returns),
    /// then builds the partition index in the background, and after it deletes dead processes' temp files. Every read,
    /// plan, write and compaction waits for that (<see cref="Ready"/>), so none is computed on a partial index
    /// (docs/decisions.md D25).
    /// </summary>
    public static PriceStore Open(StoreOptions options, ILogger? logger = null)
    {
        var store = new PriceStore(options, logger ?? NullLogger.Instance);
        store.Recover();
        return store;
    }

    public static PriceStore Open(string dataDir, ILogger? logger = null) => Open(new StoreOptions { DataDir = dataDir }, logger);

    /// <summary>
    /// Completes when the store is ready: the partition index is complete. Faults with the error when listing the lake failed (every read then fails with it too).
    /// </summary>
    public Task Ready => _index.Loaded;

    /// <summary>True once <see cref="Ready"/> has completed successfully.</summary>
    public bool IsReady => _index.IsLoaded;

    /// <summary>Blocks until <see cref="Ready"/>; rethrows its error.</summary>
    public void WaitReady() => _index.WaitLoaded();

    private void Recover()
    {
        FileStream recoveryLock;
        try
        {
            recoveryLock = RecoveryLock();
        }
        catch (Exception ex) when (StorageFaults.IsReadOnly(ex))
        {
            // Nothing can be rolled forward or cleaned on a read-only disk: serve what is there.
            StorageLog.ReadOnlyLake(_logger);
            _changes.Start();
            StartIndexLoad(cleanTemps: false);
            return;
        }
        using (recoveryLock)
        {
            // Synchronous and cheap (the journal folder is normally empty): nothing is served before it.
            var rolled = _journal.Recover().Count;
            // Uploads acknowledged by a process that died are applied by the next writer or the background applier.
            _walScanNeeded = _wal.List().Count > 0;
            if (rolled > 0)
            {
                StorageLog.Recovered(_logger, rolled, 0);
            }
        }
        // Offsets taken before the walk starts: a commit of another process during the walk is either seen
        // by the walk or named by a manifest line past these offsets (re-listed at the first poll), or both.
        _changes.Start();
        StartIndexLoad(cleanTemps: true);
    }

    /// <summary>
    /// The background part of the open: the index walk (then the gate opens), then the sweep for dead
    /// writers' temp files, which needs a listing of every partition folder and so runs after the gate.
    /// Tests wait for it to check the sweep.
    /// </summary>
    internal Task Housekeeping { get; private set; } = Task.CompletedTask;

    private void StartIndexLoad(bool cleanTemps)
    {
        Housekeeping = Task.Run(async () =>
        {
            try
            {
                if (Options.BeforeIndexLoad is { } hold)
                {
                    await hold().ConfigureAwait(false);
                }
                var start = System.Diagnostics.Stopwatch.GetTimestamp();
                _index.Load(Catalog);
                StorageLog.IndexLoaded(_logger, _index.PartitionCount, (long)System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                _index.MarkLoaded();
            }
            catch (Exception ex)
            {
                StorageLog.IndexFailed(_logger, ex);
                _index.MarkFailed(ex);
                return;
            }
            if (!cleanTemps)
            {
                return;
            }
            if (Options.DeferTempSweep)
            {
                await _sweepAllowed.Task.ConfigureAwait(false);
            }
            try
            {
                // A quarter of a core: the first reads after a start need the cores more than stale temps need deleting.
                var removed = RemoveDeadTemps(_index.FindTemps(Catalog, TempSweepDutyCycle));
                if (removed > 0)
                {
                    StorageLog.Recovered(_logger, 0, removed);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Stale temps only take space; the next open sweeps again.
                StorageLog.TempSweepFailed(_logger, ex.Message);
            }
        });
    }

    private readonly TaskCompletionSource _sweepAllowed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The share of one core the sweep for dead writers' temp files may take (it pauses between symbol folders).</summary>
    internal const double TempSweepDutyCycle = 0.25;

    /// <summary>
    /// With <see cref="StoreOptions.DeferTempSweep"/>: lets the sweep for dead writers' temp files start (the
    /// server calls it when its cache warm-up is done, so the two do not share the cores).
    /// </summary>
    public void AllowTempSweep() => _sweepAllowed.TrySetResult();

    /// <summary>
    /// Deletes the temp files of dead processes (met by the walk, in the journal folder, beside gold reports),
    /// under the recovery lock, sparing any temp a journal names: a writer that committed and died during the
    /// walk is rolled forward by the next commit, which needs its temps.
    /// </summary>
    private int RemoveDeadTemps(List<string> temps)
    {
        var reportTemps = Directory.Exists(Paths.GoldReportsDir)
            ? Directory.EnumerateFiles(Paths.GoldReportsDir, DurableFile.TempPrefix + "*")
            : [];
        var all = temps.Concat(Directory.EnumerateFiles(Paths.JournalDir, DurableFile.TempPrefix + "*")).Concat(reportTemps).ToList();
        if (all.Count == 0)
        {
            return 0;
        }
        FileStream recoveryLock;
        try
        {
            recoveryLock = RecoveryLock();
        }
        catch (Exception ex) when (StorageFaults.IsReadOnly(ex))
        {
            return 0;
        }
        using (recoveryLock)
        {
            var named = _journal.NamedTemps();
            var removed = 0;
            foreach (var t in all)
            {
                if (!named.Contains(t) && DurableFile.OwnerPid(t) is { } pid && !ProcessLiveness.IsAlive(pid))
                {
                    DurableFile.TryDelete(t);
                    removed++;
                }
            }
            return removed;
        }
    }

    private FileStream RecoveryLock()
    {
        var path = Path.Combine(Paths.LockDir, "recovery.lock");
        var deadline = DateTime.UtcNow + Options.LockTimeout;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException ex) when (DateTime.UtcNow < deadline && !StorageFaults.IsReadOnly(ex))
            {
                Thread.Sleep(2);
            }
        }
    }

    internal static string LockKey(TableId table, string symbol) =>
        (table.Source is null ? $"{Layers.Name(table.Layer)}_{table.Table}" : $"{Layers.Name(table.Layer)}_{table.Table}_{table.Source}")
        + "__" + HivePath.Escape(symbol);

    public static string NewRunId() => $"{DateTime.UtcNow:yyyyMMddTHHmmssfff}-{Guid.NewGuid().ToString("N")[..8]}";
}
