using System.Collections.Concurrent;
using System.Collections.Immutable;
using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>A change a commit made to one symbol of one table, for the caches: the band's rows that changed (new values).</summary>
internal sealed class SymbolChange(TableId table, string symbol, int band, RecordBatch rows, int start = 0, int length = -1)
{
    public TableId Table => table;

    public string Symbol => symbol;

    public int Band => band;

    /// <summary>
    /// The changed rows: rows [start, start + length) of the batch staged (a slice made only when asked for: a write of
    /// 20,000 new symbol days splices a few cache entries, and a slice per symbol was ~40 objects for the collector).
    /// </summary>
    public RecordBatch Changed => start == 0 && (length < 0 || length == rows.Length) ? rows
        : rows.Slice(start, length < 0 ? rows.Length - start : length);
}

/// <summary>
/// Decoded rows in memory within one byte budget: symbol entries (all of a symbol's rows, date-sorted, for tables
/// with one row per key) serve scans and warm reads as zero-copy slices; decoded runs (a symbol's rows of one file) keep small reads
/// and per-source (bronze) tables. Data files never change, so an entry is the symbol's rows as of the latest
/// commit as long as every commit splices or drops it (ours splice, other processes' drop).
/// </summary>
internal sealed class ReadCache
{
    /// <summary>A read touching at least this many runs (a year each, for daily tables) of an uncached symbol builds its entry.</summary>
    internal const int BuildEntryRuns = 2;

    /// <summary>Runs of one symbol from which a read without a memo decodes them side by side.</summary>
    private const int ParallelRuns = 4;

    /// <summary>Bytes of a row, for bounds only (a silver row is ~84 bytes).</summary>
    internal const long EstimatedRowBytes = 96;

    private readonly FileStore _files;
    private readonly DirectoryCache _directories;
    private readonly RowGroupCache _groups;
    private readonly RowGroupCache _runs;
    private readonly SymbolCache _symbols;

    public ReadCache(FileStore files, DirectoryCache directories, long budgetBytes)
    {
        _files = files;
        _directories = directories;
        BudgetBytes = budgetBytes;
        // Symbol entries serve scans and warm reads; decoded runs small reads and bronze; decoded row groups the
        // neighbouring symbols of a read that decoded one (a run is ~26 KB of its 1.3 MB group: apart, so groups
        // passing through do not push the runs of warm symbols out).
        var groupBudget = budgetBytes / 32;
        _groups = new RowGroupCache(groupBudget);
        _runs = new RowGroupCache(groupBudget);
        _symbols = new SymbolCache(budgetBytes - (2 * groupBudget));
    }

    public long BudgetBytes { get; }

    public long Bytes => _groups.Bytes + _runs.Bytes + _symbols.Bytes;

    internal SymbolCache Symbols => _symbols;

    internal DirectoryCache Directories => _directories;

    internal RowGroupCache Groups => _groups;

    internal RowGroupCache Runs => _runs;

    private static bool KeepsEntries(TableId table) => !table.Definition.PerSource;

    public bool TryEntry(TableId table, string symbol, out SymbolEntry entry) => _symbols.TryGet(table, symbol, out entry);

    /// <summary>
    /// The symbol's entry, built when the read is large enough to pay for it (or loaded for a read larger than the
    /// cache into <paramref name="scan"/>, never into the cache, decisions D32). Null: read the runs directly.
    /// </summary>
    public SymbolEntry? EntryForRead(TableState state, TableId table, string symbol, int touchedRuns, ScanLoads? scan,
        CancellationToken cancellationToken)
    {
        if (!KeepsEntries(table))
        {
            return null;
        }
        if (_symbols.Enabled && _symbols.TryGet(table, symbol, out var entry))
        {
            return entry;
        }
        if (scan is not null && scan.TryGet(symbol, out entry, out var builtAt))
        {
            if (_symbols.IsCurrent(table, symbol, builtAt))
            {
                return entry;
            }
            scan.Release(symbol);
        }
        if (touchedRuns < BuildEntryRuns)
        {
            return null;
        }
        if (scan is not null || !_symbols.Enabled)
        {
            return LoadForScan(state, table, symbol, scan, cancellationToken);
        }
        return BuildEntry(state, table, symbol, cancellationToken);
    }

    /// <summary>Symbols loaded for one read only, not kept (tests and diagnostics).</summary>
    public long ScanLoaded => Interlocked.Read(ref _scanLoaded);

    private long _scanLoaded;

    private SymbolEntry? LoadForScan(TableState state, TableId table, string symbol, ScanLoads? scan, CancellationToken cancellationToken)
    {
        var runs = state.RunsOf(symbol);
        var room = scan?.CacheFull != true && _symbols.HasRoomFor(runs.Sum(r => (long)r.Count) * EstimatedRowBytes);
        var entry = new SymbolEntry(LoadRuns(table.Definition, runs, null, null, scan?.Groups, cancellationToken, owned: true));
        if (room)
        {
            switch (_symbols.TryAdd(table, symbol, entry, state.Version, evict: false))
            {
                case SymbolCache.AddResult.Added:
                    return entry;
                case SymbolCache.AddResult.NoRoom:
                    scan?.MarkCacheFull();
                    break;
            }
        }
        Interlocked.Increment(ref _scanLoaded);
        scan?.Add(symbol, entry, state.Version);
        return entry;
    }

    private SymbolEntry BuildEntry(TableState state, TableId table, string symbol, CancellationToken cancellationToken)
    {
        var entry = new SymbolEntry(LoadRuns(table.Definition, state.RunsOf(symbol), null, null, null, cancellationToken, owned: true));
        _symbols.TryAdd(table, symbol, entry, state.Version, evict: true);
        return entry;
    }

    /// <summary>
    /// The rows of <paramref name="runs"/> (one symbol; of one source for per-source tables) within [from, to], in key
    /// order, on the managed heap. Row groups come from <paramref name="memo"/> (a scan's own) or the row-group cache.
    /// </summary>
    public RecordBatch LoadRuns(TableDefinition table, ImmutableArray<FileRun> runs, int? from, int? to,
        ConcurrentDictionary<(string, int), RecordBatch>? memo, CancellationToken cancellationToken, bool owned = false)
    {
        var parts = new List<RecordBatch>(runs.Length);
        var dateColumn = table.Schema.GetFieldIndex(table.DateColumn, StringComparer.Ordinal);
        var sorted = true;
        var lastMax = int.MinValue;
        var touched = runs.Where(r => r.Overlaps(from, to)).ToArray();
        var decoded = new RecordBatch[touched.Length];
        if (memo is null && touched.Length >= ParallelRuns)
        {
            // One symbol's years lie in as many files, a row group each to decode (a cold read of its history, the
            // report of a corrected symbol): on all cores.
            Parallel.For(0, touched.Length, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount },
                i => decoded[i] = ReadRun(table, touched[i], null));
        }
        for (var i = 0; i < touched.Length; i++)
        {
            var run = touched[i];
            cancellationToken.ThrowIfCancellationRequested();
            var rows = decoded[i] ?? ReadRun(table, run, memo);
            parts.Add(ArrowConcat.SliceByDate(rows, dateColumn, from, to));
            sorted &= run.MinDay > lastMax;
            lastMax = Math.Max(lastMax, run.MaxDay);
        }
        if (parts.Count == 0)
        {
            return Lakehouse.Flight.Core.RecordBatches.Empty(table.Schema);
        }
        if (!sorted || (table.PerSource && parts.Count > 1))
        {
            // Runs whose dates interleave (rows inserted out of order, or several sources): one merge by key.
            return UpsertMerge.Combine(table, parts);
        }
        // A kept entry owns its buffers: a slice would pin the whole decoded row group it came from.
        return parts.Count == 1 && !owned ? parts[0] : ArrowConcat.ConcatenateManaged(parts);
    }

    /// <summary>One run's rows (whole), from the file's row groups.</summary>
    public RecordBatch ReadRun(TableDefinition table, FileRun run, ConcurrentDictionary<(string, int), RecordBatch>? memo)
    {
        var directory = _directories.Get(table, run.File);
        var path = _files.StorePath(table, run.File.Name);
        if (memo is null)
        {
            // A small read keeps the run it decoded (one symbol's rows of the file, its own buffers), not the row
            // groups: a point query's year of one symbol is a small part of its row group, so the same budget keeps
            // many times more symbols warm (docs/decisions.md D36).
            var key = table.Id + "/" + run.File.Name + "@" + run.Start.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (_runs.Get(key, run.Count) is { } kept)
            {
                return kept;
            }
            // The row groups still go through their own cache: the next symbols of a scan or a gold build are in them.
            var rows = ArrowConcat.ConcatenateManaged([SegmentFiles.ReadRows(path, table, directory, run.Start, run.Count, _groups,
                table.Id + "/" + run.File.Name)]);
            _runs.Put(key, run.Count, rows);
            return rows;
        }
        return SegmentFiles.FromGroups(directory, run.Start, run.Count, g => memo.GetOrAdd((run.File.Name, g), key => SegmentFiles.ReadRows(path,
            table, directory, directory.RowGroupStarts[key.Item2], directory.RowGroupStarts[key.Item2 + 1] - directory.RowGroupStarts[key.Item2])));
    }

    /// <summary>
    /// Loads, side by side on all cores, the entries of the symbols a large read is about to resolve one by one: from
    /// <paramref name="start"/>, up to about <paramref name="maxRows"/> rows and half the cache's budget. Row groups
    /// shared by neighbouring symbols are decoded once (<paramref name="scan"/>'s memo, or a memo of this window).
    /// Returns where the window ends.
    /// </summary>
    public int PrefetchEntries(TableState state, TableId table, IReadOnlyList<string> symbols, int start, long maxRows, ScanLoads? scan,
        CancellationToken cancellationToken)
    {
        if (!KeepsEntries(table) || start >= symbols.Count || (!_symbols.Enabled && scan is null))
        {
            return symbols.Count;
        }
        var work = new List<string>();
        long rows = 0;
        var end = start;
        var budget = Math.Max(_symbols.BudgetBytes / 2, EstimatedRowBytes * maxRows);
        while (end < symbols.Count && rows < maxRows && rows * EstimatedRowBytes < budget)
        {
            var symbol = symbols[end++];
            if (symbol.Length == 0)
            {
                continue;
            }
            if (_symbols.TryGet(table, symbol, out var entry))
            {
                rows += entry.Length;
                continue;
            }
            var runs = state.RunsOf(symbol);
            rows += runs.Sum(r => (long)r.Count);
            if (runs.Length >= BuildEntryRuns && scan?.Contains(symbol) != true)
            {
                work.Add(symbol);
            }
        }
        if (work.Count >= 2)
        {
            var memo = scan?.Groups ?? new ConcurrentDictionary<(string, int), RecordBatch>();
            // The row groups first (each once, all cores), then each symbol's slices of them.
            DecodeGroups(table.Definition, work.SelectMany(s => state.RunsOf(s)), memo, null, cancellationToken);
            foreach (var symbol in work)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var entry = new SymbolEntry(LoadRuns(table.Definition, state.RunsOf(symbol), null, null, memo, cancellationToken, owned: true));
                if (scan is null)
                {
                    _symbols.TryAdd(table, symbol, entry, state.Version, evict: true);
                }
                else if (scan.CacheFull || _symbols.TryAdd(table, symbol, entry, state.Version, evict: false) != SymbolCache.AddResult.Added)
                {
                    scan.MarkCacheFull();
                    Interlocked.Increment(ref _scanLoaded);
                    scan.Add(symbol, entry, state.Version);
                }
            }
        }
        return end;
    }

    /// <summary>
    /// The rows of each set of runs (one symbol's each) in key order, for a caller that reads each set once, at once, into
    /// no cache (a daily append's gold refresh, which would otherwise build, and then evict, an entry of each symbol's
    /// whole history): <paramref name="visit"/> gets the index of each set and its rows, on all cores, as slices of row
    /// groups decoded once (only <paramref name="projection"/>'s columns, when given) and left in the Parquet reader's native
    /// memory (no managed copy: a daily append's gold read ~6M rows of 20,000 symbols, copied into 16K-row buffers on the
    /// large object heap, a gen2 collection every few hundred), freed when the visits are over. A visit must not keep a
    /// slice, or anything sharing its buffers, past its return. Runs whose dates interleave come merged into one batch, or
    /// null under a projection (merging by key needs every column).
    /// </summary>
    public void VisitRunsOnce(TableDefinition table, IReadOnlyList<ImmutableArray<FileRun>> runs, Schema? projection,
        Action<int, List<RecordBatch>?> visit, CancellationToken cancellationToken)
    {
        var memo = new ConcurrentDictionary<(string, int), RecordBatch>();
        var native = new List<RecordBatch>();
        try
        {
            DecodeGroups(table, runs.SelectMany(r => r), memo, projection, native, cancellationToken);
            AllCores.For(runs.Count, i => visit(i, PartsOf(table, runs[i], projection, memo, cancellationToken)), cancellationToken);
        }
        finally
        {
            foreach (var batch in native)
            {
                batch.Dispose();
            }
        }
    }

    /// <summary>One symbol's runs as slices of the decoded groups in <paramref name="memo"/> (interleaving runs: merged, or null under a projection).</summary>
    private List<RecordBatch>? PartsOf(TableDefinition table, ImmutableArray<FileRun> symbolRuns, Schema? projection,
        ConcurrentDictionary<(string, int), RecordBatch> memo, CancellationToken cancellationToken)
    {
        var lastMax = int.MinValue;
        foreach (var run in symbolRuns)
        {
            if (run.MinDay <= lastMax)
            {
                return projection is null ? [LoadRuns(table, symbolRuns, null, null, memo, cancellationToken)] : null;
            }
            lastMax = run.MaxDay;
        }
        // Slices of the decoded groups, not copied (managed already, or native for a visit): the caller reads them once and
        // drops them (a daily append's gold copied 5M rows a second time per 20,000 symbols).
        var parts = new List<RecordBatch>();
        foreach (var run in symbolRuns)
        {
            parts.AddRange(SegmentFiles.GroupSlices(_directories.Get(table, run.File), run.Start, run.Count, g => memo[(run.File.Name, g)]));
        }
        return parts;
    }

    /// <summary>Row groups of one file a decode reads with one reader: enough to open each footer once, few enough to spread a file over the cores.</summary>
    private const int GroupsPerReader = 4;

    /// <summary>Decodes, on all cores, each row group of <paramref name="runs"/> that <paramref name="memo"/> does not hold yet.</summary>
    private void DecodeGroups(TableDefinition table, IEnumerable<FileRun> runs, ConcurrentDictionary<(string, int), RecordBatch> memo,
        Schema? projection, CancellationToken cancellationToken) => DecodeGroups(table, runs, memo, projection, native: null, cancellationToken);

    /// <summary>
    /// Decodes, on all cores, each row group of <paramref name="runs"/> that <paramref name="memo"/> does not hold yet;
    /// with <paramref name="native"/>, in the reader's memory where it can (the caller disposes what that list gets).
    /// </summary>
    private void DecodeGroups(TableDefinition table, IEnumerable<FileRun> runs, ConcurrentDictionary<(string, int), RecordBatch> memo,
        Schema? projection, List<RecordBatch>? native, CancellationToken cancellationToken)
    {
        var groups = runs.SelectMany(r =>
        {
            var d = _directories.Get(table, r.File);
            var (first, end) = d.RowGroupsOf(r.Start, r.Count);
            return Enumerable.Range(first, end - first).Select(g => (r.File, Group: g));
        }).DistinctBy(x => (x.File.Name, x.Group)).Where(x => !memo.ContainsKey((x.File.Name, x.Group))).ToArray();
        // A reader per file and a few groups (opening a file parses its footer), the pieces on all cores.
        var pieces = groups.GroupBy(x => x.File.Name, StringComparer.Ordinal)
            .SelectMany(f => f.Chunk(GroupsPerReader).Select(c => (File: c[0].File, Groups: c.Select(x => x.Group).ToArray())))
            .ToArray();
        Parallel.ForEach(pieces, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount },
            piece =>
            {
                var decoded = SegmentFiles.ReadGroups(_files.StorePath(table, piece.File.Name), table, piece.Groups, projection, native);
                for (var i = 0; i < decoded.Length; i++)
                {
                    memo.TryAdd((piece.File.Name, piece.Groups[i]), decoded[i]);
                }
            });
    }

    /// <summary>
    /// After our commit at <paramref name="version"/>: splices each symbol's changed rows into its entry; symbols
    /// without an entry are fenced (an entry being built from an older state is refused).
    /// </summary>
    public void Committed(IReadOnlyList<SymbolChange> changes, long version)
    {
        foreach (var group in changes.GroupBy(c => (c.Table, c.Symbol)))
        {
            var (table, symbol) = group.Key;
            if (!KeepsEntries(table))
            {
                continue;
            }
            if (_symbols.TryGet(table, symbol, out var entry))
            {
                var rows = entry.Chunks;
                foreach (var change in group)
                {
                    rows = change.Changed.Length == 0 ? rows : UpsertMerge.Splice(table.Definition, rows, change.Changed);
                }
                _symbols.Replace(table, symbol, entry, new SymbolEntry(rows), version);
            }
            else
            {
                _symbols.Invalidate(table, symbol, version);
            }
        }
    }

    /// <summary>The commit at <paramref name="version"/> (another process's, or ours when its splice failed) changed the symbol: forget what we hold of it.</summary>
    public void Invalidate(TableId table, string symbol, long version) => _symbols.Invalidate(table, symbol, version);

    /// <summary>
    /// Builds the entries of every symbol of the tables (one-row-per-key tables), as far as the budget allows, window
    /// by window on all cores; never evicts (stops at 90% of the budget). Returns the rows loaded.
    /// </summary>
    public long Warm(LakeState state, IEnumerable<TableDefinition> tables, CancellationToken cancellationToken)
    {
        long loaded = 0;
        foreach (var def in tables)
        {
            var table = new TableId(def);
            if (!KeepsEntries(table) || !_symbols.Enabled)
            {
                continue;
            }
            var t = state.Table(def);
            var symbols = t.SymbolList.Where(s => !_symbols.Contains(table, s)).ToArray();
            var i = 0;
            while (i < symbols.Length && _symbols.HasRoom)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var before = _symbols.Rows;
                var window = new List<string>();
                long rows = 0;
                while (i < symbols.Length && rows < (1 << 20))
                {
                    window.Add(symbols[i]);
                    rows += t.RunsOf(symbols[i]).Sum(r => (long)r.Count);
                    i++;
                }
                var room = LoadWindow(t, table, window, cancellationToken);
                loaded += _symbols.Rows - before;
                if (!room)
                {
                    break;
                }
            }
        }
        return loaded;
    }

    /// <summary>Entries of <paramref name="symbols"/> (row groups decoded once, all cores), added while the cache has room below its warm-up mark; false once it has none.</summary>
    private bool LoadWindow(TableState state, TableId table, List<string> symbols, CancellationToken cancellationToken)
    {
        var full = false;
        var memo = new ConcurrentDictionary<(string, int), RecordBatch>();
        DecodeGroups(table.Definition, symbols.SelectMany(s => state.RunsOf(s)), memo, null, cancellationToken);
        Parallel.ForEach(symbols, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount },
            (symbol, loop) =>
            {
                if (!_symbols.HasRoom)
                {
                    loop.Stop();
                    return;
                }
                var entry = new SymbolEntry(LoadRuns(table.Definition, state.RunsOf(symbol), null, null, memo, cancellationToken, owned: true));
                if (_symbols.TryAdd(table, symbol, entry, state.Version, evict: false) == SymbolCache.AddResult.NoRoom)
                {
                    // Full for entries of this size: the warm-up ends here (the cache would stay just below its mark
                    // while every further window of a lake larger than the cache is decoded for nothing).
                    full = true;
                    loop.Stop();
                }
            });
        return !full;
    }
}
