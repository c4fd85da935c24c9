using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lakehouse.Flight.Storage;

/// <summary>
/// The lakehouse storage engine: idempotent upserts and raw landings into any table of the <see cref="TableCatalog"/>,
/// committed as numbered versions of the lake, and streamed reads with pruning by symbol and date. One instance per
/// data dir per process (a singleton in the server); several processes may share a data dir.
/// It is a facade over its parts (docs/architecture.md "Storage in parts"): the commit log and the lake's current
/// version (<c>LakeLog</c>, <c>LakeMetadata</c>), the write path (<c>Committer</c>, <c>WriteStaging</c>, <c>UpsertMerge</c>),
/// the data files and table folders (<c>FileStore</c>, <c>SegmentFiles</c>), the caches (<c>ReadCache</c>), and
/// maintenance (<c>Compactor</c>, vacuum, recovery).
/// </summary>
public sealed partial class LakeStore
{
    private readonly LakeMetadata _metadata;
    private readonly ReadCache _cache;
    private readonly FileStore _files;
    private readonly Committer _committer;
    private readonly ManifestLog _manifests;
    private readonly LakeLocks _locks;

    /// <summary>Commits applied so far: reads check it to see every symbol as of one commit (docs/architecture.md, "Snapshot reads").</summary>
    private readonly CommitSequence _snapshot = new();
    private readonly ILogger _logger;

    /// <summary>
    /// Opened by a migration from the seed layout (<see cref="MigrateSeedAsync"/>): the seed's folders are accepted,
    /// and no table folder is published (commits, repairs) until the migration has verified every table.
    /// </summary>
    private readonly bool _layoutMigration;

    private LakeStore(StoreOptions options, ILogger logger, bool layoutMigration = false)
    {
        _layoutMigration = layoutMigration;
        Options = options;
        Catalog = options.Catalog;
        Paths = new LakePaths(options.DataDir);
        _logger = logger;
        try
        {
            Directory.CreateDirectory(Paths.Root);
            Directory.CreateDirectory(Paths.ManifestDir);
            Directory.CreateDirectory(Paths.LockDir);
            Directory.CreateDirectory(Paths.LogDir);
        }
        catch (Exception ex) when (StorageFaults.IsReadOnly(ex) && Directory.Exists(Paths.Root))
        {
            // A read-only lake that lacks a bookkeeping folder is still readable.
        }
        _manifests = new ManifestLog(Paths.LockDir);
        _files = new FileStore(Paths);
        var directories = new DirectoryCache((table, file) => SegmentFiles.ReadDirectory(_files.StorePath(table, file.Name)));
        _metadata = new LakeMetadata(Catalog, new LakeLog(Paths.LogDir), directories, _snapshot, logger);
        _cache = new ReadCache(_files, directories, options.CacheBytes);
        _metadata.ForeignChange += OnForeignChange;
        _locks = new LakeLocks(Paths.LockDir, options.LockTimeout);
        _wal = new WriteAheadLog(Paths.WalDir);
        _pending = new PendingRows(Math.Max(0, options.PendingUploadBytes));
        _committer = new Committer(Paths, Catalog, _metadata, _files, _locks, _cache, _manifests, logger);
        _committer.CheckpointDue += WriteCheckpointLater;
        _committer.PublishViews = !layoutMigration;
        _committer.CheckpointAfter = options.CheckpointWeight;
    }

    /// <summary>
    /// A checkpoint of <paramref name="state"/>, written in the background after a repair: opening trusts that every
    /// entry before the newest checkpoint has its table folders and manifest lines, so those are made true first (or, for
    /// an extra checkpoint, found true). Then the version summaries up to it.
    /// </summary>
    private void WriteCheckpointLater(LakeState state) => _ = Task.Run(async () =>
    {
        try
        {
            if (state.Version % LakeLog.CheckpointInterval != 0)
            {
                // An extra one (the entries since the last were heavy: Committer.CheckpointWeight) comes in a run of
                // writes, and a repair then competes with them (it takes a writer's locks when it sees lines not yet
                // written, and reads whole entries). Without one: the record of complete manifests says every entry up
                // to the version has its lines (what a repair would make true; the folders show only the latest version,
                // which every open republishes). When the record is behind, no checkpoint: the next heavy run tries again.
                if (_metadata.Log.ManifestsThrough() < state.Version)
                {
                    return;
                }
            }
            else
            {
                await RepairAsync().ConfigureAwait(false);
            }
            _metadata.Log.WriteCheckpoint(state.ToCheckpoint());
            // The version summaries up to the checkpoint, so a fresh process lists versions without reading every entry (D38).
            Summaries.WriteMissing(state.Version);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or TimeoutException or LakehouseException)
        {
            StorageLog.CheckpointFailed(_logger, state.Version, ex.Message);
        }
    });

    public StoreOptions Options { get; }

    /// <summary>The tables this store serves.</summary>
    public TableCatalog Catalog { get; }

    public LakePaths Paths { get; }

    /// <summary>The read cache (tests check eviction and accounting through it).</summary>
    internal ReadCache Cache => _cache;

    /// <summary>The lake's current version and log (tests).</summary>
    internal LakeMetadata Metadata => _metadata;

    internal FileStore Files => _files;

    /// <summary>Rows the read cache holds now.</summary>
    public long CachedRows => _cache.Symbols.Rows;

    /// <summary>The lake's current version (0: nothing committed yet).</summary>
    public long Version => _metadata.Unindexed.Version;

    /// <summary>
    /// Opens (and creates) the lake: reads the newest checkpoint and the log entries after it before it returns, then
    /// loads every data file's symbol directory in the background, and after it repairs what a crashed writer left
    /// (table folders, manifest lines) and sweeps files no version names. Every read, plan, write and compaction waits
    /// for the directories (<see cref="Ready"/>), so none is computed on a partial index (docs/decisions.md D25).
    /// </summary>
    /// <exception cref="LakehouseException">FailedPrecondition: the data dir holds a lake in the seed layout (migrate it first).</exception>
    public static LakeStore Open(StoreOptions options, ILogger? logger = null)
    {
        var store = new LakeStore(options, logger ?? NullLogger.Instance);
        store.Recover();
        return store;
    }

    public static LakeStore Open(string dataDir, ILogger? logger = null) => Open(new StoreOptions { DataDir = dataDir }, logger);

    /// <summary>Completes when the store is ready: every data file's directory is loaded. Faults with the error when loading failed.</summary>
    public Task Ready => _metadata.Loaded;

    /// <summary>True once <see cref="Ready"/> has completed successfully.</summary>
    public bool IsReady => _metadata.IsLoaded;

    /// <summary>Blocks until <see cref="Ready"/>; rethrows its error.</summary>
    public void WaitReady() => _metadata.WaitLoaded();

    /// <summary>Completes when <see cref="Ready"/> does (a call's wait: counted in <see cref="ReadyWaiters"/> meanwhile).</summary>
    public Task WaitReadyAsync(CancellationToken cancellationToken = default) => _metadata.WaitLoadedAsync(cancellationToken);

    /// <summary>Calls held at the ready gate now (tests open the gate once the calls they started wait there).</summary>
    internal int ReadyWaiters => _metadata.Waiters;

    /// <summary>Data files of the current version (all tables); does not wait for the index (health reports it while loading).</summary>
    public long DataFiles => _metadata.Unindexed.Tables.Values.Sum(t => (long)t.Files.Count);

    private void Recover()
    {
        if (!_layoutMigration)
        {
            SeedLayout.ThrowIfSeedLake(Paths, Catalog);
        }
        _metadata.Open();
        _walScanNeeded = _wal.List().Count > 0;
        var writable = true;
        try
        {
            // Before the open returns: a crashed writer's commit is finished
            // (table folders, manifest lines, the record for its gold) before anything is served.
            Repair(CancellationToken.None);
        }
        catch (Exception ex) when (StorageFaults.IsReadOnly(ex) || ex is LakehouseException { Kind: LakehouseErrorKind.FailedPrecondition })
        {
            StorageLog.ReadOnlyLake(_logger);
            writable = false;
        }
        StartIndexLoad(writable);
    }

    /// <summary>
    /// The background part of the open: the directories (then the gate opens), then the repair of what crashed writers
    /// left (table folders, manifest lines), then the sweep of files no version names. Tests wait for it.
    /// </summary>
    internal Task Housekeeping { get; private set; } = Task.CompletedTask;

    private void StartIndexLoad(bool writable)
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
                _metadata.LoadIndex();
                StorageLog.IndexLoaded(_logger, DataFiles, _metadata.Unindexed.Version,
                    (long)System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
            catch (Exception ex)
            {
                StorageLog.IndexFailed(_logger, ex);
                return;
            }
            if (!writable)
            {
                return;
            }
            if (Options.DeferTempSweep)
            {
                await _sweepAllowed.Task.ConfigureAwait(false);
            }
            try
            {
                var removed = SweepOrphans(CancellationToken.None);
                if (removed > 0)
                {
                    StorageLog.Recovered(_logger, 0, removed);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or TimeoutException || StorageFaults.IsReadOnly(ex))
            {
                // Stale files only take space; the next open sweeps again.
                StorageLog.TempSweepFailed(_logger, ex.Message);
            }
        });
    }

    private readonly TaskCompletionSource _sweepAllowed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// With <see cref="StoreOptions.DeferTempSweep"/>: lets the sweep of files no version names start (the server calls
    /// it when its cache warm-up is done, so the two do not share the cores).
    /// </summary>
    public void AllowTempSweep() => _sweepAllowed.TrySetResult();

    private void OnForeignChange(long version, TableChange change)
    {
        if (Catalog.Tables.FirstOrDefault(t => t.Id == change.Table) is not { } table || table.PerSource)
        {
            return;
        }
        foreach (var symbol in change.Symbols)
        {
            _cache.Invalidate(new TableId(table), symbol, version);
        }
    }

    internal static string LockKey(TableDefinition table) => Committer.LockKey(table);

    public static string NewRunId() => $"{DateTime.UtcNow:yyyyMMddTHHmmssfff}-{Guid.NewGuid().ToString("N")[..8]}";
}
