using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Storage;

/// <summary>
/// Symbol entries: one date-sorted batch per (silver table, symbol), so a scan slices instead of
/// concatenating thousands of 22-row month batches (docs/decisions.md, D2).
/// </summary>
public sealed partial class PriceStore
{
    /// <summary>A read touching at least this many month partitions of an uncached symbol builds its entry.</summary>
    private const int BuildEntryPartitions = 8;

    /// <summary>The symbol's entry if it matches the index; built when the read is large enough to pay for it.</summary>
    private SymbolEntry? EntryForRead(TableId table, string symbol, System.Collections.Immutable.ImmutableSortedSet<(int Year, int Month)> partitions,
        int touched, CancellationToken cancellationToken)
    {
        if (!_symbols.Enabled || table.Layer != Layer.Silver)
        {
            return null;
        }
        if (_symbols.TryGet(table, symbol, out var entry) && entry.Matches(partitions))
        {
            return entry;
        }
        return touched >= BuildEntryPartitions ? BuildEntry(table, symbol, parallel: true, cancellationToken) : null;
    }

    /// <summary>
    /// Decodes the symbol's month files (the partition cache's copies where their stamp still
    /// matches) and concatenates them once. Returns null, publishing nothing, when a file changed or
    /// vanished while read: the caller falls back to per-file reads.
    /// </summary>
    private SymbolEntry? BuildEntry(TableId table, string symbol, bool parallel, CancellationToken cancellationToken)
    {
        var generation = _symbols.Generation(table, symbol);
        var months = _index.PartitionsOf(table, symbol).ToArray();
        if (months.Length == 0)
        {
            return null;
        }
        var batches = new RecordBatch?[months.Length];
        var stamps = new FileStamp[months.Length];
        var failed = 0;
        void Load(int i)
        {
            var path = Paths.PartitionFile(table, new PartitionKey(symbol, months[i].Year, months[i].Month));
            var before = FileStamp.Of(path);
            if (before == default)
            {
                Volatile.Write(ref failed, 1);
                return;
            }
            if (_cache.TryGet(path, out var cached, out var cachedStamp) && cachedStamp == before)
            {
                batches[i] = cached;
                stamps[i] = before;
                return;
            }
            try
            {
                batches[i] = ParquetFiles.Read(path, PriceSchema.Silver);
            }
            catch (FileNotFoundException)
            {
                Volatile.Write(ref failed, 1);
                return;
            }
            // Cache only what was stable while we read it.
            if (FileStamp.Of(path) != before)
            {
                Volatile.Write(ref failed, 1);
            }
            stamps[i] = before;
        }
        if (parallel && months.Length > 1)
        {
            Parallel.For(0, months.Length, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount }, Load);
        }
        else
        {
            for (var i = 0; i < months.Length; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Load(i);
            }
        }
        if (failed != 0)
        {
            return null;
        }
        var ranges = new MonthRange[months.Length];
        var start = 0;
        for (var i = 0; i < months.Length; i++)
        {
            ranges[i] = new MonthRange(months[i].Year, months[i].Month, start, batches[i]!.Length, stamps[i]);
            start += batches[i]!.Length;
        }
        var entry = new SymbolEntry(ArrowConcat.ConcatenateManaged(batches!), ranges);
        if (_symbols.TryAdd(table, symbol, entry, generation) && _cache.Count > 0)
        {
            // The entry holds these rows now; per-partition copies would only double the memory.
            _cache.RemovePrefix(Paths.SymbolDir(table, symbol) + Path.DirectorySeparatorChar);
        }
        return entry;
    }

    /// <summary>
    /// After a commit: splices the new month batches into the symbols' entries (unchanged months
    /// kept, changed replaced, new inserted in order); symbols without an entry get the batches in
    /// the partition cache as before.
    /// </summary>
    private void CacheCommitted(IReadOnlyList<(TableId Table, PartitionKey Key, string Path, RecordBatch Batch)> updates)
    {
        foreach (var group in updates.GroupBy(u => (u.Table, u.Key.Symbol)))
        {
            var (table, symbol) = group.Key;
            if (table.Layer == Layer.Silver && _symbols.TryGet(table, symbol, out var entry)
                && Splice(entry, group.Select(u => (u.Key.Year, u.Key.Month, u.Batch, FileStamp.Of(u.Path))).ToList()) is { } spliced)
            {
                _symbols.Replace(table, symbol, spliced);
                foreach (var u in group)
                {
                    _cache.Remove(u.Path);
                }
                continue;
            }
            if (table.Layer == Layer.Silver)
            {
                // Fences out an entry a concurrent reader is building from the files we replaced.
                _symbols.Invalidate(table, symbol);
            }
            foreach (var u in group)
            {
                _cache.Put(u.Path, u.Batch, FileStamp.Of(u.Path));
            }
        }
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
            // A run of unchanged months is contiguous in the old batch: one zero-copy slice.
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

    /// <summary>A month's rows from the symbol entry, only if the file is still the version the entry was built from.</summary>
    private RecordBatch? EntryMonthForWrite(string path, FileStamp stamp)
    {
        // Path is .../silver/<table>/symbol=S/year=Y/month=M/data.parquet; writes name files by path only.
        var monthDir = Path.GetDirectoryName(path);
        var yearDir = Path.GetDirectoryName(monthDir);
        var symbolDir = Path.GetDirectoryName(yearDir);
        var tableDir = Path.GetDirectoryName(symbolDir);
        if (monthDir is null || yearDir is null || symbolDir is null || tableDir is null
            || !TryParseSegment(Path.GetFileName(monthDir), "month=", out var month)
            || !TryParseSegment(Path.GetFileName(yearDir), "year=", out var year)
            || !Path.GetFileName(symbolDir).StartsWith("symbol=", StringComparison.Ordinal))
        {
            return null;
        }
        var table = TableId.Silver(Path.GetFileName(tableDir));
        var symbol = HivePath.Unescape(Path.GetFileName(symbolDir)["symbol=".Length..]);
        if (!_symbols.TryGet(table, symbol, out var entry)
            || !string.Equals(Paths.PartitionFile(table, new PartitionKey(symbol, year, month)), path, StringComparison.Ordinal))
        {
            return null;
        }
        var index = entry.IndexOf(year, month);
        return index >= 0 && entry.Months[index].Stamp == stamp ? entry.MonthSlice(index) : null;
    }

    private static bool TryParseSegment(string segment, string prefix, out int value)
    {
        value = 0;
        return segment.StartsWith(prefix, StringComparison.Ordinal)
            && int.TryParse(segment.AsSpan(prefix.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out value);
    }
}
