using System.Collections.Immutable;
using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Storage;

public sealed partial class LakeStore
{
    /// <summary>Output slices of at least this many rows are not coalesced.</summary>
    private const int SmallSliceRows = 4096;

    /// <summary>The output schema of a query (its projection applied); InvalidArgument for an unknown table or column.</summary>
    public Schema SchemaOf(TableQuery query)
    {
        var (table, schema) = Catalog.Resolve(query);
        // An as-of or a diff is resolved here, before a stream's first byte: a bad one is an error status, not a cut stream.
        return query.AsOf is null && query.DiffFrom is null ? schema : SchemaAsOf(table, schema, query);
    }

    /// <summary>
    /// Streams the rows of a query ordered by symbol, then key. Only the files and row groups holding the symbols
    /// and dates asked for are read; small slices are coalesced into batches of up to
    /// <see cref="StoreOptions.TargetBatchRows"/> rows. An unknown symbol yields nothing.
    /// </summary>
    public IEnumerable<RecordBatch> Read(TableQuery query, CancellationToken cancellationToken = default)
    {
        var (table, schema) = Catalog.Resolve(query);
        return query.AsOf is null && query.DiffFrom is null
            ? ReadResolved(table, schema, query, cancellationToken)
            : ReadAsOfVersion(table, schema, query, cancellationToken);
    }

    /// <summary>
    /// Per symbol, its recent rows and what its data files' directories say of the rows before them, as of one commit:
    /// the rows of every data file run that reaches the symbol's date (whole runs, so possibly from somewhat earlier,
    /// key order), and the count, highest value and null count per <see cref="TableDefinition.SummaryColumns"/> column
    /// of all its other rows, each dated before every row returned; none of those is read. A daily append's gold
    /// refresh reads a year or two of each symbol this way instead of its history, and nothing enters the symbol
    /// cache. Null for a symbol the directories cannot answer for (a file written before the columns were summarized,
    /// or rows of an acknowledged upload not yet applied), or whose recent rows are more than <paramref name="maxRows"/>
    /// (a write from far back: memory stays bounded): read it whole instead. With <paramref name="columns"/>, the files
    /// decode only those columns and the key's (a daily append's gold leaves the lineage columns, a third of the decode,
    /// unread); rows from the cache may carry more, and a symbol whose runs interleave comes back null. Each symbol's
    /// rows are its own managed copy, kept by the caller: <see cref="VisitRecent"/> reads them in place instead.
    /// </summary>
    /// <exception cref="ArgumentException">A per-source table (its rows of one key are in several runs), or a column it does not have.</exception>
    public IReadOnlyDictionary<string, RecentRows?> ReadRecent(TableDefinition table, IReadOnlyDictionary<string, DateOnly> from,
        int maxRows = int.MaxValue, IReadOnlyCollection<string>? columns = null, CancellationToken cancellationToken = default)
    {
        var result = new System.Collections.Concurrent.ConcurrentDictionary<string, RecentRows?>(StringComparer.Ordinal);
        VisitRecent(table, from, maxRows, columns, (symbol, recent) => result[symbol] = recent is null || recent.Rows.Count == 0 ? recent
            : recent with { Rows = [ArrowConcat.ConcatenateManaged(recent.Rows)] }, cancellationToken);
        return new Dictionary<string, RecentRows?>(result, StringComparer.Ordinal);
    }

    /// <summary>One symbol's part of <see cref="ReadRecent"/>'s plan, against one table state; null: read it whole.</summary>
    private RecentPlan? PlanRecent(TableDefinition table, TableId id, TableState state, string symbol, DateOnly date, int dateColumn, int maxRows)
    {
        if (!_pending.IsEmpty && PendingRows.Covers(table) && _pending.Holds(id, symbol))
        {
            return null;
        }
        var runs = state.RunsOf(symbol);
        // The cut: no run left out ends on or after it, and none read starts before it (a run that
        // reaches the date may start earlier, and a run ending within it is then read too).
        var cut = ArrowRows.DayNumber(date);
        for (var moved = true; moved;)
        {
            moved = false;
            foreach (var run in runs)
            {
                if (run.MaxDay >= cut && run.MinDay < cut)
                {
                    cut = run.MinDay;
                    moved = true;
                }
            }
        }
        var before = new (double Max, long Nulls)[table.SummaryColumns.Count];
        System.Array.Fill(before, (double.NegativeInfinity, 0L));
        long rowsBefore = 0;
        foreach (var run in runs.Where(r => r.MaxDay < cut))
        {
            var directory = _cache.Directories.Get(table, run.File);
            var index = directory.IndexOf(symbol);
            for (var c = 0; c < before.Length; c++)
            {
                if (index < 0 || directory.SummaryOf(table.SummaryColumns[c]) is not { } summary)
                {
                    return null;
                }
                before[c] = (Math.Max(before[c].Max, summary.Max[index]), before[c].Nulls + summary.Nulls[index]);
            }
            rowsBefore += run.Count;
        }
        ImmutableArray<FileRun> recent = [.. runs.Where(r => r.MaxDay >= cut)];
        if (recent.Sum(r => (long)r.Count) > maxRows)
        {
            return null;
        }
        var cached = _cache.TryEntry(id, symbol, out var entry) ? entry.Rows(dateColumn, cut, null) : null;
        return new RecentPlan(recent, cached, rowsBefore, before);
    }

    /// <summary>
    /// <see cref="ReadRecent"/> for a caller that computes something from each symbol's recent rows at once and keeps
    /// only that: <paramref name="visit"/> runs on all cores, once per symbol of <paramref name="from"/> (null where
    /// <see cref="ReadRecent"/> gives null), and the rows it gets are valid only during the visit. The files' row
    /// groups stay in the Parquet reader's memory, read in place and freed after the visits: a daily append's gold
    /// read of 20,000 symbols copies nothing, where a managed copy of each 16K-row group went to the large object heap.
    /// Without <paramref name="columns"/>, every column.
    /// </summary>
    /// <exception cref="ArgumentException">A per-source table, or a column it does not have.</exception>
    public void VisitRecent(TableDefinition table, IReadOnlyDictionary<string, DateOnly> from, int maxRows, IReadOnlyCollection<string>? columns,
        Action<string, RecentRows?> visit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(visit);
        var projection = RecentProjection(table, columns);
        for (var attempt = 0; ; attempt++)
        {
            var (plan, toLoad) = PlanRecentAll(table, from, maxRows, cancellationToken);
            var runs = toLoad.Select(i => plan[i].Plan!.Runs).ToArray();
            var visited = 0;
            try
            {
                _cache.VisitRunsOnce(table, runs, projection, (k, parts) =>
                {
                    Interlocked.Increment(ref visited);
                    var (symbol, p) = plan[toLoad[k]];
                    visit(symbol, parts is null ? null : Recent(table, parts, p!));
                }, cancellationToken);
            }
            catch (Exception) when (visited == 0 && attempt < 2 && runs.Any(r => r.Any(f => !File.Exists(_files.StorePath(table, f.File.Name)))))
            {
                // A file superseded since the plan and vacuumed meanwhile (a retention of zero): plan again.
                continue;
            }
            var loaded = toLoad.ToHashSet();
            AllCores.For(plan.Length, i =>
            {
                if (!loaded.Contains(i))
                {
                    var (symbol, p) = plan[i];
                    visit(symbol, p is null ? null : Recent(table, [p.Cached!], p));
                }
            }, cancellationToken);
            return;
        }
    }

    private static Schema? RecentProjection(TableDefinition table, IReadOnlyCollection<string>? columns)
    {
        if (table.PerSource)
        {
            throw new ArgumentException($"{table.Id} holds rows per source: read it with Read", nameof(table));
        }
        if (columns?.FirstOrDefault(c => table.Schema.GetFieldIndex(c, StringComparer.Ordinal) < 0) is { } unknown)
        {
            throw new ArgumentException($"{table.Id} has no column '{unknown}'", nameof(columns));
        }
        return columns is null ? null
            : new Schema([.. table.Schema.FieldsList.Where(f => table.Key.Contains(f.Name) || columns.Contains(f.Name))], table.Schema.Metadata);
    }

    private static RecentRows Recent(TableDefinition table, IReadOnlyList<RecordBatch> parts, RecentPlan plan) =>
        new(parts, plan.RowsBefore, table.SummaryColumns.Select((c, i) => (c, plan.Before[i])).ToDictionary(x => x.c, x => x.Item2, StringComparer.Ordinal));

    /// <summary>Each symbol's recent plan as of one commit, and the positions of those whose runs are to be decoded (not cached).</summary>
    private ((string Symbol, RecentPlan? Plan)[] Plan, int[] ToLoad) PlanRecentAll(TableDefinition table, IReadOnlyDictionary<string, DateOnly> from,
        int maxRows, CancellationToken cancellationToken)
    {
        _metadata.Poll();
        var id = new TableId(table);
        var dateColumn = table.Schema.GetFieldIndex(table.DateColumn, StringComparer.Ordinal);
        // Resolved as of one commit (runs, summaries, cached rows); the files are decoded after, outside the commit
        // sequence: they never change, and a commit landing meanwhile (the next chunk of an ingest) does not make a
        // second pass decode them again.
        var plan = _snapshot.Consistent(() =>
        {
            var state = _metadata.Current.Table(table);
            var asked = from.ToArray();
            var planned = new (string Symbol, RecentPlan? Plan)[asked.Length];
            // On all cores: ~20 us a symbol (a directory lookup per run), 0.5 s of a 20,000-symbol append on one.
            AllCores.For(asked.Length, i => planned[i] = (asked[i].Key, PlanRecent(table, id, state, asked[i].Key, asked[i].Value, dateColumn, maxRows)),
                cancellationToken);
            return planned;
        }, cancellationToken);
        return (plan, [.. Enumerable.Range(0, plan.Length).Where(i => plan[i].Plan is { Cached: null })]);
    }

    /// <summary>What <see cref="ReadRecent"/> resolved of one symbol: the runs to decode (unless its rows were cached) and the summary of the rest.</summary>
    private sealed record RecentPlan(ImmutableArray<FileRun> Runs, RecordBatch? Cached, long RowsBefore, (double Max, long Nulls)[] Before);

    private IEnumerable<RecordBatch> ReadResolved(TableDefinition table, Schema schema, TableQuery query, CancellationToken cancellationToken)
    {
        var resolved = Resolve(table, query, oneVersion: false, cancellationToken)!;
        foreach (var batch in StreamResolved(table, schema, query, resolved, cancellationToken))
        {
            yield return batch;
        }
    }

    /// <summary>
    /// The rows of a query exactly as one committed lake version holds them, every row resolved before this returns (a SQL
    /// query's fast path, decisions D47), or null when the store would not read them so: more rows than a read resolves up
    /// front (<see cref="PinnedRowsMax"/>: the symbols past it are read as of the commit current when the stream reaches
    /// them), rows of acknowledged uploads not yet applied in the table's buffer (they belong to no version yet), or commits
    /// that kept landing while it resolved. The caller then reads another way.
    /// </summary>
    public OneVersionRead? TryReadOneVersion(TableQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.AsOf is not null || query.DiffFrom is not null)
        {
            return null;
        }
        var (table, schema) = Catalog.Resolve(query);
        return Resolve(table, query, oneVersion: true, cancellationToken) is { } resolved
            ? new OneVersionRead(resolved.Version, resolved.Rows, schema, StreamResolved(table, schema, query, resolved, cancellationToken))
            : null;
    }

    /// <summary>What a read resolved before its first row: the symbols in output order and the slices pinned up front.</summary>
    private sealed record ResolvedRead(IReadOnlyList<string> Symbols, IReadOnlyList<string>? Prefetch, int Prefetched, List<RecordBatch[]> Pinned,
        long Window, ScanLoads? Scan, long Version, long Rows);

    private ResolvedRead? Resolve(TableDefinition table, TableQuery query, bool oneVersion, CancellationToken cancellationToken)
    {
        _metadata.Poll();
        IReadOnlyList<string> symbols;
        IReadOnlyList<string>? prefetch;
        int prefetched;
        List<RecordBatch[]> pinned;
        var window = PinnedRowsMax;
        ScanLoads? scan = null;
        for (var attempt = 0; ; attempt++)
        {
            // An upload entering the buffer between listing the symbols and pinning them would show its rows
            // of known symbols but not its new ones: list and pin again (a few times at most; then as pinned).
            var buffer = _snapshot.PendingVersion;
            var current = _metadata.Current;
            var state = current.Table(table);
            symbols = SymbolsOf(state, query);
            (prefetch, var estimatedRows) = PrefetchList(state, query, symbols);
            // A read larger than the cache cannot be one snapshot in memory anyway, and what it pins stays in memory
            // after the cache has evicted it: pin and load ahead in small windows, for itself (decisions D31, D32).
            var large = estimatedRows * ReadCache.EstimatedRowBytes > Options.CacheBytes;
            window = large ? MinPinnedRows : PinnedRowsMax;
            if (oneVersion && (large || OneVersionRows(state, query, symbols) > window))
            {
                return null;
            }
            scan = large ? scan ?? new ScanLoads() : null;
            prefetched = prefetch is null ? int.MaxValue : _cache.PrefetchEntries(state, new TableId(table), prefetch, 0, window, scan, cancellationToken);
            var pin = Pin(table, query, symbols, window, scan, cancellationToken);
            pinned = pin.Pinned;
            var settled = _snapshot.PendingVersion == buffer;
            if (oneVersion)
            {
                // Every symbol pinned at the version the symbols were listed at (or every row up to the limit: the stream
                // ends there), with no buffered upload in them.
                var whole = pinned.Count == symbols.Count || (query.Limit > 0 && pin.Rows >= query.Limit);
                if (settled && pin.BufferEmpty && pin.Version == current.Version && whole)
                {
                    return new ResolvedRead(symbols, prefetch, prefetched, pinned, window, scan, pin.Version, pin.Rows);
                }
                if (attempt >= CommitSequence.OptimisticAttempts || !whole || !pin.BufferEmpty)
                {
                    return null;
                }
                continue;
            }
            if (settled || !PendingRows.Covers(table) || attempt >= CommitSequence.OptimisticAttempts)
            {
                return new ResolvedRead(symbols, prefetch, prefetched, pinned, window, scan, pin.Version, pin.Rows);
            }
        }
    }

    /// <summary>
    /// Rows a one-version read would pin, from the runs (whatever the prefetch list estimated: it counts only scans of two
    /// or more symbols without a limit), at most the limit: a read that could not be pinned whole is declined before
    /// anything is decoded.
    /// </summary>
    private static long OneVersionRows(TableState state, TableQuery query, IReadOnlyList<string> symbols)
    {
        var (from, to) = Days(query);
        var limit = query.Limit > 0 ? query.Limit : long.MaxValue;
        long rows = 0;
        foreach (var symbol in symbols)
        {
            foreach (var run in state.RunsOf(symbol))
            {
                rows += run.Overlaps(from, to) ? run.Count : 0;
            }
            if (rows >= limit)
            {
                return limit;
            }
        }
        return rows;
    }

    private IEnumerable<RecordBatch> StreamResolved(TableDefinition table, Schema schema, TableQuery query, ResolvedRead resolved,
        CancellationToken cancellationToken)
    {
        var output = new ReadOutput(schema, [.. schema.FieldsList.Select(f => table.Schema.GetFieldIndex(f.Name, StringComparer.Ordinal))], query.Limit, Options.TargetBatchRows);
        // Slices this large go out as they are (zero-copy); only smaller ones are worth a copy to make fewer, fuller batches.
        var small = Math.Min(SmallSliceRows, Math.Max(1, Options.TargetBatchRows));
        var ready = new List<RecordBatch>();
        var (symbols, prefetch, prefetched, pinned, window, scan, _, _) = resolved;
        for (var s = 0; s < symbols.Count && !output.Done; s++)
        {
            if (s >= pinned.Count && prefetch is not null && s >= prefetched)
            {
                // Past what was resolved up front: load the next window of symbols side by side too.
                prefetched = _cache.PrefetchEntries(_metadata.Current.Table(table), new TableId(table), prefetch, s, window, scan, cancellationToken);
            }
            foreach (var slice in s < pinned.Count ? pinned[s] : ReadStreamed(table, query, symbols[s], scan, cancellationToken))
            {
                output.Add(slice, small, ready);
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
            if (s < pinned.Count)
            {
                pinned[s] = [];
            }
            scan?.Release(symbols[s]);
        }
        output.Flush(ready);
        foreach (var batch in ready)
        {
            yield return batch;
        }
    }

    /// <summary>
    /// The query's slices per symbol as of one commit: references to cached batches (or batches decoded from the
    /// files), resolved while no commit applied (<see cref="CommitSequence"/>). Resolution stops once the limit is
    /// reached, or past <paramref name="max"/> rows: the symbols after that are read as the stream reaches them
    /// (each one whole, from the latest commit).
    /// </summary>
    private (List<RecordBatch[]> Pinned, long Version, long Rows, bool BufferEmpty) Pin(TableDefinition table, TableQuery query,
        IReadOnlyList<string> symbols, long max, ScanLoads? scan, CancellationToken cancellationToken) =>
        _snapshot.Consistent(() =>
        {
            var version = _metadata.Current.Version;
            var bufferEmpty = _pending.IsEmpty || !PendingRows.Covers(table);
            var pinned = new List<RecordBatch[]>(symbols.Count);
            var limit = query.Limit > 0 ? query.Limit : long.MaxValue;
            long rows = 0;
            foreach (var symbol in symbols)
            {
                if (rows >= limit || rows >= max)
                {
                    break;
                }
                var slices = ReadSymbol(table, query, symbol, cancellationToken, scan).ToArray();
                pinned.Add(slices);
                foreach (var slice in slices)
                {
                    rows += slice.Length;
                }
            }
            return (pinned, version, rows, bufferEmpty);
        }, cancellationToken);

    /// <summary>A symbol past the pinned window, as of the commit current when the stream reaches it (resolved while no commit applies).</summary>
    private RecordBatch[] ReadStreamed(TableDefinition table, TableQuery query, string symbol, ScanLoads? scan, CancellationToken cancellationToken) =>
        _snapshot.Consistent(() => ReadSymbol(table, query, symbol, cancellationToken, scan).ToArray(), cancellationToken);

    /// <summary>
    /// The symbols of a scan worth loading side by side (null when none): in output order, with a symbol the query
    /// touches too few runs of standing in as an empty slot (read from its row groups), so indexes match
    /// <paramref name="symbols"/>. With it, the rows the read is estimated to cover.
    /// </summary>
    private (IReadOnlyList<string>? List, long EstimatedRows) PrefetchList(TableState state, TableQuery query, IReadOnlyList<string> symbols)
    {
        var def = state.Definition;
        if (def.PerSource || query.Limit > 0 || symbols.Count < 2)
        {
            return (null, 0);
        }
        var (from, to) = Days(query);
        var list = new string[symbols.Count];
        var any = false;
        long rows = 0;
        for (var i = 0; i < symbols.Count; i++)
        {
            var touched = 0;
            foreach (var run in state.RunsOf(symbols[i]))
            {
                if (run.Overlaps(from, to))
                {
                    touched++;
                    rows += run.Count;
                }
            }
            list[i] = touched >= ReadCache.BuildEntryRuns ? symbols[i] : "";
            any |= list[i].Length > 0;
        }
        return (any ? list : null, rows);
    }

    /// <summary>The pinned window of a read larger than the cache (decisions D31).</summary>
    private const long MinPinnedRows = 64L << 10;

    /// <summary>
    /// Rows a read resolves up front (held in memory until streamed): about a third of the cache budget (8M rows at
    /// the 2 GiB default); with the cache off, 64k rows, so that large reads keep streaming in bounded memory.
    /// </summary>
    private long PinnedRowsMax => Math.Max(MinPinnedRows, Options.CacheBytes / 256);

    private static (int? From, int? To) Days(TableQuery query) =>
        (query.DateFrom is { } f ? ArrowRows.DayNumber(f) : null, query.DateTo is { } t ? ArrowRows.DayNumber(t) : null);

    /// <summary>Symbols a query covers, in output order.</summary>
    public IReadOnlyList<string> SymbolsFor(TableQuery query)
    {
        var table = Catalog.Resolve(query).Table;
        _metadata.Poll();
        return SymbolsOf(_metadata.Current.Table(table), query);
    }

    private IReadOnlyList<string> SymbolsOf(TableState state, TableQuery query)
    {
        if (query.Symbols.Count > 0)
        {
            return query.Symbols;
        }
        var table = state.Definition;
        var id = new TableId(table);
        if (_pending.IsEmpty || !PendingRows.Covers(table))
        {
            return state.SymbolList;
        }
        // Symbols only an acknowledged upload has so far are part of the table too. The buffer is listed before the
        // state: a symbol that leaves the buffer was committed before (commit, then PendingApplied).
        var pending = _pending.SymbolsOf(id).ToList();
        var symbols = _metadata.Current.Table(table).SymbolList;
        return pending.Count == 0 ? symbols : symbols.Concat(pending).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>Rows of one symbol in the query's range, in key order (full schema, not projected), acknowledged uploads merged in.</summary>
    private IEnumerable<RecordBatch> ReadSymbol(TableDefinition def, TableQuery query, string symbol, CancellationToken cancellationToken,
        ScanLoads? scan = null)
    {
        if (_pending.IsEmpty || !PendingRows.Covers(def) || !_pending.Holds(new TableId(def), symbol))
        {
            return ReadCommitted(def, query, symbol, cancellationToken, scan);
        }
        var (from, to) = Days(query);
        // The pending rows and the committed ones as of one moment: a commit in between (this upload's, or a
        // later one over it) makes the pair resolve again.
        var merged = _snapshot.Consistent(() =>
        {
            var pending = PendingOf(new TableId(def), symbol, from, to);
            return MergePending(def, ReadCommitted(def, query, symbol, cancellationToken, scan).Where(b => b.Length > 0).ToList(), pending);
        }, cancellationToken);
        return merged.Length == 0 ? [] : [merged];
    }

    /// <summary>Rows of one symbol in the query's range as committed, in key order (full schema, not projected).</summary>
    private IEnumerable<RecordBatch> ReadCommitted(TableDefinition def, TableQuery query, string symbol, CancellationToken cancellationToken,
        ScanLoads? scan = null)
    {
        var (from, to) = Days(query);
        var state = _metadata.Current.Table(def);
        var runs = state.RunsOf(symbol);
        var touched = 0;
        foreach (var run in runs)
        {
            touched += run.Overlaps(from, to) ? 1 : 0;
        }
        if (touched == 0)
        {
            yield break;
        }
        if (_cache.EntryForRead(state, new TableId(def), symbol, touched, scan, cancellationToken) is { } entry)
        {
            foreach (var slice in entry.Slices(def.Schema.GetFieldIndex(def.DateColumn, StringComparer.Ordinal), from, to))
            {
                yield return slice;
            }
            yield break;
        }
        // A small read of a symbol without an entry (or a per-source table): just the row groups it needs.
        yield return _cache.LoadRuns(def, runs, from, to, null, cancellationToken);
    }

    /// <summary>Per symbol: the data files a query touches and its exact row count (from the files' directories, or decoded dates where a range cuts a run).</summary>
    public IReadOnlyList<SymbolPlan> Plan(TableQuery query, CancellationToken cancellationToken = default)
    {
        var def = Catalog.Resolve(query).Table;
        if (query.AsOf is not null || query.DiffFrom is not null)
        {
            return PlanAsOf(def, query, cancellationToken);
        }
        _metadata.Poll();
        var state = _metadata.Current.Table(def);
        var (from, to) = Days(query);
        var dateColumn = def.Schema.GetFieldIndex(def.DateColumn, StringComparer.Ordinal);
        var plans = new List<SymbolPlan>();
        foreach (var symbol in SymbolsOf(state, query))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!_pending.IsEmpty && PendingRows.Covers(def) && _pending.Holds(new TableId(def), symbol))
            {
                // An acknowledged upload adds or replaces rows: count what a read returns.
                plans.Add(PendingPlan(state, query, symbol, cancellationToken));
                continue;
            }
            var runs = state.RunsOf(symbol);
            long rows = 0;
            var files = 0;
            var entry = !def.PerSource && _cache.TryEntry(new TableId(def), symbol, out var e) ? e : null;
            foreach (var run in runs)
            {
                if (!run.Overlaps(from, to))
                {
                    continue;
                }
                files++;
                if (entry is null && (from is not { } f || run.MinDay >= f) && (to is not { } t || run.MaxDay <= t))
                {
                    rows += run.Count;
                }
                else if (entry is null)
                {
                    rows += ArrowConcat.SliceByDate(_cache.ReadRun(def, run, null), dateColumn, from, to).Length;
                }
            }
            if (entry is not null && files > 0)
            {
                rows = entry.Slices(dateColumn, from, to).Sum(b => b.Length);
            }
            if (files > 0)
            {
                plans.Add(new SymbolPlan(symbol, files, query.Limit > 0 ? Math.Min(rows, query.Limit) : rows));
            }
        }
        return plans;
    }

    /// <summary>
    /// A symbol's plan from what a read returns (its rows merged with pending uploads). The files are an estimate
    /// until applied: the committed files in range, and one more when the uploads add rows (they land in a new file).
    /// </summary>
    private SymbolPlan PendingPlan(TableState state, TableQuery query, string symbol, CancellationToken cancellationToken)
    {
        var (from, to) = Days(query);
        var files = state.RunsOf(symbol).Count(r => r.Overlaps(from, to));
        var committed = ReadCommitted(state.Definition, query, symbol, cancellationToken).Sum(b => (long)b.Length);
        long rows = 0;
        foreach (var batch in ReadSymbol(state.Definition, query, symbol, cancellationToken))
        {
            rows += batch.Length;
        }
        return new SymbolPlan(symbol, files + (rows > committed ? 1 : 0), query.Limit > 0 ? Math.Min(rows, query.Limit) : rows);
    }

    /// <summary>Totals of one table: symbols, data files, rows (acknowledged uploads included), date span, version.</summary>
    public DatasetStats Stats(TableDefinition table, CancellationToken cancellationToken = default)
    {
        var plans = Plan(TableQuery.Create(Layers.Name(table.Layer), table.Name), cancellationToken);
        var state = _metadata.Current.Table(table);
        DateOnly? first = null, last = null;
        if (!state.Files.IsEmpty)
        {
            first = DateOnly.FromDayNumber(ArrowRows.UnixEpochDay + state.Files.Values.Min(f => f.MinDay));
            last = DateOnly.FromDayNumber(ArrowRows.UnixEpochDay + state.Files.Values.Max(f => f.MaxDay));
        }
        return new DatasetStats(Layers.Name(table.Layer), table.Name, plans.Count, state.Files.Count, plans.Sum(p => p.Rows), first, last,
            state.Files.Values.Sum(f => f.Bytes), state.Version, _cache.Symbols.Rows, _cache.Bytes);
    }

    /// <summary>The last date a table holds for a symbol (committed rows; from the index, no file is opened), or null.</summary>
    public DateOnly? LastDate(TableDefinition table, string symbol)
    {
        _metadata.Poll();
        var runs = _metadata.Current.Table(table).RunsOf(Lakehouse.Flight.Core.Symbols.Normalize(symbol));
        return runs.IsEmpty ? null : DateOnly.FromDayNumber(ArrowRows.UnixEpochDay + runs.Max(r => r.MaxDay));
    }

    /// <summary>Symbols with data in a table (from the index; no file is opened).</summary>
    public int SymbolCount(TableDefinition table) => SymbolsOf(_metadata.Current.Table(table), TableQuery.Create(Layers.Name(table.Layer), table.Name)).Count;

    /// <summary>The most recent manifest lines of a table, oldest first; a torn or unreadable line is skipped.</summary>
    public IReadOnlyList<StorageReport> ReadManifest(TableDefinition table, int limit = 50)
    {
        var lines = new List<string>();
        ManifestLog.ReadLines(Paths.ManifestFile(table), 0, lines);
        var reports = new List<StorageReport>();
        foreach (var line in lines.TakeLast(Math.Max(1, limit)))
        {
            try
            {
                if (StorageReport.FromJson(line) is { } r)
                {
                    reports.Add(r);
                }
            }
            catch (System.Text.Json.JsonException)
            {
            }
        }
        return reports;
    }

    /// <summary>
    /// Loads a table into the cache (as far as the budget allows, never evicting) on all cores, so the first scan runs
    /// from memory; the files stay the source of truth. Returns the rows loaded.
    /// </summary>
    public long Warm(TableDefinition table, CancellationToken cancellationToken = default) =>
        _cache.Warm(_metadata.Current, [table], cancellationToken);
}

/// <summary>
/// A symbol's recent rows (<see cref="LakeStore.ReadRecent"/>; in key order, in one or more parts), and of its rows
/// before them (dated before every one of these) the count and, per summarized column, the highest non-null value
/// (-infinity when none) and nulls.
/// </summary>
public sealed record RecentRows(IReadOnlyList<RecordBatch> Rows, long RowsBefore, IReadOnlyDictionary<string, (double Max, long Nulls)> Before);

/// <summary>What a query reads for one symbol: how many data files hold its rows, and how many rows.</summary>
public sealed record SymbolPlan(string Symbol, int Files, long Rows);

/// <summary>Totals of one dataset: symbols, data files, rows, the first and last date stored, bytes on disk, the version that last changed it, and what the cache holds.</summary>
public sealed record DatasetStats(string Layer, string Table, int Symbols, int Files, long Rows, DateOnly? FirstDate, DateOnly? LastDate,
    long Bytes, long Version, long CachedRows, long CachedBytes);

/// <summary>Rows resolved as of one committed lake version (<see cref="LakeStore.TryReadOneVersion"/>).</summary>
/// <param name="Version">The lake version every row is read at.</param>
/// <param name="PinnedRows">Rows resolved (before the query's limit): at least the rows <paramref name="Batches"/> yields.</param>
/// <param name="Schema">The query's output schema (its projection).</param>
/// <param name="Batches">The rows, ordered by symbol then key; enumerate once.</param>
public sealed record OneVersionRead(long Version, long PinnedRows, Schema Schema, IEnumerable<RecordBatch> Batches);
