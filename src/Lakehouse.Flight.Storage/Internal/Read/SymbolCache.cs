using System.Collections.Concurrent;
using Apache.Arrow;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// All rows of one (table, symbol) as of the latest commit, date-sorted in one batch. Immutable: a write replaces
/// the whole entry, so a reader holding it never sees a mix.
/// </summary>
internal sealed class SymbolEntry
{
    public SymbolEntry(RecordBatch batch)
    {
        Batch = batch;
        Size = SymbolCache.SizeOf(batch);
    }

    public RecordBatch Batch { get; }

    public long Size { get; }

    public long LastUse { get; set; }

}

/// <summary>
/// Symbol entries within a byte budget, least recently used symbols evicted first. A generation per
/// key lets a reader that built an entry from files refuse to publish it when a write or the change
/// feed touched the symbol meanwhile (its rows could predate that write).
/// </summary>
internal sealed class SymbolCache
{
    // What a batch costs beyond its buffers: RecordBatch, arrays, ArrayData, buffer lists and memory
    // owners per column, plus the entry and the dictionary node. Measured against GC.GetTotalMemory
    // (docs/benchmarks.md, "Symbol-level cache").
    private const long EntryOverhead = 512;
    private const long ColumnOverhead = 320;

    private readonly ConcurrentDictionary<(TableId, string), SymbolEntry> _entries = new();
    private readonly Dictionary<(TableId, string), long> _generations = [];
    private readonly object _gate = new();
    private readonly long _budgetBytes;
    private long _bytes;
    private long _clock;
    private int _evicting;

    public SymbolCache(long budgetBytes) => _budgetBytes = budgetBytes;

    public bool Enabled => _budgetBytes > 0;

    public long BudgetBytes => _budgetBytes;

    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Rows held by entries.</summary>
    public long Rows => _entries.Values.Sum(e => (long)e.Batch.Length);

    public int Count => _entries.Count;

    public static long SizeOf(RecordBatch batch)
    {
        var size = EntryOverhead;
        for (var c = 0; c < batch.ColumnCount; c++)
        {
            size += ColumnOverhead;
            foreach (var buffer in batch.Column(c).Data.Buffers)
            {
                size += buffer.Length;
            }
        }
        return size;
    }

    public bool TryGet(TableId table, string symbol, out SymbolEntry entry)
    {
        if (_entries.TryGetValue((table, symbol), out entry!))
        {
            entry.LastUse = Interlocked.Increment(ref _clock);
            return true;
        }
        return false;
    }

    public bool Contains(TableId table, string symbol) => _entries.ContainsKey((table, symbol));

    public long Generation(TableId table, string symbol)
    {
        lock (_gate)
        {
            return _generations.GetValueOrDefault((table, symbol));
        }
    }

    /// <summary>Below the warm-up mark (90% of the budget): what the warm-up and reads larger than the cache fill up to.</summary>
    public bool HasRoom => HasRoomFor(0);

    /// <summary>Room for <paramref name="bytes"/> more below the warm-up mark.</summary>
    public bool HasRoomFor(long bytes) => Enabled && Bytes + bytes < WarmMark;

    private long WarmMark => _budgetBytes / 10 * 9;

    /// <summary>What <see cref="TryAdd"/> did.</summary>
    public enum AddResult
    {
        Added,

        /// <summary>The symbol changed since the entry's generation (or, without eviction, an entry is there already).</summary>
        Fenced,

        /// <summary>Without eviction: the entry would take the cache past its warm-up mark.</summary>
        NoRoom,
    }

    /// <summary>
    /// Publishes an entry built from files, unless the symbol changed since <paramref name="generation"/>; without
    /// <paramref name="evict"/>, only if the cache stays within its warm-up mark with it (nothing is evicted).
    /// </summary>
    public AddResult TryAdd(TableId table, string symbol, SymbolEntry entry, long generation, bool evict = true)
    {
        lock (_gate)
        {
            if (_generations.GetValueOrDefault((table, symbol)) != generation || (!evict && _entries.ContainsKey((table, symbol))))
            {
                return AddResult.Fenced;
            }
            if (!evict && !HasRoomFor(entry.Size))
            {
                return AddResult.NoRoom;
            }
            Set((table, symbol), entry);
        }
        EvictIfOver();
        return AddResult.Added;
    }

    /// <summary>Installs an entry spliced by our own write (newer than anything being built).</summary>
    public void Replace(TableId table, string symbol, SymbolEntry entry)
    {
        lock (_gate)
        {
            Bump((table, symbol));
            Set((table, symbol), entry);
        }
        EvictIfOver();
    }

    /// <summary>Drops a symbol's entry and fences out entries being built from older files.</summary>
    public void Invalidate(TableId table, string symbol)
    {
        lock (_gate)
        {
            Bump((table, symbol));
            Drop((table, symbol));
        }
    }

    private void Bump((TableId, string) key) => _generations[key] = _generations.GetValueOrDefault(key) + 1;

    private void Set((TableId, string) key, SymbolEntry entry)
    {
        if (!Enabled)
        {
            return;
        }
        entry.LastUse = Interlocked.Increment(ref _clock);
        Drop(key);
        _entries[key] = entry;
        Interlocked.Add(ref _bytes, entry.Size);
    }

    private void Drop((TableId, string) key)
    {
        if (_entries.TryRemove(key, out var old))
        {
            Interlocked.Add(ref _bytes, -old.Size);
        }
    }

    private void EvictIfOver()
    {
        if (Bytes <= _budgetBytes || Interlocked.Exchange(ref _evicting, 1) == 1)
        {
            return;
        }
        try
        {
            // Drop least recently used symbols down to 3/4 of the budget in one sweep, so a scan
            // over a lake larger than the budget does not sort the entries on every insert.
            var target = _budgetBytes * 3 / 4;
            foreach (var kv in _entries.ToArray().OrderBy(kv => kv.Value.LastUse))
            {
                if (Bytes <= target)
                {
                    break;
                }
                lock (_gate)
                {
                    if (_entries.TryGetValue(kv.Key, out var current) && ReferenceEquals(current, kv.Value))
                    {
                        Drop(kv.Key);
                    }
                }
            }
        }
        finally
        {
            Volatile.Write(ref _evicting, 0);
        }
    }
}
