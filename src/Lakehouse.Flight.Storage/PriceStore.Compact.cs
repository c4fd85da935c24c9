using System.Diagnostics;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Storage;

public sealed partial class PriceStore
{
    private readonly object _compactGate = new();

    /// <summary>
    /// One compaction pass (docs/decisions.md D23): writes the read-optimised copy of every symbol whose copy
    /// is missing, damaged or no longer matches its month files, under <c>_metadata/compact/</c>. The first
    /// pass of a store checks every symbol (a stat per month file); later passes check only the symbols our
    /// commits or the change feed touched since, unless <paramref name="all"/>. Takes no writer lock: a copy
    /// records the stamp of each month file it was built from, so a write racing the pass only makes that
    /// month stale (read from its file) until the next pass. Each copy is replaced whole (temp, fsync,
    /// rename). One pass at a time per store; cancellation is checked between symbols.
    /// </summary>
    public CompactionResult Compact(TableDefinition? table = null, bool all = false, CancellationToken cancellationToken = default)
    {
        lock (_compactGate)
        {
            var start = Stopwatch.GetTimestamp();
            var removed = _copies.RemoveDeadTemps();
            int checkedCount = 0, rebuilt = 0;
            long rows = 0, bytes = 0;
            foreach (var def in table is null ? Catalog.Tables : [table])
            {
                var id = new TableId(def);
                if (!CompactCopies.Applies(id))
                {
                    continue;
                }
                _changes.Poll(def);
                var symbols = _index.SymbolsOf(id);
                var (candidates, full) = _copies.TakeCandidates(id, symbols, all);
                foreach (var symbol in candidates)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    checkedCount++;
                    if (_index.PartitionsOf(id, symbol).IsEmpty)
                    {
                        _copies.Delete(id, symbol);
                        continue;
                    }
                    if (IsCurrent(id, symbol))
                    {
                        continue;
                    }
                    if (_cache.RowsForCopy(id, symbol, cancellationToken) is not { } entry)
                    {
                        // A month changed while read: try again next pass.
                        _copies.MarkDirty(id, symbol);
                        continue;
                    }
                    var months = entry.Months.Select(m => new MonthRange(m.Year, m.Month, m.Start, m.Length, m.Stamp)).ToArray();
                    bytes += _copies.Write(id, symbol, entry.Batch, months);
                    rows += entry.Batch.Length;
                    rebuilt++;
                }
                if (full)
                {
                    // Copies of symbols that no longer have any month file.
                    var known = symbols.ToHashSet(StringComparer.Ordinal);
                    foreach (var gone in _copies.SymbolsOnDisk(id).Where(s => !known.Contains(s)).ToList())
                    {
                        _copies.Delete(id, gone);
                    }
                    _copies.MarkChecked(id);
                }
            }
            var ms = (long)Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (rebuilt > 0 || removed > 0)
            {
                StorageLog.Compacted(_logger, checkedCount, rebuilt, rows, bytes, ms);
            }
            return new CompactionResult(checkedCount, rebuilt, rows, bytes, removed);
        }
    }

    /// <summary>True when the symbol's copy lists exactly the index's months, each with its month file's current stamp.</summary>
    private bool IsCurrent(TableId table, string symbol)
    {
        if (_copies.Months(table, symbol) is not { } months)
        {
            return false;
        }
        var partitions = _index.PartitionsOf(table, symbol);
        if (months.Length != partitions.Count)
        {
            return false;
        }
        var list = partitions.ToArray();
        var stamps = FileStamps.OfMonths(Paths.SymbolDir(table, symbol), table.Definition.Partitioning, list);
        for (var i = 0; i < list.Length; i++)
        {
            if (months[i].Year != list[i].Year || months[i].Month != list[i].Month || stamps[i] != months[i].Stamp)
            {
                return false;
            }
        }
        return true;
    }
}

/// <summary>What one compaction pass did: symbols checked, copy files written (their rows and bytes), dead temp files removed.</summary>
public sealed record CompactionResult(int Checked, int Rebuilt, long Rows, long Bytes, int TempsRemoved);
