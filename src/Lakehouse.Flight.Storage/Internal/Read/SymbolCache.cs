using System.Collections.Concurrent;
using Apache.Arrow;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// All rows of one (table, symbol) as of the latest commit, date-sorted, in chunks whose dates follow each other (one
/// chunk when built from files; a commit that appends days adds to a small last chunk instead of copying the
/// symbol's history). Immutable: a write replaces the whole entry, so a reader holding it never sees a mix.
/// </summary>
internal sealed class SymbolEntry
{
    public SymbolEntry(RecordBatch batch)
        : this([batch])
    {
    }

    public SymbolEntry(IReadOnlyList<RecordBatch> chunks)
    {
        Chunks = chunks;
        foreach (var c in chunks)
        {
            Length += c.Length;
            Size += SymbolCache.SizeOf(c);
        }
    }

    public IReadOnlyList<RecordBatch> Chunks { get; }

    public int Length { get; }

    public long Size { get; }

    public long LastUse { get; set; }

    /// <summary>The rows within [from, to] (day numbers), as zero-copy slices of the chunks, in date order.</summary>
    public IEnumerable<RecordBatch> Slices(int dateColumn, int? from, int? to)
    {
        foreach (var chunk in Chunks)
        {
            var slice = ArrowConcat.SliceByDate(chunk, dateColumn, from, to);
            if (slice.Length > 0 || Chunks.Count == 1)
            {
                yield return slice;
            }
        }
    }

    /// <summary>The rows within [from, to] as one batch (a copy only when they span chunks).</summary>
    public RecordBatch Rows(int dateColumn, int? from, int? to)
    {
        var slices = Slices(dateColumn, from, to).Where(b => b.Length > 0).ToList();
        return slices.Count switch
        {
            0 => Chunks[0].Slice(0, 0),
            1 => slices[0],
            _ => ArrowConcat.ConcatenateManaged(slices),
        };
    }
}

/// <summary>
/// Symbol entries within a byte budget, least recently used symbols evicted first. Per key, the lake version of the
/// last commit that changed the symbol (ours or another process's): an entry built from a table state older than
/// that version is refused, whenever the builder looked (its rows could predate that commit).
/// </summary>
internal sealed class SymbolCache
{
    // What a batch costs beyond its buffers: RecordBatch, arrays, ArrayData, buffer lists and memory
    // owners per column, plus the entry and the dictionary node, so the budget matches what GC.GetTotalMemory
    // sees (figures: docs/benchmarks.md, "Symbol-level cache").
    private const long EntryOverhead = 512;
    private const long ColumnOverhead = 320;

    private readonly ConcurrentDictionary<(TableId, string), SymbolEntry> _entries = new();
    private readonly Dictionary<(TableId, string), long> _changedAt = [];
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
    public long Rows => _entries.Values.Sum(e => (long)e.Length);

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

    /// <summary>The version of the last commit that changed the symbol, as far as this process has seen (0: none).</summary>
    public long ChangedAt(TableId table, string symbol)
    {
        lock (_gate)
        {
            return _changedAt.GetValueOrDefault((table, symbol));
        }
    }

    /// <summary>Rows built from a table state at <paramref name="builtAt"/> are the symbol's current rows.</summary>
    public bool IsCurrent(TableId table, string symbol, long builtAt) => ChangedAt(table, symbol) <= builtAt;

    /// <summary>Below the warm-up mark (90% of the budget): what the warm-up and reads larger than the cache fill up to.</summary>
    public bool HasRoom => HasRoomFor(0);

    /// <summary>Room for <paramref name="bytes"/> more below the warm-up mark.</summary>
    public bool HasRoomFor(long bytes) => Enabled && Bytes + bytes < WarmMark;

    private long WarmMark => _budgetBytes / 10 * 9;

    /// <summary>What <see cref="TryAdd"/> did.</summary>
    public enum AddResult
    {
        Added,

        /// <summary>The symbol changed after the state the entry was built from (or, without eviction, an entry is there already).</summary>
        Fenced,

        /// <summary>Without eviction: the entry would take the cache past its warm-up mark.</summary>
        NoRoom,
    }

    /// <summary>
    /// Publishes an entry built from files of the table state at version <paramref name="builtAt"/>, unless a later
    /// commit changed the symbol; without <paramref name="evict"/>, only if the cache stays within its warm-up mark
    /// with it (nothing is evicted).
    /// </summary>
    public AddResult TryAdd(TableId table, string symbol, SymbolEntry entry, long builtAt, bool evict = true)
    {
        lock (_gate)
        {
            if (_changedAt.GetValueOrDefault((table, symbol)) > builtAt || (!evict && _entries.ContainsKey((table, symbol))))
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

    /// <summary>
    /// Installs <paramref name="entry"/>, which our commit at <paramref name="version"/> spliced from the entry
    /// <paramref name="before"/>, unless the symbol's entry is no longer that one (then the symbol is dropped: the
    /// entry there now may lack the commit's rows).
    /// </summary>
    public void Replace(TableId table, string symbol, SymbolEntry before, SymbolEntry entry, long version)
    {
        lock (_gate)
        {
            ChangedAt((table, symbol), version);
            if (_entries.TryGetValue((table, symbol), out var current) && ReferenceEquals(current, before))
            {
                Set((table, symbol), entry);
            }
            else
            {
                Drop((table, symbol));
            }
        }
        EvictIfOver();
    }

    /// <summary>The commit at <paramref name="version"/> changed the symbol: drops its entry and fences out entries being built from older states.</summary>
    public void Invalidate(TableId table, string symbol, long version)
    {
        lock (_gate)
        {
            ChangedAt((table, symbol), version);
            Drop((table, symbol));
        }
    }

    private void ChangedAt((TableId, string) key, long version) => _changedAt[key] = Math.Max(_changedAt.GetValueOrDefault(key), version);

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
