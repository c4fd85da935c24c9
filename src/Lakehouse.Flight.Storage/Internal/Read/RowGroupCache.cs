using System.Collections.Concurrent;
using Apache.Arrow;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// Decoded rows of data files within a byte budget, least recently used first out: row groups (a cold small read
/// decodes one and the next read of a neighbouring symbol finds it), or, in a second instance, one symbol's run of
/// a file per entry (what a warm point query reads again). Files never change, so an entry is valid until evicted;
/// a vacuumed file's entries simply age out.
/// </summary>
internal sealed class RowGroupCache(long budgetBytes)
{
    private readonly ConcurrentDictionary<(string File, int Group), Entry> _entries = new();
    private long _bytes;
    private long _clock;
    private int _evicting;

    public long BudgetBytes { get; } = budgetBytes;

    public long Bytes => Interlocked.Read(ref _bytes);

    public int Count => _entries.Count;

    public RecordBatch? Get(string file, int group)
    {
        if (_entries.TryGetValue((file, group), out var e))
        {
            e.LastUse = Interlocked.Increment(ref _clock);
            return e.Batch;
        }
        return null;
    }

    public void Put(string file, int group, RecordBatch batch)
    {
        if (BudgetBytes <= 0)
        {
            return;
        }
        var size = SymbolCache.SizeOf(batch);
        var entry = new Entry(batch, size) { LastUse = Interlocked.Increment(ref _clock) };
        _entries.AddOrUpdate((file, group), _ =>
        {
            Interlocked.Add(ref _bytes, size);
            return entry;
        }, (_, old) =>
        {
            Interlocked.Add(ref _bytes, size - old.Size);
            return entry;
        });
        if (Interlocked.Read(ref _bytes) > BudgetBytes)
        {
            Evict();
        }
    }

    public void Clear()
    {
        foreach (var key in _entries.Keys)
        {
            if (_entries.TryRemove(key, out var old))
            {
                Interlocked.Add(ref _bytes, -old.Size);
            }
        }
    }

    private void Evict()
    {
        if (Interlocked.Exchange(ref _evicting, 1) == 1)
        {
            return;
        }
        try
        {
            // The least recently used quarter of the budget in one sweep; ToArray is a consistent snapshot.
            var target = BudgetBytes * 3 / 4;
            foreach (var kv in _entries.ToArray().OrderBy(kv => kv.Value.LastUse))
            {
                if (Interlocked.Read(ref _bytes) <= target)
                {
                    break;
                }
                if (_entries.TryRemove(kv.Key, out var old))
                {
                    Interlocked.Add(ref _bytes, -old.Size);
                }
            }
        }
        finally
        {
            Volatile.Write(ref _evicting, 0);
        }
    }

    private sealed class Entry(RecordBatch batch, long size)
    {
        public RecordBatch Batch { get; } = batch;

        public long Size { get; } = size;

        public long LastUse { get; set; }
    }
}
