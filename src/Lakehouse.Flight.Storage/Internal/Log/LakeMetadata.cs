using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// The lake's current version in this process: opened from the newest checkpoint and the log entries after it,
/// indexed in the background once every data file's directory is loaded (the ready gate: nothing reads or writes a
/// partial index), advanced by this process's commits and by following other processes' entries (one <c>stat</c>
/// of the next version's entry per read).
/// </summary>
internal sealed class LakeMetadata
{
    /// <summary>
    /// TEST ONLY: with <c>LAKEHOUSE_TEST_CRASH_AFTER_COMMIT_POINT=1</c> in its environment a process SIGKILLs itself
    /// right after its log entry is durable, before anything else of the commit (state, table folders, manifests,
    /// gold): the crash tests' deterministic "died after the commit point".
    /// </summary>
    internal const string CrashAfterCommitPointVariable = "LAKEHOUSE_TEST_CRASH_AFTER_COMMIT_POINT";

    private static readonly bool CrashAfterCommitPoint = Environment.GetEnvironmentVariable(CrashAfterCommitPointVariable) == "1";

    private readonly TableCatalog _catalog;
    private readonly LakeLog _log;
    private readonly CommitSequence _snapshot;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _followGate = new();
    private volatile LakeState _state;
    private volatile bool _ready;
    private int _waiters;

    public LakeMetadata(TableCatalog catalog, LakeLog log, DirectoryCache directories, CommitSequence snapshot, ILogger logger)
    {
        _catalog = catalog;
        _log = log;
        Directories = directories;
        _snapshot = snapshot;
        _logger = logger;
        _state = LakeState.Open(catalog, null);
    }

    public DirectoryCache Directories { get; }

    public LakeLog Log => _log;

    /// <summary>Raised (under the commit sequence) for each table change another process committed: the caches drop those symbols.</summary>
    public event Action<long, TableChange>? ForeignChange;

    /// <summary>Completes once the state is indexed (faults with the error when loading failed).</summary>
    public Task Loaded => _loaded.Task;

    public bool IsLoaded => _ready;

    /// <summary>Callers held at the gate now: a test opens the gate once the calls it started are seen waiting.</summary>
    public int Waiters => Volatile.Read(ref _waiters);

    public void WaitLoaded()
    {
        if (!_ready)
        {
            Interlocked.Increment(ref _waiters);
            try
            {
                _loaded.Task.GetAwaiter().GetResult();
            }
            finally
            {
                Interlocked.Decrement(ref _waiters);
            }
        }
    }

    public async Task WaitLoadedAsync(CancellationToken cancellationToken)
    {
        if (!_ready)
        {
            Interlocked.Increment(ref _waiters);
            try
            {
                await _loaded.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _waiters);
            }
        }
    }

    /// <summary>The newest state this process knows (waits for the ready gate).</summary>
    public LakeState Current
    {
        get
        {
            WaitLoaded();
            return _state;
        }
    }

    /// <summary>The state without waiting for the index (file lists and version only; health and tests).</summary>
    public LakeState Unindexed => _state;

    /// <summary>Reads the newest checkpoint and the entries after it (file lists only; fast).</summary>
    public void Open()
    {
        var checkpoint = _log.ReadLatestCheckpoint();
        var state = LakeState.Open(_catalog, checkpoint);
        var weight = 0L;
        foreach (var v in _log.VersionsAfter(state.Version))
        {
            var head = _log.ReadHead(v);
            weight += Committer.CheckpointWeightOf(head);
            state = state.Apply(head, NoIndex);
        }
        _state = state;
        _replayedWeight = weight;
    }

    private long _replayedWeight;

    /// <summary>
    /// The weight (<see cref="Committer.CheckpointWeightOf"/>) of the entries the open replayed after the newest checkpoint,
    /// once: the open's repair writes a checkpoint when it is large, so the next open does not replay them again.
    /// </summary>
    public long TakeReplayedWeight() => Interlocked.Exchange(ref _replayedWeight, 0);

    private static readonly DirectoryCache NoIndex = new((_, _) => throw new InvalidOperationException("not indexed yet"));

    /// <summary>Loads every current file's directory (all cores), builds the index, opens the gate. Entries committed meanwhile are applied first.</summary>
    public void LoadIndex()
    {
        try
        {
            lock (_followGate)
            {
                var state = _state;
                foreach (var v in _log.VersionsAfter(state.Version))
                {
                    state = state.Apply(_log.ReadHead(v), NoIndex);
                }
                var work = state.Tables.Values.SelectMany(t => t.Files.Values.Select(f => (t.Definition, File: f))).ToArray();
                Parallel.ForEach(work, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
                    w => Directories.Get(w.Definition, w.File));
                _state = state.WithIndexes(Directories);
            }
            _ready = true;
            _loaded.TrySetResult();
        }
        catch (Exception ex)
        {
            _loaded.TrySetException(ex);
            throw;
        }
    }

    /// <summary>
    /// The newest committed state computed from the log without making it this process's (no cache is touched): what
    /// a repair under a table's writer lock compares the table's folder and manifests with.
    /// </summary>
    public LakeState Latest()
    {
        var state = _state;
        foreach (var v in _log.VersionsAfter(state.Version))
        {
            state = state.Apply(_log.ReadHead(v), state.Indexed ? Directories : NoIndex);
        }
        return state;
    }

    /// <summary>One stat: when another process committed the next version, reads and applies what is new.</summary>
    public void Poll()
    {
        var state = Current;
        if (_log.Exists(state.Version + 1))
        {
            CatchUp();
        }
    }

    /// <summary>Applies every entry committed after the current version (other processes' commits) and returns the new state.</summary>
    public LakeState CatchUp()
    {
        WaitLoaded();
        lock (_followGate)
        {
            var state = _state;
            var next = state.Version + 1;
            if (!_log.Exists(next))
            {
                return state;
            }
            var entries = new List<LogEntry>();
            for (var v = next; _log.Exists(v); v++)
            {
                entries.Add(_log.ReadHead(v));
            }
            var applied = state;
            foreach (var entry in entries)
            {
                applied = applied.Apply(entry, Directories);
            }
            _snapshot.BeginApply();
            try
            {
                _state = applied;
                foreach (var entry in entries)
                {
                    foreach (var change in entry.Tables)
                    {
                        ForeignChange?.Invoke(entry.Version, change);
                    }
                }
            }
            finally
            {
                _snapshot.EndApply();
            }
            StorageLog.FollowedCommits(_logger, entries.Count, applied.Version);
            return applied;
        }
    }

    /// <summary>
    /// Commits <paramref name="entry"/> at the next free version: catches up with other processes' entries until the
    /// put-if-absent succeeds (callers hold the writer locks of every table the entry touches, so entries that
    /// overtake it touch other tables), then makes it the current state inside <paramref name="apply"/>'s commit
    /// sequence. Returns the committed entry (its version and reports set) and the new state.
    /// </summary>
    public (LogEntry Entry, LakeState State) Commit(LogEntry entry, Action<LakeState>? apply)
    {
        lock (_followGate)
        {
            while (true)
            {
                var state = CatchUpLocked();
                var version = state.Version + 1;
                // Commit times never fall as versions rise (an as-of read finds the version of an instant by bisection):
                // a writer that stamped its entry before another took the previous version takes that version's time.
                // In whole milliseconds, as the log stores them, so the entry in memory is the one on disk.
                var stamped = entry.Ts >= state.Ts ? entry.Ts : state.Ts;
                var ts = new DateTimeOffset(stamped.UtcTicks - (stamped.UtcTicks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
                var reports = entry.Reports.Select(r => r with { Version = version }).ToArray();
                var numbered = entry with
                {
                    Version = version,
                    Ts = ts,
                    Reports = reports,
                    ReportLines = ReportLines(reports),
                };
                if (!_log.TryCommit(numbered))
                {
                    continue;
                }
                if (CrashAfterCommitPoint && numbered.Tables.Count > 0)
                {
                    System.Diagnostics.Process.GetCurrentProcess().Kill();
                }
                var next = state.Apply(numbered, Directories);
                _snapshot.BeginApply();
                try
                {
                    _state = next;
                    apply?.Invoke(next);
                }
                finally
                {
                    _snapshot.EndApply();
                }
                return (numbered, next);
            }
        }
    }

    /// <summary>
    /// Each report's JSON line (the manifest line), made on all cores: once per commit for the entry and the manifests (a
    /// 20,000-symbol day's 40,000 lines were ~0.3 s on one core).
    /// </summary>
    internal static string[] ReportLines(IReadOnlyList<StorageReport> reports)
    {
        var lines = new string[reports.Count];
        AllCores.For(lines.Length, i => lines[i] = reports[i].ToJson());
        return lines;
    }

    private LakeState CatchUpLocked()
    {
        var state = _state;
        if (!_log.Exists(state.Version + 1))
        {
            return state;
        }
        // Re-entrant: Monitor allows the commit's own thread in.
        return CatchUp();
    }
}
