using Lakehouse.Flight.Core;
using Lakehouse.Flight.Storage.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lakehouse.Flight.Storage;

/// <summary>
/// The lakehouse storage engine: idempotent upserts into month partitions, bronze landing, and
/// streamed reads with partition pruning. One instance per data dir per process (a singleton in the
/// server); several processes may share a data dir.
/// </summary>
public sealed partial class PriceStore
{
    private readonly PartitionIndex _index;
    private readonly PartitionCache _cache;
    private readonly SymbolCache _symbols;
    private readonly LakeLocks _locks;
    private readonly ManifestLog _manifests;
    private readonly Journal _journal;
    private readonly ChangeFeed _changes;
    private readonly ILogger _logger;

    private PriceStore(StoreOptions options, ILogger logger)
    {
        Options = options;
        Paths = new LakePaths(options.DataDir);
        _logger = logger;
        Directory.CreateDirectory(Paths.Root);
        Directory.CreateDirectory(Paths.ManifestDir);
        _locks = new LakeLocks(Paths.LockDir, options.LockTimeout);
        _manifests = new ManifestLog(Paths.LockDir);
        _journal = new Journal(Paths.JournalDir, _manifests);
        _index = new PartitionIndex(Paths);
        // Symbol entries serve scans and warm reads; the partition cache only keeps cold small reads
        // of symbols without an entry (and bronze), so it gets a small share of the budget.
        var partitionBudget = options.CacheBytes / 16;
        _cache = new PartitionCache(partitionBudget);
        _symbols = new SymbolCache(options.CacheBytes - partitionBudget);
        _changes = new ChangeFeed(this);
        _manifests.Appended += _changes.OnOwnAppend;
    }

    public StoreOptions Options { get; }

    public LakePaths Paths { get; }

    /// <summary>Opens (and creates) the lake: rolls forward committed writes of crashed processes, deletes their temp files, builds the index.</summary>
    public static PriceStore Open(StoreOptions options, ILogger? logger = null)
    {
        var store = new PriceStore(options, logger ?? NullLogger.Instance);
        store.Recover();
        return store;
    }

    public static PriceStore Open(string dataDir, ILogger? logger = null) => Open(new StoreOptions { DataDir = dataDir }, logger);

    private void Recover()
    {
        using (RecoveryLock())
        {
            var rolled = _journal.Recover();
            var temps = _index.Load();
            var removed = 0;
            foreach (var t in temps)
            {
                if (DurableFile.OwnerPid(t) is { } pid && !ProcessLiveness.IsAlive(pid))
                {
                    DurableFile.TryDelete(t);
                    removed++;
                }
            }
            foreach (var t in Directory.EnumerateFiles(Paths.JournalDir, DurableFile.TempPrefix + "*"))
            {
                if (DurableFile.OwnerPid(t) is { } pid && !ProcessLiveness.IsAlive(pid))
                {
                    DurableFile.TryDelete(t);
                    removed++;
                }
            }
            if (rolled > 0 || removed > 0)
            {
                StorageLog.Recovered(_logger, rolled, removed);
            }
        }
        _changes.Start();
    }

    /// <summary>Applies journals left by writers that died (called under the writer locks).</summary>
    private void RecoverDeadJournals()
    {
        if (!Directory.EnumerateFileSystemEntries(Paths.JournalDir, "*.json").Any())
        {
            return;
        }
        using (RecoveryLock())
        {
            if (_journal.Recover() > 0)
            {
                _changes.Poll(Layer.Silver, PriceSchema.Table);
                _changes.Poll(Layer.Bronze, PriceSchema.Table);
            }
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
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(2);
            }
        }
    }

    internal static string LockKey(TableId table, string symbol) =>
        (table.Source is null ? $"{Layers.Name(table.Layer)}_{table.Table}" : $"{Layers.Name(table.Layer)}_{table.Table}_{table.Source}")
        + "__" + HivePath.Escape(symbol);
}
