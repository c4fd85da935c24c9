using System.Collections.Immutable;
using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Storage;

public sealed partial class PriceStore
{
    /// <summary>Output slices of at least this many rows are not coalesced.</summary>
    private const int SmallSliceRows = 4096;

    /// <summary>The output schema of a query (its projection applied); InvalidArgument for an unknown table or column.</summary>
    public Schema SchemaOf(PriceQuery query) => Catalog.Resolve(query).Schema;

    /// <summary>
    /// Streams the rows of a query ordered by symbol, then key. Only partitions overlapping the date
    /// range are touched; small slices are coalesced into batches of up to
    /// <see cref="StoreOptions.TargetBatchRows"/> rows. An unknown symbol yields nothing.
    /// </summary>
    public IEnumerable<RecordBatch> Read(PriceQuery query, CancellationToken cancellationToken = default)
    {
        var (table, schema) = Catalog.Resolve(query);
        return ReadResolved(table, schema, query, cancellationToken);
    }

    private IEnumerable<RecordBatch> ReadResolved(TableDefinition table, Schema schema, PriceQuery query, CancellationToken cancellationToken)
    {
        _changes.Poll(table);
        var indices = schema.FieldsList.Select(f => table.Schema.GetFieldIndex(f.Name)).ToArray();
        var coalescer = new List<RecordBatch>();
        var coalescedRows = 0;
        var target = Math.Max(1, Options.TargetBatchRows);
        // Slices this large go out as they are (zero-copy); only smaller ones are worth a copy to
        // make fewer, fuller batches.
        var small = Math.Min(SmallSliceRows, target);
        var remaining = query.Limit > 0 ? query.Limit : long.MaxValue;
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
            symbols = SymbolsOf(table, query);
            (prefetch, var estimatedRows) = PrefetchList(table, query, symbols);
            // A read larger than the cache cannot be one snapshot anyway, and what it pins stays in memory after
            // the cache has evicted it (beyond the budget): pin and load ahead in small windows (decisions D31).
            // What it loads is its own, never the cache's: it would only evict what it loaded before reaching
            // the end, and all the cache held before (D32).
            var large = estimatedRows * ReadCache.EstimatedRowBytes > Options.CacheBytes;
            window = large ? MinPinnedRows : PinnedRowsMax;
            scan = large ? scan ?? new ScanLoads() : null;
            prefetched = prefetch is null ? int.MaxValue : _cache.PrefetchEntries(new TableId(table), prefetch, 0, window, scan, cancellationToken);
            pinned = Pin(table, query, symbols, window, scan, cancellationToken);
            if (_snapshot.PendingVersion == buffer || !PendingRows.Covers(table) || attempt >= CommitSequence.OptimisticAttempts)
            {
                break;
            }
        }
        for (var s = 0; s < symbols.Count; s++)
        {
            if (s >= pinned.Count && prefetch is not null && s >= prefetched)
            {
                // Past what was resolved up front: load the next window of symbols side by side too.
                prefetched = _cache.PrefetchEntries(new TableId(table), prefetch, s, window, scan, cancellationToken);
            }
            foreach (var slice in s < pinned.Count ? pinned[s] : ReadStreamed(table, query, symbols[s], scan, cancellationToken))
            {
                var batch = slice;
                if (batch.Length == 0)
                {
                    continue;
                }
                if (batch.Length > remaining)
                {
                    batch = batch.Slice(0, (int)remaining);
                }
                remaining -= batch.Length;
                batch = ArrowConcat.Project(batch, schema, indices);
                if (batch.Length >= small)
                {
                    if (coalescer.Count > 0)
                    {
                        yield return ArrowConcat.Concatenate(coalescer);
                        coalescer.Clear();
                        coalescedRows = 0;
                    }
                    for (var start = 0; start < batch.Length; start += target)
                    {
                        yield return start == 0 && batch.Length <= target ? batch : batch.Slice(start, Math.Min(target, batch.Length - start));
                    }
                }
                else
                {
                    coalescer.Add(batch);
                    coalescedRows += batch.Length;
                    if (coalescedRows >= target)
                    {
                        yield return ArrowConcat.Concatenate(coalescer);
                        coalescer.Clear();
                        coalescedRows = 0;
                    }
                }
                if (remaining == 0)
                {
                    break;
                }
            }
            if (s < pinned.Count)
            {
                pinned[s] = [];
            }
            scan?.Release(symbols[s]);
            if (remaining == 0)
            {
                break;
            }
        }
        if (coalescer.Count > 0)
        {
            yield return ArrowConcat.Concatenate(coalescer);
        }
    }

    /// <summary>
    /// The query's slices per symbol as of one commit: references to cached batches (or batches decoded
    /// from the files), resolved while no commit applied (<see cref="CommitSequence"/>). Resolution stops
    /// once the limit is reached, or past <paramref name="max"/> rows (<see cref="PinnedRowsMax"/>, or
    /// <see cref="MinPinnedRows"/> for a read larger than the cache): the symbols after that are read as the
    /// stream reaches them (each one whole, from the latest commit).
    /// </summary>
    private List<RecordBatch[]> Pin(TableDefinition table, PriceQuery query, IReadOnlyList<string> symbols, long max, ScanLoads? scan,
        CancellationToken cancellationToken) =>
        _snapshot.Consistent(() =>
        {
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
            return pinned;
        }, cancellationToken);

    /// <summary>
    /// A symbol past the pinned window, as of the commit current when the stream reaches it: resolved while no
    /// commit applies, like <see cref="Pin"/>, so it is never half one commit and half the next (a commit renames
    /// a symbol's month files one by one, and marks entries loaded meanwhile only when it ends).
    /// </summary>
    private RecordBatch[] ReadStreamed(TableDefinition table, PriceQuery query, string symbol, ScanLoads? scan, CancellationToken cancellationToken) =>
        _snapshot.Consistent(() => ReadSymbol(table, query, symbol, cancellationToken, scan).ToArray(), cancellationToken);

    /// <summary>
    /// The symbols of a scan worth loading side by side from their compacted copies (null when none): in
    /// output order, with a symbol the query touches too few months of standing in as an empty slot (it is
    /// read from its month files), so indexes match <paramref name="symbols"/>. With it, the rows the read
    /// is estimated to cover (0 when the list is null).
    /// </summary>
    private (IReadOnlyList<string>? List, long EstimatedRows) PrefetchList(TableDefinition def, PriceQuery query, IReadOnlyList<string> symbols)
    {
        if (def.PerSource || query.Limit > 0 || symbols.Count < 2 || !Options.UseCompactCopies || Options.CacheBytes <= 0)
        {
            return (null, 0);
        }
        var id = new TableId(def);
        var list = new string[symbols.Count];
        var any = false;
        long partitions = 0;
        for (var i = 0; i < symbols.Count; i++)
        {
            var (first, end) = PartitionRange(def, _index.PartitionsOf(id, symbols[i]), query.DateFrom, query.DateTo);
            list[i] = end - first >= ReadCache.BuildEntryPartitions ? symbols[i] : "";
            any |= list[i].Length > 0;
            partitions += end - first;
        }
        return (any ? list : null, ReadCache.EstimatedRows(def, partitions));
    }

    /// <summary>The pinned window of a read larger than the cache (decisions D31).</summary>
    private const long MinPinnedRows = 64L << 10;

    /// <summary>
    /// Rows a read resolves up front (held in memory until streamed). A silver row is about 80 bytes of
    /// Arrow, so this bounds a read's pinned data near a third of the cache budget (8M rows at the 2 GiB
    /// default); with the cache off, 64k rows (~5 MB), so that large reads keep streaming in bounded memory.
    /// </summary>
    private long PinnedRowsMax => Math.Max(MinPinnedRows, Options.CacheBytes / 256);

    /// <summary>Symbols a query covers, in output order.</summary>
    public IReadOnlyList<string> SymbolsFor(PriceQuery query) => SymbolsOf(Catalog.Resolve(query).Table, query);

    private IReadOnlyList<string> SymbolsOf(TableDefinition table, PriceQuery query)
    {
        if (query.Symbols.Count > 0)
        {
            return query.Symbols;
        }
        if (table.PerSource)
        {
            return _index.TablesOf(table).SelectMany(_index.SymbolsOf).Distinct().Order(StringComparer.Ordinal).ToArray();
        }
        var id = new TableId(table);
        if (_pending.IsEmpty || !PendingRows.Covers(table))
        {
            return _index.SymbolsOf(id);
        }
        // Symbols only an acknowledged upload has so far are part of the table too. The buffer is listed
        // before the index: a symbol that leaves the buffer was added to the index before (commit, then
        // PendingApplied), so it is in one list or the other.
        var pending = _pending.SymbolsOf(id).ToList();
        var symbols = _index.SymbolsOf(id);
        return pending.Count == 0 ? symbols : symbols.Concat(pending).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>Rows of one symbol in the query's range, in key order (full schema, not projected), acknowledged uploads merged in.</summary>
    private IEnumerable<RecordBatch> ReadSymbol(TableDefinition def, PriceQuery query, string symbol, CancellationToken cancellationToken,
        ScanLoads? scan = null)
    {
        if (_pending.IsEmpty || !PendingRows.Covers(def))
        {
            return ReadCommitted(def, query, symbol, cancellationToken, scan);
        }
        var from = query.DateFrom is { } f ? ArrowRows.DayNumber(f) : (int?)null;
        var to = query.DateTo is { } t ? ArrowRows.DayNumber(t) : (int?)null;
        if (!_pending.Holds(new TableId(def), symbol))
        {
            return ReadCommitted(def, query, symbol, cancellationToken, scan);
        }
        // The pending rows and the committed ones as of one moment: a commit in between (this upload's, or a
        // later one over it) makes the pair resolve again.
        var merged = _snapshot.Consistent(() =>
        {
            var pending = PendingOf(new TableId(def), symbol, from, to);
            return MergePending(def, ReadCommitted(def, query, symbol, cancellationToken, scan).Where(b => b.Length > 0).ToList(), pending);
        }, cancellationToken);
        return merged.Length == 0 ? [] : [merged];
    }

    /// <summary>Rows of one symbol in the query's range as committed to the table, in key order (full schema, not projected).</summary>
    private IEnumerable<RecordBatch> ReadCommitted(TableDefinition def, PriceQuery query, string symbol, CancellationToken cancellationToken,
        ScanLoads? scan = null)
    {
        var from = query.DateFrom is { } f ? ArrowRows.DayNumber(f) : (int?)null;
        var to = query.DateTo is { } t ? ArrowRows.DayNumber(t) : (int?)null;
        var dateColumn = def.Schema.GetFieldIndex(def.DateColumn);
        if (def.PerSource)
        {
            // Sources are separate folders: their rows of the range, merged in key, source and landing order.
            var parts = new List<RecordBatch>();
            foreach (var table in _index.TablesOf(def))
            {
                var all = _index.PartitionsOf(table, symbol);
                var (lo, hi) = PartitionRange(def, all, query.DateFrom, query.DateTo);
                for (var i = lo; i < hi; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (_cache.GetPartition(table, new PartitionKey(symbol, all[i].Year, all[i].Month)) is { } batch)
                    {
                        parts.Add(ArrowConcat.SliceByDate(batch, dateColumn, from, to));
                    }
                }
            }
            if (parts.Count > 0)
            {
                yield return UpsertMerge.Combine(def, parts);
            }
            yield break;
        }
        var id = new TableId(def);
        var partitions = _index.PartitionsOf(id, symbol);
        var (first, end) = PartitionRange(def, partitions, query.DateFrom, query.DateTo);
        if (end <= first)
        {
            yield break;
        }
        if (_cache.EntryForRead(id, symbol, partitions, end - first, scan, cancellationToken) is { } entry)
        {
            yield return ArrowConcat.SliceByDate(entry.Batch, dateColumn, from, to);
            yield break;
        }
        // A small read of a symbol without an entry: decode just the files it needs.
        var keys = new List<PartitionKey>(end - first);
        for (var i = first; i < end; i++)
        {
            keys.Add(new PartitionKey(symbol, partitions[i].Year, partitions[i].Month));
        }
        _cache.Prefetch(id, keys, cancellationToken);
        foreach (var key in keys)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_cache.GetPartition(id, key) is { } batch)
            {
                yield return ArrowConcat.SliceByDate(batch, dateColumn, from, to);
            }
        }
    }

    /// <summary>
    /// Index range [lo, hi) of the partitions overlapping [from, to], by binary search: enumerating an
    /// ImmutableSortedSet costs about 0.1 µs per element, which dominated warm point reads.
    /// </summary>
    private static (int Lo, int Hi) PartitionRange(TableDefinition table, ImmutableSortedSet<(int Year, int Month)> partitions,
        DateOnly? from, DateOnly? to)
    {
        var lo = from is { } f ? partitions.IndexOf(table.PartitionOf(f)) : 0;
        var hi = to is { } t ? partitions.IndexOf(table.PartitionOf(t)) : partitions.Count - 1;
        lo = lo < 0 ? ~lo : lo;
        hi = hi < 0 ? ~hi : hi + 1;
        return (lo, hi);
    }

    /// <summary>Per symbol: partitions a query touches and its exact row count (from Parquet footers, or cached batches).</summary>
    public IReadOnlyList<SymbolPlan> Plan(PriceQuery query, CancellationToken cancellationToken = default)
    {
        var def = Catalog.Resolve(query).Table;
        _changes.Poll(def);
        var plans = new List<SymbolPlan>();
        foreach (var symbol in SymbolsOf(def, query))
        {
            if (!_pending.IsEmpty && PendingRows.Covers(def) && _pending.Holds(new TableId(def), symbol))
            {
                // An acknowledged upload adds or replaces rows: count what a read returns.
                plans.Add(PendingPlan(def, query, symbol, cancellationToken));
                continue;
            }
            long rows = 0;
            var partitions = 0;
            foreach (var table in _index.TablesOf(def))
            {
                var all = _index.PartitionsOf(table, symbol);
                var entry = !def.PerSource && _cache.TryEntry(table, symbol, all, out var e) ? e : null;
                var (lo, hi) = PartitionRange(def, all, query.DateFrom, query.DateTo);
                for (var i = lo; i < hi; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var key = new PartitionKey(symbol, all[i].Year, all[i].Month);
                    partitions++;
                    rows += entry is null ? CountRows(table, key, query) : CountRows(entry, key, def, query);
                }
            }
            if (partitions > 0)
            {
                plans.Add(new SymbolPlan(symbol, partitions, query.Limit > 0 ? Math.Min(rows, query.Limit) : rows));
            }
        }
        return plans;
    }

    /// <summary>A symbol's plan from what a read returns (its rows merged with pending uploads): partitions are the months those rows fall in.</summary>
    private SymbolPlan PendingPlan(TableDefinition def, PriceQuery query, string symbol, CancellationToken cancellationToken)
    {
        // Partitions as the index will list them once applied: the committed ones in range, and the months the rows fall in.
        var days = new HashSet<(int, int)>();
        var committed = _index.PartitionsOf(new TableId(def), symbol);
        var (lo, hi) = PartitionRange(def, committed, query.DateFrom, query.DateTo);
        for (var i = lo; i < hi; i++)
        {
            days.Add(committed[i]);
        }
        long rows = 0;
        var dateColumn = def.Schema.GetFieldIndex(def.DateColumn);
        foreach (var batch in ReadSymbol(def, query, symbol, cancellationToken))
        {
            rows += batch.Length;
            var dates = (Date32Array)batch.Column(dateColumn);
            for (var i = 0; i < dates.Length; i++)
            {
                days.Add(def.PartitionOf(DateOnly.FromDayNumber(ArrowRows.UnixEpochDay + dates.Values[i])));
            }
        }
        return new SymbolPlan(symbol, days.Count, query.Limit > 0 ? Math.Min(rows, query.Limit) : rows);
    }

    private static long CountRows(SymbolEntry entry, PartitionKey key, TableDefinition def, PriceQuery query)
    {
        var month = entry.MonthSlice(entry.IndexOf(key.Year, key.Month));
        var from = query.DateFrom is { } f ? ArrowRows.DayNumber(f) : (int?)null;
        var to = query.DateTo is { } t ? ArrowRows.DayNumber(t) : (int?)null;
        return ArrowConcat.SliceByDate(month, def.Schema.GetFieldIndex(def.DateColumn), from, to).Length;
    }

    private long CountRows(TableId table, PartitionKey key, PriceQuery query)
    {
        var def = table.Definition;
        var (first, last) = def.Bounds(key.Year, key.Month);
        var cut = (query.DateFrom is { } f && f > first) || (query.DateTo is { } t && t < last);
        if (!cut)
        {
            if (_cache.CachedPartition(table, key) is { } cached)
            {
                return cached.Length;
            }
            var path = Paths.PartitionFile(table, key);
            return File.Exists(path) ? ParquetFiles.RowCount(path) : 0;
        }
        if (_cache.GetPartition(table, key) is not { } batch)
        {
            return 0;
        }
        var from = query.DateFrom is { } ff ? ArrowRows.DayNumber(ff) : (int?)null;
        var to = query.DateTo is { } tt ? ArrowRows.DayNumber(tt) : (int?)null;
        return ArrowConcat.SliceByDate(batch, def.Schema.GetFieldIndex(def.DateColumn), from, to).Length;
    }

    /// <summary>Totals of one table: symbols, partitions, rows, date span (partition bounds; none for tables partitioned by symbol only).</summary>
    public DatasetStats Stats(TableDefinition table, CancellationToken cancellationToken = default)
    {
        var plans = Plan(PriceQuery.Create(Layers.Name(table.Layer), table.Name), cancellationToken);
        DateOnly? min = null, max = null;
        if (table.Partitioning != Partitioning.Symbol)
        {
            foreach (var t in _index.TablesOf(table))
            {
                foreach (var s in _index.SymbolsOf(t))
                {
                    var parts = _index.PartitionsOf(t, s);
                    if (parts.IsEmpty)
                    {
                        continue;
                    }
                    var first = table.Bounds(parts.Min.Year, parts.Min.Month).First;
                    var last = table.Bounds(parts.Max.Year, parts.Max.Month).Last;
                    min = min is null || first < min ? first : min;
                    max = max is null || last > max ? last : max;
                }
            }
        }
        return new DatasetStats(Layers.Name(table.Layer), table.Name, plans.Count, plans.Sum(p => (long)p.Partitions), plans.Sum(p => p.Rows), min, max,
            _cache.CachedPartitions, _cache.Bytes);
    }

    /// <summary>Symbols with data in a table (from the index; no file is opened).</summary>
    public int SymbolCount(TableDefinition table) => SymbolsOf(table, PriceQuery.Create(Layers.Name(table.Layer), table.Name)).Count;

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
    /// Decodes a table into the cache (as far as the budget allows) on all cores, so the first scan runs
    /// from memory; the files stay the source of truth. Returns how many partitions it decoded.
    /// </summary>
    public int Warm(TableDefinition table, CancellationToken cancellationToken = default) =>
        _cache.Warm(_index.TablesOf(table).ToArray(), cancellationToken);

    /// <summary>How many partitions the in-memory index holds (all tables).</summary>
    public long IndexedPartitions => _index.PartitionCount;
}

/// <summary>What a query reads for one symbol.</summary>
public sealed record SymbolPlan(string Symbol, int Partitions, long Rows);

/// <summary>Totals of one dataset. Min/max dates are partition bounds.</summary>
public sealed record DatasetStats(string Layer, string Table, int Symbols, long Partitions, long Rows,
    DateOnly? FirstMonth, DateOnly? LastMonthEnd, int CachedPartitions, long CachedBytes);
