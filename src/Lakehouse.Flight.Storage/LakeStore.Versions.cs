using System.Collections.Immutable;
using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Core.Wire;
using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Storage;

/// <summary>
/// Versions, as-of reads and named snapshots (docs/decisions.md D38). Every commit is a numbered version of the lake
/// (the commit log); a read as of a version, an instant or a snapshot reads the table's files of that version,
/// rebuilt from the nearest checkpoint and the entries after it (<c>VersionStates</c>), directly from the files:
/// never through the symbol entries (they hold the latest rows) nor the acknowledged uploads not yet applied (they
/// belong to the version that will apply them).
/// </summary>
public sealed partial class LakeStore
{
    private VersionStates? _versionStates;
    private VersionHistory? _versionHistory;
    private VersionSummaryFiles? _summaryFiles;
    private SnapshotFiles? _snapshotFiles;
    private KeptFilesOf? _keptFiles;

    /// <summary>The kept files per table of one current state (one reference, so readers never see a torn pair).</summary>
    private sealed record KeptFilesOf(LakeState State, Dictionary<string, HashSet<string>> Kept);

    private VersionStates Versions => LazyInitializer.EnsureInitialized(ref _versionStates,
        () => new VersionStates(Catalog, _metadata.Log, _metadata.Directories));

    private VersionHistory History => LazyInitializer.EnsureInitialized(ref _versionHistory, () => new VersionHistory(_metadata.Log, Summaries));

    /// <summary>The commit log's version summaries, a hundred versions a file (the first listing of a process reads those, not every entry).</summary>
    internal VersionSummaryFiles Summaries => LazyInitializer.EnsureInitialized(ref _summaryFiles, () => new VersionSummaryFiles(_metadata.Log));

    private SnapshotFiles Snapshots => LazyInitializer.EnsureInitialized(ref _snapshotFiles,
        () => new SnapshotFiles(Path.Combine(Paths.MetadataDir, "snapshots")));

    /// <summary>Lake states rebuilt from the log for as-of reads so far (tests: the LRU keeps a few).</summary>
    internal long VersionStatesRebuilt => _versionStates?.Rebuilt ?? 0;

    /// <summary>The lake's latest committed version (after one look at the log for other processes' commits).</summary>
    public long LatestVersion
    {
        get
        {
            _metadata.Poll();
            return _metadata.Current.Version;
        }
    }

    /// <summary>
    /// The version of <paramref name="table"/> a read as of <paramref name="asOf"/> sees, checked readable: an unknown
    /// version, an instant in the future, an unknown snapshot are InvalidArgument naming the field; a version whose
    /// files a vacuum deleted is NotFound naming the oldest version still readable.
    /// </summary>
    public long ResolveVersion(TableDefinition table, ReadAsOf asOf) => StateAsOf(table, asOf).Version;

    /// <summary>
    /// The lake version a read of <paramref name="query"/> as of its moment sees (its version; an instant's last version at or
    /// before it; the version a snapshot pins for the table) and the same query pinned to that version number, so the rows
    /// read and the version reported agree (SQL's fast path as of a moment, decisions D47). Throws what a read as of the moment
    /// throws (InvalidArgument for a version that does not exist, an instant in the future, an unknown snapshot or one that does
    /// not pin the table; NotFound for a vacuumed version), before any row.
    /// </summary>
    public (long Version, TableQuery Query) PinAsOf(TableQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var asOf = query.AsOf ?? throw new ArgumentException("the query has no as-of", nameof(query));
        var (table, _) = Catalog.Resolve(query);
        _metadata.Poll();
        var version = VersionOf(table, asOf, _metadata.Current);
        var pinned = query.WithAsOf(ReadAsOf.AtVersion(version));
        StateAsOf(table, pinned.AsOf!);
        return (version, pinned);
    }

    private TableState StateAsOf(TableDefinition table, ReadAsOf asOf)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(asOf);
        _metadata.Poll();
        var current = _metadata.Current;
        var version = VersionOf(table, asOf, current);
        if (version == current.Version)
        {
            return current.Table(table);
        }
        var files = Versions.LakeAt(version).Table(table);
        var kept = KeptFiles(current, table);
        if (files.Files.Keys.Any(name => !kept.Contains(name)))
        {
            throw new LakehouseException(LakehouseErrorKind.NotFound,
                $"{asOf} of {table.Id} (version {version}) is no longer readable: a vacuum deleted its superseded files after the retention period " +
                $"(Lakehouse:Retention, kept longer for versions a snapshot pins); {OldestReadable(table, current)}");
        }
        return Versions.TableAt(table, version);
    }

    /// <summary>
    /// "the oldest version still readable is N" (the first version that changed the table and names no deleted file), and
    /// when older versions are readable only in part of the history, from which version on every one is.
    /// </summary>
    private string OldestReadable(TableDefinition table, LakeState current)
    {
        var vacuumed = History.Vacuumed(table.Id, current.Version);
        var from = Math.Max(1, History.ReadableFrom(table.Id, current.Version));
        var oldest = History.Upto(current.Version)
            .Where(v => v.Tables.Any(c => c.Table == table.Id) && VersionHistory.Readable(vacuumed, v.Version))
            .Select(v => v.Version)
            .DefaultIfEmpty(current.Version)
            .First();
        return oldest >= from
            ? $"the oldest version still readable is {from}"
            : $"the oldest version still readable is {oldest}, and every version from {from} on is (list-versions shows which are)";
    }

    private long VersionOf(TableDefinition table, ReadAsOf asOf, LakeState current)
    {
        if (asOf.Version is { } v)
        {
            return v <= current.Version ? v
                : throw LakehouseException.Invalid($"version {v} does not exist: the lake's latest version is {current.Version}");
        }
        if (asOf.Instant is { } instant)
        {
            var now = DateTimeOffset.UtcNow;
            return instant <= now ? History.VersionAt(instant, current.Version)
                : throw LakehouseException.Invalid(
                    $"as_of {ReadAsOf.FormatInstant(instant)} is in the future (it is {ReadAsOf.FormatInstant(now)} now): a read sees what was committed at or before an instant that has passed");
        }
        var name = asOf.Snapshot!;
        var snapshot = Snapshots.Read(name)
            ?? throw LakehouseException.Invalid($"snapshot '{name}' does not exist: list the snapshots with the list-snapshots action, GET /snapshots or lakehouse snapshot list");
        return snapshot.Tables.TryGetValue(table.Id, out var pinned) ? pinned
            : throw LakehouseException.Invalid(
                $"snapshot '{name}' does not pin {table.Id}: it pins {(snapshot.Tables.Count == 0 ? "no table" : string.Join(", ", snapshot.Tables.Keys.Order(StringComparer.Ordinal)))}");
    }

    /// <summary>The files of <paramref name="table"/> no vacuum has deleted: the current ones and the superseded ones kept.</summary>
    private HashSet<string> KeptFiles(LakeState current, TableDefinition table)
    {
        var c = Volatile.Read(ref _keptFiles);
        if (c is null || !ReferenceEquals(c.State, current))
        {
            var kept = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
            foreach (var (id, state) in current.Tables)
            {
                kept[id] = new HashSet<string>(state.Files.Keys, StringComparer.Ordinal);
            }
            foreach (var t in current.Tombstones)
            {
                if (kept.TryGetValue(t.Table, out var set))
                {
                    set.Add(t.Name);
                }
            }
            c = new KeptFilesOf(current, kept);
            Volatile.Write(ref _keptFiles, c);
        }
        return c.Kept.TryGetValue(table.Id, out var files) ? files : [];
    }

    /// <summary>A query with an as-of: the rows of the table's files at that version (no symbol entries, no pending uploads); or its diff.</summary>
    private IEnumerable<RecordBatch> ReadAsOfVersion(TableDefinition table, Schema schema, TableQuery query, CancellationToken cancellationToken)
    {
        if (query.DiffFrom is not null)
        {
            var (older, newer) = DiffStates(table, query);
            return VacuumedMeanwhile(ReadDiff(older, newer, query, cancellationToken), () => DiffStates(table, query));
        }
        return VacuumedMeanwhile(ReadState(StateAsOf(table, query.AsOf!), schema, query, cancellationToken), () => StateAsOf(table, query.AsOf!));
    }

    /// <summary>
    /// The rows of an older version, whose files are decoded as the stream reaches them: a vacuum that deletes one
    /// meanwhile (past retention, pinned by no snapshot) ends the stream with the NotFound that <paramref name="check"/>
    /// now throws (naming the oldest version still readable), not with a missing file's I/O error.
    /// </summary>
    private static IEnumerable<RecordBatch> VacuumedMeanwhile(IEnumerable<RecordBatch> rows, Action check)
    {
        using var e = rows.GetEnumerator();
        while (true)
        {
            try
            {
                if (!e.MoveNext())
                {
                    yield break;
                }
            }
            catch (Exception ex) when (ex is not (LakehouseException or OperationCanceledException))
            {
                check();
                throw;
            }
            yield return e.Current;
        }
    }

    /// <summary>The output schema of an as-of query (checked readable), or of a diff.</summary>
    private Schema SchemaAsOf(TableDefinition table, Schema schema, TableQuery query)
    {
        if (query.DiffFrom is null)
        {
            StateAsOf(table, query.AsOf!);
            return schema;
        }
        DiffStates(table, query);
        return VersionDiff.SchemaOf(table);
    }

    /// <summary>The version a query reads: its as-of, or the current one.</summary>
    private TableState TargetState(TableDefinition table, TableQuery query)
    {
        if (query.AsOf is { } asOf)
        {
            return StateAsOf(table, asOf);
        }
        _metadata.Poll();
        return _metadata.Current.Table(table);
    }

    /// <summary>The two versions of a diff, checked: a table with one row per key, no projection or limit, both versions readable.</summary>
    private (TableState Older, TableState Newer) DiffStates(TableDefinition table, TableQuery query)
    {
        if (table.PerSource || table.Mode != WriteMode.Upsert)
        {
            throw LakehouseException.Invalid($"diff_from_version: a diff compares tables with one row per key; {table.Id} keeps rows as landed (per source)");
        }
        if (query.Columns.Count > 0 || query.Limit > 0)
        {
            throw LakehouseException.Invalid("diff_from_version: a diff has its own columns (change, the key, old_ and new_ of each column) and no limit: drop columns and limit");
        }
        var newer = TargetState(table, query);
        TableState older;
        try
        {
            older = StateAsOf(table, ReadAsOf.AtVersion(query.DiffFrom!.Value));
        }
        catch (LakehouseException ex)
        {
            throw new LakehouseException(ex.Kind, "diff_from_version: " + ex.Message, ex);
        }
        return (older, newer);
    }

    private IEnumerable<RecordBatch> ReadDiff(TableState older, TableState newer, TableQuery query, CancellationToken cancellationToken)
    {
        var table = newer.Definition;
        var schema = VersionDiff.SchemaOf(table);
        var (from, to) = Days(query);
        foreach (var symbol in DiffSymbols(older, newer, query))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var before = _cache.LoadRuns(table, older.RunsOf(symbol), from, to, null, cancellationToken);
            var after = _cache.LoadRuns(table, newer.RunsOf(symbol), from, to, null, cancellationToken);
            if (VersionDiff.Of(table, schema, before, after) is { } diff)
            {
                yield return diff;
            }
        }
    }

    private static IEnumerable<string> DiffSymbols(TableState older, TableState newer, TableQuery query) =>
        query.Symbols.Count > 0 ? query.Symbols : older.SymbolList.Union(newer.SymbolList).Order(StringComparer.Ordinal);

    /// <summary>
    /// A small read by runs through the run and row-group caches (warm point reads); a larger one decoded ahead, into no cache,
    /// unless most of its rows are in symbols the version shares with the current one: those are served as current rows.
    /// </summary>
    private IEnumerable<RecordBatch> ReadState(TableState state, Schema schema, TableQuery query, CancellationToken cancellationToken)
    {
        var (mostlyCurrent, fits) = Sharing(state, query);
        return !(mostlyCurrent && fits) && PlanAhead(state, query) is { } plan
            ? ReadAhead(state, schema, query, plan, cancellationToken)
            : ReadByRuns(state, schema, query, share: fits, cancellationToken);
    }

    /// <summary>
    /// <c>MostlyCurrent</c>: at least half the rows <paramref name="query"/> reads at <paramref name="state"/> are in runs the current
    /// version still has (a version a few commits back: most files did not change since), which a read by runs serves from
    /// the current rows (<see cref="RowsSharingCurrent"/>).
    /// </summary>
    /// <remarks>
    /// <c>Fits</c>: the read's rows fit in the cache budget. Serving shared runs from the current rows builds the symbols'
    /// cache entries, as a current read does; a read larger than the cache must evict nothing (D32), so it decodes instead.
    /// </remarks>
    private (bool MostlyCurrent, bool Fits) Sharing(TableState state, TableQuery query)
    {
        if (state.Definition.PerSource)
        {
            return (false, false);
        }
        var current = _metadata.Current.Table(state.Definition);
        var (from, to) = Days(query);
        long shared = 0, all = 0;
        foreach (var symbol in query.Symbols.Count > 0 ? query.Symbols : state.SymbolList)
        {
            var currentRuns = current.RunsOf(symbol);
            foreach (var run in state.RunsOf(symbol))
            {
                if (run.Overlaps(from, to))
                {
                    all += run.Count;
                    shared += SharedAlone(run, currentRuns) ? run.Count : 0;
                }
            }
        }
        return (all > 0 && shared * 2 >= all, all * ReadCache.EstimatedRowBytes <= Options.CacheBytes);
    }

    /// <summary>
    /// The current version has <paramref name="run"/> (the same rows of the same file: files never change) and no other run
    /// of the symbol within its days, so the symbol's current rows of those days are exactly the run's rows.
    /// </summary>
    private static bool SharedAlone(FileRun run, ImmutableArray<FileRun> currentRuns)
    {
        var found = false;
        foreach (var c in currentRuns)
        {
            if (c.Start == run.Start && c.Count == run.Count && c.File.Name == run.File.Name)
            {
                found = true;
            }
            else if (c.MinDay <= run.MaxDay && c.MaxDay >= run.MinDay)
            {
                return false;
            }
        }
        return found;
    }

    /// <summary>
    /// A symbol's rows at an older version, in key order: the runs it shares with the current version (<see cref="SharedAlone"/>)
    /// taken from the current rows as a current read has them (the symbol cache), only the others decoded; all resolved as of
    /// one commit. Null when no run is shared, when the runs' days interleave (their rows would need a merge), or when the
    /// current rows are not to be cached: the caller decodes every run.
    /// </summary>
    private List<RecordBatch>? RowsSharingCurrent(TableDefinition table, TableQuery query, string symbol, ImmutableArray<FileRun> runs,
        CancellationToken cancellationToken)
    {
        if (table.PerSource)
        {
            return null;
        }
        var (from, to) = Days(query);
        var touched = runs.Where(r => r.Overlaps(from, to)).OrderBy(r => r.MinDay).ToArray();
        for (var i = 1; i < touched.Length; i++)
        {
            if (touched[i].MinDay <= touched[i - 1].MaxDay)
            {
                return null;
            }
        }
        var dateColumn = table.Schema.GetFieldIndex(table.DateColumn, StringComparer.Ordinal);
        return _snapshot.Consistent(() =>
        {
            var current = _metadata.Current.Table(table);
            var currentRuns = current.RunsOf(symbol);
            if (!touched.Any(r => SharedAlone(r, currentRuns)))
            {
                return null;
            }
            var currentTouched = currentRuns.Count(r => r.Overlaps(from, to));
            if (_cache.EntryForRead(current, new TableId(table), symbol, currentTouched, null, cancellationToken) is not { } entry)
            {
                return null;
            }
            var pieces = new List<RecordBatch>();
            for (var i = 0; i < touched.Length;)
            {
                var run = touched[i];
                if (!SharedAlone(run, currentRuns))
                {
                    var own = _cache.LoadRuns(table, [run], from, to, null, cancellationToken);
                    if (own.Length > 0)
                    {
                        pieces.Add(own);
                    }
                    i++;
                    continue;
                }
                // Consecutive shared runs are one stretch of the current rows (one slice each chunk, not one per run), as long
                // as no current run the old version lacks has days within the stretch.
                var end = i + 1;
                while (end < touched.Length && SharedAlone(touched[end], currentRuns) && OnlyThese(currentRuns, touched, i, end))
                {
                    end++;
                }
                var first = from is { } f ? Math.Max(f, run.MinDay) : run.MinDay;
                var last = to is { } t ? Math.Min(t, touched[end - 1].MaxDay) : touched[end - 1].MaxDay;
                pieces.AddRange(entry.Slices(dateColumn, first, last).Where(b => b.Length > 0));
                i = end;
            }
            return pieces;
        }, cancellationToken);
    }

    /// <summary>Every current run with days within the stretch of <paramref name="runs"/> from <paramref name="first"/> to <paramref name="last"/> (inclusive) is one of them.</summary>
    private static bool OnlyThese(ImmutableArray<FileRun> currentRuns, FileRun[] runs, int first, int last)
    {
        foreach (var c in currentRuns)
        {
            if (c.MinDay > runs[last].MaxDay || c.MaxDay < runs[first].MinDay)
            {
                continue;
            }
            var ours = false;
            for (var k = first; k <= last && !ours; k++)
            {
                ours = runs[k].Start == c.Start && runs[k].Count == c.Count && runs[k].File.Name == c.File.Name;
            }
            if (!ours)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Pieces of an as-of read at least this long go out as they are: a stretch of the current rows is zero-copy, as a current
    /// read's slices are; a full run of <see cref="SmallSliceRows"/> would copy most of them into coalesced batches.
    /// </summary>
    private const int SharedPieceRows = 1024;

    /// <summary>Symbols of as-of reads whose shared runs were served from the current rows (tests).</summary>
    internal long AsOfSymbolsSharingCurrent => Interlocked.Read(ref _asOfSymbolsSharingCurrent);

    private long _asOfSymbolsSharingCurrent;

    private IEnumerable<RecordBatch> ReadByRuns(TableState state, Schema schema, TableQuery query, bool share, CancellationToken cancellationToken)
    {
        var table = state.Definition;
        var output = new ReadOutput(schema, [.. schema.FieldsList.Select(f => table.Schema.GetFieldIndex(f.Name, StringComparer.Ordinal))], query.Limit, Options.TargetBatchRows);
        var (from, to) = Days(query);
        var ready = new List<RecordBatch>();
        foreach (var symbol in query.Symbols.Count > 0 ? query.Symbols : state.SymbolList)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var runs = state.RunsOf(symbol);
            if (!runs.Any(r => r.Overlaps(from, to)))
            {
                continue;
            }
            IReadOnlyList<RecordBatch> pieces;
            if (share && RowsSharingCurrent(table, query, symbol, runs, cancellationToken) is { } current)
            {
                Interlocked.Increment(ref _asOfSymbolsSharingCurrent);
                pieces = current;
            }
            else
            {
                pieces = [_cache.LoadRuns(table, runs, from, to, null, cancellationToken)];
            }
            foreach (var piece in pieces)
            {
                output.Add(piece, pieces.Count > 1 ? SharedPieceRows : SmallSliceRows, ready);
            }
            foreach (var batch in ready)
            {
                yield return batch;
            }
            ready.Clear();
            if (output.Done)
            {
                break;
            }
        }
        output.Flush(ready);
        foreach (var batch in ready)
        {
            yield return batch;
        }
    }

    /// <summary>The plan of a query with an as-of: per symbol, the files of that version it touches and its exact rows.</summary>
    private List<SymbolPlan> PlanAsOf(TableDefinition table, TableQuery query, CancellationToken cancellationToken)
    {
        if (query.DiffFrom is not null)
        {
            // A diff's plan is its rows per symbol: the diff is computed (an audit reads what it compares anyway).
            var (older, newer) = DiffStates(table, query);
            var diffPlans = new List<SymbolPlan>();
            foreach (var batch in ReadDiff(older, newer, query, cancellationToken))
            {
                var symbol = ((StringArray)batch.Column(1)).GetString(0);
                diffPlans.Add(new SymbolPlan(symbol, older.RunsOf(symbol).Length + newer.RunsOf(symbol).Length, batch.Length));
            }
            return diffPlans;
        }
        var state = StateAsOf(table, query.AsOf!);
        var (from, to) = Days(query);
        var dateColumn = table.Schema.GetFieldIndex(table.DateColumn, StringComparer.Ordinal);
        var plans = new List<SymbolPlan>();
        foreach (var symbol in query.Symbols.Count > 0 ? query.Symbols : state.SymbolList)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long rows = 0;
            var files = 0;
            foreach (var run in state.RunsOf(symbol))
            {
                if (!run.Overlaps(from, to))
                {
                    continue;
                }
                files++;
                rows += (from is not { } f || run.MinDay >= f) && (to is not { } t || run.MaxDay <= t)
                    ? run.Count
                    : ArrowConcat.SliceByDate(_cache.ReadRun(table, run, null), dateColumn, from, to).Length;
            }
            if (files > 0)
            {
                plans.Add(new SymbolPlan(symbol, files, query.Limit > 0 ? Math.Min(rows, query.Limit) : rows));
            }
        }
        return plans;
    }

    /// <summary>
    /// The versions that changed <paramref name="table"/>, newest first: at most <paramref name="limit"/>, only those
    /// that changed <paramref name="symbol"/>'s rows when given, committed within [<paramref name="from"/>, <paramref name="to"/>].
    /// </summary>
    public IReadOnlyList<TableVersionInfo> ListVersions(TableDefinition table, string? symbol = null, DateTimeOffset? from = null,
        DateTimeOffset? to = null, int limit = 100, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(table);
        var normalized = string.IsNullOrWhiteSpace(symbol) ? null : Core.Symbols.Normalize(symbol);
        _metadata.Poll();
        var current = _metadata.Current;
        var versions = History.Upto(current.Version);
        var vacuumed = History.Vacuumed(table.Id, current.Version);
        var list = new List<TableVersionInfo>();
        for (var i = versions.Count - 1; i >= 0 && list.Count < Math.Max(1, limit); i--)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var v = versions[i];
            if ((from is { } f && v.Ts < f) || (to is { } t && v.Ts > t))
            {
                continue;
            }
            var change = v.Tables.FirstOrDefault(c => c.Table == table.Id);
            if (change is null || (normalized is not null && !change.Symbols.Contains(normalized, StringComparer.Ordinal)))
            {
                continue;
            }
            list.Add(new TableVersionInfo
            {
                Version = v.Version,
                Ts = v.Ts,
                Operation = v.Operation,
                RunId = v.RunId,
                Sources = change.Sources,
                Inserted = change.Inserted,
                Updated = change.Updated,
                Unchanged = change.Unchanged,
                Rejected = change.Rejected,
                FilesAdded = change.FilesAdded,
                FilesRemoved = change.FilesRemoved,
                Symbols = change.Symbols,
                Readable = VersionHistory.Readable(vacuumed, v.Version),
            });
        }
        return list;
    }

    /// <summary>The named snapshots, by name.</summary>
    public IReadOnlyList<SnapshotInfo> ListSnapshots() => [.. Snapshots.List().Select(ToInfo)];

    /// <summary>
    /// Creates a named snapshot pinning, for each of <paramref name="tables"/> (every table when empty), its version as
    /// of lake version <paramref name="version"/> (the latest when null). The snapshot's versions are kept readable
    /// by vacuum until it is deleted. InvalidArgument for a bad or taken name, a version that does not exist;
    /// NotFound for a version already vacuumed.
    /// </summary>
    public async Task<SnapshotInfo> CreateSnapshotAsync(string name, IReadOnlyList<TableDefinition>? tables = null, long? version = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        ReadAsOf.ValidateSnapshotName(name, "name");
        await _metadata.WaitLoadedAsync(cancellationToken).ConfigureAwait(false);
        await using (await _locks.AcquireAsync([SnapshotFiles.LockKey], cancellationToken).ConfigureAwait(false))
        {
            if (Snapshots.Read(name) is not null)
            {
                throw LakehouseException.Invalid($"name '{name}': a snapshot of that name exists; delete it first or choose another name");
            }
            _metadata.Poll();
            var at = version ?? _metadata.Current.Version;
            var chosen = tables is { Count: > 0 } ? tables : Catalog.Tables;
            var pins = new SortedDictionary<string, long>(StringComparer.Ordinal);
            foreach (var table in chosen)
            {
                cancellationToken.ThrowIfCancellationRequested();
                // Checked readable now, under the lock a vacuum takes: its files cannot be expired before the snapshot is on disk.
                StateAsOf(table, ReadAsOf.AtVersion(at));
                pins[table.Id] = at;
            }
            var record = new SnapshotRecord { Name = name, Created = DateTimeOffset.UtcNow, Version = at, Tables = pins };
            Snapshots.Write(record);
            StorageLog.SnapshotCreated(_logger, name, at);
            return ToInfo(record);
        }
    }

    /// <summary>Deletes a named snapshot (its versions become subject to retention again); NotFound when there is none.</summary>
    public async Task DeleteSnapshotAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        ReadAsOf.ValidateSnapshotName(name, "name");
        await using (await _locks.AcquireAsync([SnapshotFiles.LockKey], cancellationToken).ConfigureAwait(false))
        {
            if (!Snapshots.Delete(name))
            {
                throw new LakehouseException(LakehouseErrorKind.NotFound, $"snapshot '{name}' does not exist");
            }
        }
    }

    /// <summary>The superseded files ("table/name") the snapshots' versions need: a vacuum keeps them.</summary>
    private HashSet<string> PinnedFiles()
    {
        var pinned = new HashSet<string>(StringComparer.Ordinal);
        foreach (var snapshot in Snapshots.List())
        {
            foreach (var (id, version) in snapshot.Tables)
            {
                if (Catalog.Tables.FirstOrDefault(t => t.Id == id) is not { } table)
                {
                    continue;
                }
                foreach (var name in Versions.LakeAt(version).Table(table).Files.Keys)
                {
                    pinned.Add(id + "/" + name);
                }
            }
        }
        return pinned;
    }

    private static SnapshotInfo ToInfo(SnapshotRecord r) => new()
    {
        Name = r.Name,
        Created = r.Created,
        Version = r.Version,
        Tables = r.Tables,
    };
}
