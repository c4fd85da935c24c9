using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Storage;

public sealed partial class PriceStore
{
    /// <summary>The output schema of a query (its projection applied).</summary>
    public static Schema SchemaOf(PriceQuery query) => PriceSchema.Project(PriceSchema.For(query.Layer), query.Columns);

    /// <summary>
    /// Streams the rows of a query ordered by symbol, then date. Only partitions overlapping the date
    /// range are touched; small partitions are coalesced into batches of up to
    /// <see cref="StoreOptions.TargetBatchRows"/> rows. An unknown symbol yields nothing.
    /// </summary>
    public IEnumerable<RecordBatch> Read(PriceQuery query, CancellationToken cancellationToken = default)
    {
        _changes.Poll(query.Layer, query.Table);
        var schema = SchemaOf(query);
        var full = PriceSchema.For(query.Layer);
        var indices = schema.FieldsList.Select(f => full.GetFieldIndex(f.Name)).ToArray();
        var coalescer = new List<RecordBatch>();
        var coalescedRows = 0;
        var target = Math.Max(1, Options.TargetBatchRows);
        // Slices this large go out as they are (zero-copy); only smaller ones are worth a copy to
        // make fewer, fuller batches.
        var small = Math.Min(SmallSliceRows, target);
        var remaining = query.Limit > 0 ? query.Limit : long.MaxValue;
        foreach (var symbol in SymbolsFor(query))
        {
            foreach (var slice in ReadSymbol(query, symbol, cancellationToken))
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

    /// <summary>Output slices of at least this many rows are not coalesced.</summary>
    private const int SmallSliceRows = 4096;

    /// <summary>Symbols a query covers, in output order.</summary>
    public IReadOnlyList<string> SymbolsFor(PriceQuery query)
    {
        if (query.Symbols.Count > 0)
        {
            return query.Symbols;
        }
        if (query.Layer == Layer.Bronze)
        {
            return _index.TablesOf(Layer.Bronze, query.Table).SelectMany(_index.SymbolsOf).Distinct().Order(StringComparer.Ordinal).ToArray();
        }
        return _index.SymbolsOf(new TableId(query.Layer, query.Table));
    }

    /// <summary>Rows of one symbol in the query's range, in date order (full schema, not projected).</summary>
    private IEnumerable<RecordBatch> ReadSymbol(PriceQuery query, string symbol, CancellationToken cancellationToken)
    {
        var from = query.DateFrom is { } f ? PriceBatches.DayNumber(f) : (int?)null;
        var to = query.DateTo is { } t ? PriceBatches.DayNumber(t) : (int?)null;
        if (query.Layer == Layer.Bronze)
        {
            yield return ReadBronzeSymbol(query, symbol, cancellationToken);
            yield break;
        }
        var table = new TableId(query.Layer, query.Table);
        var dateColumn = PriceSchema.Silver.GetFieldIndex("date");
        var partitions = _index.PartitionsOf(table, symbol);
        var (lo, hi) = MonthRangeOf(partitions, query.DateFrom, query.DateTo);
        if (hi <= lo)
        {
            yield break;
        }
        if (EntryForRead(table, symbol, partitions, hi - lo, cancellationToken) is { } entry)
        {
            yield return ArrowConcat.SliceByDate(entry.Batch, dateColumn, from, to);
            yield break;
        }
        // A small read of a symbol without an entry: decode just the files it needs.
        var paths = new List<string>(hi - lo);
        for (var i = lo; i < hi; i++)
        {
            var (y, m) = partitions[i];
            paths.Add(Paths.PartitionFile(table, new PartitionKey(symbol, y, m)));
        }
        Prefetch(paths, PriceSchema.Silver, cancellationToken);
        foreach (var path in paths)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (GetPartition(path, PriceSchema.Silver) is { } batch)
            {
                yield return ArrowConcat.SliceByDate(batch, dateColumn, from, to);
            }
        }
    }

    /// <summary>
    /// Index range [lo, hi) of the months overlapping [from, to], by binary search: enumerating an
    /// ImmutableSortedSet costs about 0.1 µs per element, which dominated warm point reads.
    /// </summary>
    private static (int Lo, int Hi) MonthRangeOf(System.Collections.Immutable.ImmutableSortedSet<(int Year, int Month)> partitions, DateOnly? from, DateOnly? to)
    {
        var lo = from is { } f ? partitions.IndexOf((f.Year, f.Month)) : 0;
        var hi = to is { } t ? partitions.IndexOf((t.Year, t.Month)) : partitions.Count - 1;
        lo = lo < 0 ? ~lo : lo;
        hi = hi < 0 ? ~hi : hi + 1;
        return (lo, hi);
    }

    private RecordBatch ReadBronzeSymbol(PriceQuery query, string symbol, CancellationToken cancellationToken)
    {
        var rows = new List<BronzeRow>();
        foreach (var table in _index.TablesOf(Layer.Bronze, query.Table))
        {
            foreach (var (y, m) in _index.PartitionsOf(table, symbol))
            {
                var key = new PartitionKey(symbol, y, m);
                if (!key.Overlaps(query.DateFrom, query.DateTo))
                {
                    continue;
                }
                cancellationToken.ThrowIfCancellationRequested();
                if (GetPartition(Paths.PartitionFile(table, key), PriceSchema.Bronze) is { } batch)
                {
                    rows.AddRange(PriceBatches.ToBronzeRows(batch).Where(r =>
                        (query.DateFrom is null || r.Bar.Date >= query.DateFrom) && (query.DateTo is null || r.Bar.Date <= query.DateTo)));
                }
            }
        }
        return PriceBatches.ToBronze(rows.OrderBy(r => r.Bar.Date).ThenBy(r => r.Bar.Source, StringComparer.Ordinal).ThenBy(r => r.Bar.IngestedAt).ToArray());
    }

    /// <summary>A partition from the cache, or decoded from disk and cached. Null when the file is gone.</summary>
    private RecordBatch? GetPartition(string path, Schema schema)
    {
        if (_cache.TryGet(path, out var cached, out _))
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
            batch = ParquetFiles.Read(path, schema);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        // Cache only what was stable while we read it; a concurrent replace is picked up next time.
        if (FileStamp.Of(path) == before)
        {
            _cache.Put(path, batch, before);
        }
        return batch;
    }

    /// <summary>Per symbol: partitions a query touches and its exact row count (from Parquet footers, or cached batches).</summary>
    public IReadOnlyList<SymbolPlan> Plan(PriceQuery query, CancellationToken cancellationToken = default)
    {
        _changes.Poll(query.Layer, query.Table);
        var plans = new List<SymbolPlan>();
        foreach (var symbol in SymbolsFor(query))
        {
            long rows = 0;
            var partitions = 0;
            var tables = query.Layer == Layer.Bronze ? _index.TablesOf(Layer.Bronze, query.Table).ToArray() : [new TableId(query.Layer, query.Table)];
            foreach (var table in tables)
            {
                var all = _index.PartitionsOf(table, symbol);
                var entry = table.Layer == Layer.Silver && _symbols.TryGet(table, symbol, out var e) && e.Matches(all) ? e : null;
                var (lo, hi) = MonthRangeOf(all, query.DateFrom, query.DateTo);
                for (var i = lo; i < hi; i++)
                {
                    var key = new PartitionKey(symbol, all[i].Year, all[i].Month);
                    cancellationToken.ThrowIfCancellationRequested();
                    partitions++;
                    rows += entry is null ? CountRows(Paths.PartitionFile(table, key), key, query) : CountRows(entry, key, query);
                }
            }
            if (partitions > 0)
            {
                plans.Add(new SymbolPlan(symbol, partitions, query.Limit > 0 ? Math.Min(rows, query.Limit) : rows));
            }
        }
        return plans;
    }

    private static long CountRows(SymbolEntry entry, PartitionKey key, PriceQuery query)
    {
        var month = entry.MonthSlice(entry.IndexOf(key.Year, key.Month));
        var from = query.DateFrom is { } f ? PriceBatches.DayNumber(f) : (int?)null;
        var to = query.DateTo is { } t ? PriceBatches.DayNumber(t) : (int?)null;
        return ArrowConcat.SliceByDate(month, PriceSchema.Silver.GetFieldIndex("date"), from, to).Length;
    }

    private long CountRows(string path, PartitionKey key, PriceQuery query)
    {
        var cut = (query.DateFrom is { } f && f > key.FirstDay) || (query.DateTo is { } t && t < key.LastDay);
        if (!cut && _cache.TryGet(path, out var cachedFull, out _))
        {
            return cachedFull.Length;
        }
        if (!cut)
        {
            return File.Exists(path) ? ParquetFiles.RowCount(path) : 0;
        }
        var schema = query.Layer == Layer.Bronze ? PriceSchema.Bronze : PriceSchema.Silver;
        if (GetPartition(path, schema) is not { } batch)
        {
            return 0;
        }
        var from = query.DateFrom is { } ff ? PriceBatches.DayNumber(ff) : (int?)null;
        var to = query.DateTo is { } tt ? PriceBatches.DayNumber(tt) : (int?)null;
        return ArrowConcat.SliceByDate(batch, schema.GetFieldIndex("date"), from, to).Length;
    }

    /// <summary>Totals of one dataset: symbols, partitions, rows, date span.</summary>
    public DatasetStats Stats(Layer layer, string table = PriceSchema.Table, CancellationToken cancellationToken = default)
    {
        var query = PriceQuery.Create(Layers.Name(layer), table);
        var plans = Plan(query, cancellationToken);
        DateOnly? min = null, max = null;
        foreach (var t in _index.TablesOf(layer, table))
        {
            foreach (var s in _index.SymbolsOf(t))
            {
                var parts = _index.PartitionsOf(t, s);
                if (parts.IsEmpty)
                {
                    continue;
                }
                var first = new DateOnly(parts.Min.Year, parts.Min.Month, 1);
                var last = new PartitionKey(s, parts.Max.Year, parts.Max.Month).LastDay;
                min = min is null || first < min ? first : min;
                max = max is null || last > max ? last : max;
            }
        }
        return new DatasetStats(Layers.Name(layer), table, plans.Count, plans.Sum(p => (long)p.Partitions), plans.Sum(p => p.Rows), min, max,
            (int)Math.Min(int.MaxValue, _cache.Count + _symbols.Partitions), _cache.Bytes + _symbols.Bytes);
    }

    /// <summary>The most recent manifest lines of a dataset, oldest first; a torn or unreadable line is skipped.</summary>
    public IReadOnlyList<StorageReport> ReadManifest(Layer layer, string table = PriceSchema.Table, int limit = 50)
    {
        var lines = new List<string>();
        ManifestLog.ReadLines(Paths.ManifestFile(layer, table), 0, lines);
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

    /// <summary>How many partitions the in-memory index holds (all tables).</summary>
    public long IndexedPartitions => _index.PartitionCount;
}

/// <summary>What a query reads for one symbol.</summary>
public sealed record SymbolPlan(string Symbol, int Partitions, long Rows);

/// <summary>Totals of one dataset. Min/max dates are partition bounds (month granularity).</summary>
public sealed record DatasetStats(string Layer, string Table, int Symbols, long Partitions, long Rows,
    DateOnly? FirstMonth, DateOnly? LastMonthEnd, int CachedPartitions, long CachedBytes);
