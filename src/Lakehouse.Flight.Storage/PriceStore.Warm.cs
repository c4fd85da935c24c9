using Lakehouse.Flight.Core;
using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Storage;

public sealed partial class PriceStore
{
    /// <summary>
    /// Decodes every partition of a dataset into the cache (as far as the budget allows), using all
    /// cores. A server calls it in the background at start-up so the first full scan runs from memory;
    /// the files stay the source of truth. Returns how many partitions it decoded (cached ones are skipped).
    /// </summary>
    public int Warm(Layer layer = Layer.Silver, string table = PriceSchema.Table, CancellationToken cancellationToken = default)
    {
        if (Options.CacheBytes <= 0)
        {
            return 0;
        }
        if (layer == Layer.Silver)
        {
            return WarmSymbols(table, cancellationToken);
        }
        var schema = PriceSchema.For(layer);
        var paths = new List<string>();
        foreach (var t in _index.TablesOf(layer, table))
        {
            foreach (var symbol in _index.SymbolsOf(t))
            {
                foreach (var (y, m) in _index.PartitionsOf(t, symbol))
                {
                    paths.Add(Paths.PartitionFile(t, new PartitionKey(symbol, y, m)));
                }
            }
        }
        var loaded = 0;
        Parallel.ForEach(paths, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount },
            (path, state) =>
            {
                if (_cache.Bytes >= Options.CacheBytes * 9 / 10)
                {
                    // Warming never evicts: past 90% of the budget, leave the rest to demand.
                    state.Stop();
                    return;
                }
                if (!_cache.Contains(path) && GetPartition(path, schema) is not null)
                {
                    Interlocked.Increment(ref loaded);
                }
            });
        return loaded;
    }

    /// <summary>
    /// Builds the entry of every symbol (symbols in parallel on all cores; each decodes its month
    /// files, then concatenates once). Stops at 90% of the budget: warming never evicts.
    /// </summary>
    private int WarmSymbols(string table, CancellationToken cancellationToken)
    {
        var work = new List<(TableId Table, string Symbol)>();
        foreach (var t in _index.TablesOf(Layer.Silver, table))
        {
            foreach (var symbol in _index.SymbolsOf(t))
            {
                if (!(_symbols.TryGet(t, symbol, out var entry) && entry.Matches(_index.PartitionsOf(t, symbol))))
                {
                    work.Add((t, symbol));
                }
            }
        }
        var loaded = 0;
        Parallel.ForEach(work, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount },
            (item, state) =>
            {
                if (_symbols.Bytes >= _symbols.BudgetBytes * 9 / 10)
                {
                    state.Stop();
                    return;
                }
                if (BuildEntry(item.Table, item.Symbol, parallel: false, cancellationToken) is { } entry)
                {
                    Interlocked.Add(ref loaded, entry.Months.Length);
                }
            });
        return loaded;
    }

    /// <summary>Decodes the not-yet-cached partitions of a read in parallel before the ordered walk consumes them.</summary>
    private void Prefetch(IReadOnlyList<string> paths, Apache.Arrow.Schema schema, CancellationToken cancellationToken)
    {
        if (Options.CacheBytes <= 0 || paths.Count < 4)
        {
            return;
        }
        var missing = paths.Where(p => !_cache.Contains(p)).ToArray();
        if (missing.Length < 4)
        {
            return;
        }
        Parallel.ForEach(missing, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount },
            p => GetPartition(p, schema));
    }
}
