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
