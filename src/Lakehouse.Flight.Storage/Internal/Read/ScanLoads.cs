using System.Collections.Concurrent;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// The symbols one read larger than the cache has loaded ahead for itself (decisions D32): held by the read,
/// never published to the cache, so such a scan evicts nothing (what the cache held before it is still there
/// after it) and its memory is the window it loads ahead. Each load remembers the table version it was built
/// from: a commit changing the symbol after that version makes it unusable (loaded again).
/// </summary>
internal sealed class ScanLoads
{
    private readonly ConcurrentDictionary<string, (SymbolEntry Entry, long BuiltAt)> _loaded = new(StringComparer.Ordinal);

    private volatile bool _cacheFull;

    /// <summary>The cache refused one of this read's loads for room: the read offers it no more.</summary>
    public bool CacheFull => _cacheFull;

    public void MarkCacheFull() => _cacheFull = true;

    public bool Contains(string symbol) => _loaded.ContainsKey(symbol);

    public void Add(string symbol, SymbolEntry entry, long builtAt) => _loaded[symbol] = (entry, builtAt);

    public bool TryGet(string symbol, out SymbolEntry entry, out long builtAt)
    {
        if (_loaded.TryGetValue(symbol, out var loaded))
        {
            (entry, builtAt) = loaded;
            return true;
        }
        entry = null!;
        builtAt = 0;
        return false;
    }

    /// <summary>
    /// Row groups this read decoded, shared by the neighbouring symbols they hold (each decoded once per read);
    /// released once the read has streamed past their last symbol.
    /// </summary>
    public ConcurrentDictionary<(string File, int Group), Apache.Arrow.RecordBatch> Groups { get; } = new();

    /// <summary>The read has streamed the symbol: its rows, and the row groups holding nothing after it, can go.</summary>
    public void Release(string symbol)
    {
        _loaded.TryRemove(symbol, out _);
        if (Groups.IsEmpty)
        {
            return;
        }
        foreach (var (key, batch) in Groups)
        {
            var symbols = (Apache.Arrow.StringArray)batch.Column(Lakehouse.Flight.Core.Tables.TableDefinition.SymbolColumn);
            if (batch.Length == 0 || string.CompareOrdinal(symbols.GetString(batch.Length - 1), symbol) <= 0)
            {
                Groups.TryRemove(key, out _);
            }
        }
    }
}
