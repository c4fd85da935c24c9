using System.Collections.Immutable;
using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>A partition a commit rewrote: its new rows and the file they are in.</summary>
internal sealed record StagedPartition(TableId Table, PartitionKey Key, string Path, RecordBatch Batch);

/// <summary>
/// Decoded partitions in memory, within one byte budget: symbol entries (one date-sorted batch of all
/// of a symbol's rows, for tables with one row per key) serve scans and warm reads by zero-copy slices;
/// the partition cache keeps small cold reads and per-source (bronze) files. Files stay the source of
/// truth: a cached copy is used by a write only while the file's stamp still matches (docs/decisions.md D2).
/// </summary>
internal sealed class ReadCache
{
    /// <summary>A read touching at least this many partitions of an uncached symbol builds its entry.</summary>
    internal const int BuildEntryPartitions = 8;

    private readonly LakePaths _paths;
    private readonly PartitionIndex _index;
    private readonly PartitionCache _partitions;
    private readonly SymbolCache _symbols;
    private readonly CompactCopies? _copies;

    public ReadCache(LakePaths paths, PartitionIndex index, long budgetBytes, CompactCopies? copies = null)
    {
        _paths = paths;
        _index = index;
        _copies = copies;
        BudgetBytes = budgetBytes;
        // Symbol entries serve scans and warm reads; the partition cache only keeps cold small reads
        // of symbols without an entry (and bronze), so it gets a small share of the budget.
        var partitionBudget = budgetBytes / 16;
        _partitions = new PartitionCache(partitionBudget);
        _symbols = new SymbolCache(budgetBytes - partitionBudget);
    }

    public long BudgetBytes { get; }

    public long Bytes => _partitions.Bytes + _symbols.Bytes;

    public int CachedPartitions => (int)Math.Min(int.MaxValue, _partitions.Count + _symbols.Partitions);

    /// <summary>Symbol entries held (tests watch eviction through it).</summary>
    internal SymbolCache Symbols => _symbols;

    internal PartitionCache Partitions => _partitions;

    private static bool KeepsEntries(TableId table) => !table.Definition.PerSource;

    /// <summary>A partition from the cache, or decoded from disk and cached. Null when the file is gone.</summary>
    public RecordBatch? GetPartition(TableId table, PartitionKey key)
    {
        var path = _paths.PartitionFile(table, key);
        if (_partitions.TryGet(path, out var cached, out _))
        {
            return cached;
        }
        var before = FileStamp.Of(path);
        if (before == default)
        {
            return null;
        }
        RecordBatch batch;
        try
        {
            batch = ParquetFiles.Read(path, table.Definition.Schema);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        // Cache only what was stable while we read it; a concurrent replace is picked up next time.
        if (FileStamp.Of(path) == before)
        {
            _partitions.Put(path, batch, before);
        }
        return batch;
    }

    public bool IsCached(TableId table, PartitionKey key) => _partitions.Contains(_paths.PartitionFile(table, key));

    /// <summary>Rows of a partition from the cache if cached whole (no file read); else null.</summary>
    public RecordBatch? CachedPartition(TableId table, PartitionKey key) =>
        _partitions.TryGet(_paths.PartitionFile(table, key), out var batch, out _) ? batch : null;

    /// <summary>The current file, never a stale cache entry: a cached copy is trusted only if the file's stamp matches.</summary>
    public RecordBatch? LoadForWrite(TableId table, PartitionKey key)
    {
        var path = _paths.PartitionFile(table, key);
        var stamp = FileStamp.Of(path);
        if (stamp == default)
        {
            return null;
        }
        if (_partitions.TryGet(path, out var cached, out var cachedStamp) && cachedStamp == stamp)
        {
            return cached;
        }
        if (KeepsEntries(table) && _symbols.TryGet(table, key.Symbol, out var entry)
            && entry.IndexOf(key.Year, key.Month) is var i and >= 0 && entry.Months[i].Stamp == stamp)
        {
            return entry.MonthSlice(i);
        }
        return ParquetFiles.Read(path, table.Definition.Schema);
    }

    /// <summary>The symbol's entry when it holds exactly the partitions the index lists.</summary>
    public bool TryEntry(TableId table, string symbol, ImmutableSortedSet<(int Year, int Month)> partitions, out SymbolEntry entry) =>
        _symbols.TryGet(table, symbol, out entry) && entry.Matches(partitions);

    /// <summary>
    /// The symbol's entry if it matches the index; built when the read is large enough to pay for it.
    /// With the cache off, a large read still gets the symbol's rows in one piece from its compacted copy
    /// (not kept). A read larger than the cache (<paramref name="scan"/> set) takes what it loaded ahead for
    /// itself, or loads the symbol for itself, and never adds to the cache (decisions D32).
    /// </summary>
    public SymbolEntry? EntryForRead(TableId table, string symbol, ImmutableSortedSet<(int Year, int Month)> partitions, int touched,
        ScanLoads? scan, CancellationToken cancellationToken)
    {
        if (!KeepsEntries(table))
        {
            return null;
        }
        if (_symbols.Enabled && TryEntry(table, symbol, partitions, out var entry))
        {
            return entry;
        }
        if (scan is not null && scan.TryGet(symbol, out entry, out var generation))
        {
            if (generation == _symbols.Generation(table, symbol) && entry.Matches(partitions))
            {
                return entry;
            }
            scan.Release(symbol);
        }
        if (touched < BuildEntryPartitions)
        {
            return null;
        }
        if (scan is not null)
        {
            return LoadForScan(table, symbol, scan, parallel: true, cancellationToken);
        }
        if (_symbols.Enabled)
        {
            return BuildEntry(table, symbol, parallel: true, cancellationToken);
        }
        return _copies is not null && _copies.Exists(table, symbol) ? LoadForScan(table, symbol, null, parallel: true, cancellationToken) : null;
    }

    /// <summary>Symbols loaded for one read only, not kept (<see cref="ScanLoads"/>; tests and diagnostics).</summary>
    public long ScanLoaded => Interlocked.Read(ref _scanLoaded);

    private long _scanLoaded;

    /// <summary>Scan loads in the layout of kept entries that the cache then had no room for (tests: a few at most per scan).</summary>
    public long KeptLayoutMisses => Interlocked.Read(ref _keptLayoutMisses);

    private long _keptLayoutMisses;

    /// <summary>
    /// Loads a symbol for a read larger than the cache (or with the cache off): it enters the cache only where
    /// the cache has room below its warm-up mark (so a first scan of a cold server still fills it, as the
    /// warm-up would), never by evicting; otherwise it is the read's own (added to <paramref name="scan"/>),
    /// in a layout the garbage collector frees young.
    /// </summary>
    private SymbolEntry? LoadForScan(TableId table, string symbol, ScanLoads? scan, bool parallel, CancellationToken cancellationToken)
    {
        // The generation before the load: a write after it makes the load unusable.
        var generation = _symbols.Generation(table, symbol);
        // Loaded in the layout of where it will go: the size is estimated, and once the cache has refused one
        // symbol for room this read offers it no more (without both, every later symbol would be loaded to be
        // kept and then not kept).
        var room = scan?.CacheFull != true
            && _symbols.HasRoomFor(EstimatedRows(table.Definition, _index.PartitionsOf(table, symbol).Count) * EstimatedRowBytes);
        if (LoadSymbol(table, symbol, parallel, cancellationToken, shortLived: !room) is not { } entry)
        {
            return null;
        }
        if (room)
        {
            switch (Publish(table, symbol, entry, generation, evict: false))
            {
                case SymbolCache.AddResult.Added:
                    return entry;
                case SymbolCache.AddResult.NoRoom:
                    Interlocked.Increment(ref _keptLayoutMisses);
                    scan?.MarkCacheFull();
                    break;
            }
        }
        Interlocked.Increment(ref _scanLoaded);
        scan?.Add(symbol, entry, generation);
        return entry;
    }

    /// <summary>Bytes of a row, for bounds only (a silver row is ~84 bytes).</summary>
    internal const long EstimatedRowBytes = 96;

    /// <summary>Rows of a month partition, for bounds only (a silver month is ~21 rows).</summary>
    private const long EstimatedMonthRows = 23;

    /// <summary>Rows in <paramref name="partitions"/> partitions of the table, for bounds only (a year partition holds twelve months).</summary>
    internal static long EstimatedRows(TableDefinition table, long partitions) =>
        partitions * (table.Partitioning == Partitioning.SymbolYear ? 12 * EstimatedMonthRows : EstimatedMonthRows);

    /// <summary>
    /// Builds, on all cores, the entries of the symbols a large read is about to resolve one by one, where
    /// each has a compacted copy: loading a copy is a file read and a stat per month, so the symbols of a
    /// scan load side by side. Takes the symbols from <paramref name="start"/> on, up to about
    /// <paramref name="maxRows"/> rows and half the cache's budget (so a scan of a lake larger than the cache
    /// never evicts what it prefetched before reading it); returns where the window ends. With
    /// <paramref name="scan"/> (a read larger than the cache) the loads go there, not into the cache.
    /// </summary>
    public int PrefetchEntries(TableId table, IReadOnlyList<string> symbols, int start, long maxRows, ScanLoads? scan,
        CancellationToken cancellationToken)
    {
        if (!_symbols.Enabled || _copies is null || !KeepsEntries(table) || start >= symbols.Count)
        {
            return symbols.Count;
        }
        var work = new List<string>();
        long rows = 0;
        var end = start;
        while (end < symbols.Count && rows < maxRows && rows * EstimatedRowBytes < _symbols.BudgetBytes / 2)
        {
            var symbol = symbols[end++];
            if (symbol.Length == 0)
            {
                continue;
            }
            var partitions = _index.PartitionsOf(table, symbol);
            if (TryEntry(table, symbol, partitions, out var entry))
            {
                rows += entry.Batch.Length;
                continue;
            }
            rows += EstimatedRows(table.Definition, partitions.Count);
            if (scan?.Contains(symbol) != true)
            {
                work.Add(symbol);
            }
        }
        if (work.Count >= 2)
        {
            Parallel.ForEach(work, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount }, symbol =>
            {
                if (!_copies.Exists(table, symbol))
                {
                    return;
                }
                if (scan is null)
                {
                    BuildEntry(table, symbol, parallel: false, cancellationToken);
                }
                else
                {
                    LoadForScan(table, symbol, scan, parallel: false, cancellationToken);
                }
            });
        }
        return end;
    }

    /// <summary>Loads the symbol (<see cref="LoadSymbol"/>) and publishes it, unless a write touched the symbol meanwhile.</summary>
    private SymbolEntry? BuildEntry(TableId table, string symbol, bool parallel, CancellationToken cancellationToken)
    {
        var generation = _symbols.Generation(table, symbol);
        if (LoadSymbol(table, symbol, parallel, cancellationToken) is not { } entry)
        {
            return null;
        }
        Publish(table, symbol, entry, generation, evict: true);
        return entry;
    }

    /// <summary>
    /// Adds a loaded entry to the cache unless a write touched the symbol since <paramref name="generation"/>
    /// (or, without <paramref name="evict"/>, it would take the cache past its warm-up mark).
    /// </summary>
    private SymbolCache.AddResult Publish(TableId table, string symbol, SymbolEntry entry, long generation, bool evict)
    {
        var result = _symbols.TryAdd(table, symbol, entry, generation, evict);
        if (result == SymbolCache.AddResult.Added && _partitions.Count > 0)
        {
            // The entry holds these rows now; per-partition copies would only double the memory.
            _partitions.RemovePrefix(_paths.SymbolDir(table, symbol) + Path.DirectorySeparatorChar);
        }
        return result;
    }

    /// <summary>
    /// All rows of a symbol as one batch: the months of its compacted copy whose month file still has the
    /// stamp the copy recorded (one file read, no decode), the other months decoded from their files (the
    /// partition cache's copies where their stamp still matches). Returns null when a file changed or
    /// vanished while read: the caller falls back to per-file reads.
    /// </summary>
    private SymbolEntry? LoadSymbol(TableId table, string symbol, bool parallel, CancellationToken cancellationToken, bool forCopy = false,
        bool shortLived = false)
    {
        var partitions = _index.PartitionsOf(table, symbol);
        var months = partitions.ToArray();
        if (months.Length == 0)
        {
            return null;
        }
        var copy = _copies?.Load(table, symbol, shortLived);
        var batches = new RecordBatch?[months.Length];
        var stamps = new FileStamp[months.Length];
        var fromCopy = new int[months.Length];
        var missing = new List<int>();
        // The walk's stamps while nothing changed the symbol since (D26); the compactor (forCopy) always looks at the files.
        var current = copy is null ? null
            : (forCopy ? null : _index.KnownStamps(table, symbol, partitions))
                ?? FileStamps.OfMonths(_paths.SymbolDir(table, symbol), table.Definition.Partitioning, months);
        for (var i = 0; i < months.Length; i++)
        {
            fromCopy[i] = -1;
            if (copy is null)
            {
                missing.Add(i);
                continue;
            }
            var c = copy.IndexOf(months[i].Year, months[i].Month);
            var stamp = current![i];
            if (c >= 0 && stamp != default && copy.Months[c].Stamp == stamp)
            {
                fromCopy[i] = c;
                stamps[i] = stamp;
            }
            else
            {
                missing.Add(i);
            }
        }
        if (copy is not null && missing.Count > 0 && !forCopy)
        {
            // A stale copy: the compactor's next pass rewrites it.
            _copies!.MarkDirty(table, symbol);
        }
        var failed = 0;
        void Load(int i)
        {
            var path = _paths.PartitionFile(table, new PartitionKey(symbol, months[i].Year, months[i].Month));
            var before = FileStamp.Of(path);
            if (before == default)
            {
                Volatile.Write(ref failed, 1);
                return;
            }
            if (_partitions.TryGet(path, out var cached, out var cachedStamp) && cachedStamp == before)
            {
                batches[i] = cached;
                stamps[i] = before;
                return;
            }
            try
            {
                batches[i] = ParquetFiles.Read(path, table.Definition.Schema);
            }
            catch (FileNotFoundException)
            {
                Volatile.Write(ref failed, 1);
                return;
            }
            // Use only what was stable while we read it.
            if (FileStamp.Of(path) != before)
            {
                Volatile.Write(ref failed, 1);
            }
            stamps[i] = before;
        }
        if (parallel && missing.Count > 1)
        {
            Parallel.ForEach(missing, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount }, Load);
        }
        else
        {
            foreach (var i in missing)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Load(i);
            }
        }
        if (failed != 0)
        {
            return null;
        }
        return Assemble(copy, months, batches, fromCopy, stamps);
    }

    /// <summary>One batch from copy months (runs contiguous in the copy become one zero-copy slice) and decoded months.</summary>
    private static SymbolEntry Assemble(CompactCopy? copy, (int Year, int Month)[] months, RecordBatch?[] batches, int[] fromCopy, FileStamp[] stamps)
    {
        var ranges = new MonthRange[months.Length];
        if (copy is not null && fromCopy[0] == 0 && fromCopy[^1] == copy.Months.Length - 1 && months.Length == copy.Months.Length
            && fromCopy.All(c => c >= 0))
        {
            // The whole copy is current: its batch is the entry, as read.
            for (var i = 0; i < months.Length; i++)
            {
                var m = copy.Months[i];
                ranges[i] = new MonthRange(m.Year, m.Month, m.Start, m.Length, stamps[i]);
            }
            return new SymbolEntry(copy.Rows, ranges);
        }
        var parts = new List<RecordBatch>();
        var rows = 0;
        for (var i = 0; i < months.Length;)
        {
            if (fromCopy[i] < 0)
            {
                var b = batches[i]!;
                parts.Add(b);
                ranges[i] = new MonthRange(months[i].Year, months[i].Month, rows, b.Length, stamps[i]);
                rows += b.Length;
                i++;
                continue;
            }
            var runStart = i;
            var first = copy!.Months[fromCopy[i]];
            var length = 0;
            while (i < months.Length && fromCopy[i] >= 0 && fromCopy[i] == fromCopy[runStart] + (i - runStart))
            {
                var m = copy.Months[fromCopy[i]];
                ranges[i] = new MonthRange(m.Year, m.Month, rows + length, m.Length, stamps[i]);
                length += m.Length;
                i++;
            }
            parts.Add(copy.Rows.Slice(first.Start, length));
            rows += length;
        }
        return new SymbolEntry(ArrowConcat.ConcatenateManaged(parts), ranges);
    }

    /// <summary>
    /// A symbol's rows and month stamps for writing its compacted copy: the cached entry when every month
    /// file still has the stamp it recorded, else loaded (current copy months, other months from their
    /// files) without entering the cache. Null when the symbol has no months or changed while read.
    /// </summary>
    public SymbolEntry? RowsForCopy(TableId table, string symbol, CancellationToken cancellationToken)
    {
        var partitions = _index.PartitionsOf(table, symbol);
        if (_symbols.TryGet(table, symbol, out var entry) && entry.Matches(partitions))
        {
            var stamps = FileStamps.OfMonths(_paths.SymbolDir(table, symbol), table.Definition.Partitioning,
                entry.Months.Select(m => (m.Year, m.Month)).ToArray());
            if (entry.Months.Select((m, i) => m.Stamp == stamps[i]).All(same => same))
            {
                return entry;
            }
        }
        return LoadSymbol(table, symbol, parallel: false, cancellationToken, forCopy: true);
    }

    /// <summary>
    /// After a commit: splices the new partition batches into the symbols' entries (unchanged
    /// partitions kept, changed replaced, new inserted in order); symbols without an entry get the
    /// batches in the partition cache.
    /// </summary>
    public void Committed(IReadOnlyList<StagedPartition> updates)
    {
        foreach (var group in updates.GroupBy(u => (u.Table, u.Key.Symbol)))
        {
            var (table, symbol) = group.Key;
            _copies?.MarkDirty(table, symbol);
            if (KeepsEntries(table) && _symbols.TryGet(table, symbol, out var entry)
                && Splice(entry, group.Select(u => (u.Key.Year, u.Key.Month, u.Batch, FileStamp.Of(u.Path))).ToList()) is { } spliced)
            {
                _symbols.Replace(table, symbol, spliced);
                foreach (var u in group)
                {
                    _partitions.Remove(u.Path);
                }
                continue;
            }
            if (KeepsEntries(table))
            {
                // Fences out an entry a concurrent reader is building from the files we replaced.
                _symbols.Invalidate(table, symbol);
            }
            foreach (var u in group)
            {
                _partitions.Put(u.Path, u.Batch, FileStamp.Of(u.Path));
            }
        }
    }

    /// <summary>Another process changed the symbol: forget what we hold of it.</summary>
    public void Invalidate(TableId table, string symbol)
    {
        _copies?.MarkDirty(table, symbol);
        _symbols.Invalidate(table, symbol);
        _partitions.RemovePrefix(_paths.SymbolDir(table, symbol) + Path.DirectorySeparatorChar);
    }

    private static SymbolEntry? Splice(SymbolEntry entry, List<(int Year, int Month, RecordBatch Batch, FileStamp Stamp)> changes)
    {
        if (changes.Any(c => c.Stamp == default))
        {
            return null;
        }
        changes.Sort((a, b) => (a.Year, a.Month).CompareTo((b.Year, b.Month)));
        var parts = new List<RecordBatch>();
        var ranges = new List<MonthRange>(entry.Months.Length + changes.Count);
        var old = entry.Months;
        int i = 0, j = 0, rows = 0;
        while (i < old.Length || j < changes.Count)
        {
            var takeNew = j < changes.Count && (i == old.Length || (changes[j].Year, changes[j].Month).CompareTo((old[i].Year, old[i].Month)) <= 0);
            if (takeNew)
            {
                var c = changes[j++];
                if (i < old.Length && old[i].Year == c.Year && old[i].Month == c.Month)
                {
                    i++;
                }
                parts.Add(c.Batch);
                ranges.Add(new MonthRange(c.Year, c.Month, rows, c.Batch.Length, c.Stamp));
                rows += c.Batch.Length;
                continue;
            }
            // A run of unchanged partitions is contiguous in the old batch: one zero-copy slice.
            var runStart = i;
            while (i < old.Length && (j == changes.Count || (old[i].Year, old[i].Month).CompareTo((changes[j].Year, changes[j].Month)) < 0))
            {
                ranges.Add(old[i] with { Start = rows + old[i].Start - old[runStart].Start });
                i++;
            }
            var length = old[i - 1].Start + old[i - 1].Length - old[runStart].Start;
            parts.Add(entry.Batch.Slice(old[runStart].Start, length));
            rows += length;
        }
        return new SymbolEntry(ArrowConcat.ConcatenateManaged(parts), ranges.ToArray());
    }

    /// <summary>
    /// Decodes every partition of a table into the cache, as far as the budget allows, on all cores:
    /// symbol entries for tables with one row per key, partitions otherwise. Warming never evicts: it
    /// stops at 90% of the budget. Returns how many partitions it decoded (cached ones are skipped).
    /// </summary>
    public int Warm(IEnumerable<TableId> tables, CancellationToken cancellationToken)
    {
        if (BudgetBytes <= 0)
        {
            return 0;
        }
        var symbolWork = new List<(TableId Table, string Symbol)>();
        var partitionWork = new List<(TableId Table, PartitionKey Key)>();
        foreach (var t in tables)
        {
            foreach (var symbol in _index.SymbolsOf(t))
            {
                var parts = _index.PartitionsOf(t, symbol);
                if (KeepsEntries(t))
                {
                    if (!TryEntry(t, symbol, parts, out _))
                    {
                        symbolWork.Add((t, symbol));
                    }
                }
                else
                {
                    partitionWork.AddRange(parts.Select(p => (t, new PartitionKey(symbol, p.Year, p.Month))));
                }
            }
        }
        var loaded = 0;
        var options = new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount };
        Parallel.ForEach(symbolWork, options, (item, state) =>
        {
            if (!_symbols.HasRoom)
            {
                state.Stop();
                return;
            }
            if (BuildEntry(item.Table, item.Symbol, parallel: false, cancellationToken) is { } entry)
            {
                Interlocked.Add(ref loaded, entry.Months.Length);
            }
        });
        Parallel.ForEach(partitionWork, options, (item, state) =>
        {
            if (_partitions.Bytes >= BudgetBytes / 16 * 9 / 10)
            {
                state.Stop();
                return;
            }
            if (!IsCached(item.Table, item.Key) && GetPartition(item.Table, item.Key) is not null)
            {
                Interlocked.Increment(ref loaded);
            }
        });
        return loaded;
    }

    /// <summary>Decodes the not-yet-cached partitions of a read in parallel before the ordered walk consumes them.</summary>
    public void Prefetch(TableId table, IReadOnlyList<PartitionKey> keys, CancellationToken cancellationToken)
    {
        if (BudgetBytes <= 0 || keys.Count < 4)
        {
            return;
        }
        var missing = keys.Where(k => !IsCached(table, k)).ToArray();
        if (missing.Length < 4)
        {
            return;
        }
        Parallel.ForEach(missing, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount },
            k => GetPartition(table, k));
    }
}
