using System.Collections.Concurrent;
using Apache.Arrow;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// Decoded partitions kept as Arrow batches, keyed by file path, within a byte budget. Entries are
/// replaced by this process's writes and dropped by the change feed when another process writes.
/// Each entry remembers the file's length and write time so the write path can verify it.
/// </summary>
internal sealed class PartitionCache
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly long _budgetBytes;
    private long _bytes;
    private long _clock;
    private int _evicting;

    public PartitionCache(long budgetBytes) => _budgetBytes = budgetBytes;

    public long Bytes => Interlocked.Read(ref _bytes);

    public int Count => _entries.Count;

    public bool TryGet(string path, out RecordBatch batch, out FileStamp stamp)
    {
        if (_entries.TryGetValue(path, out var e))
        {
            e.LastUse = Interlocked.Increment(ref _clock);
            batch = e.Batch;
            stamp = e.Stamp;
            return true;
        }
        batch = null!;
        stamp = default;
        return false;
    }

    public bool Contains(string path) => _entries.ContainsKey(path);

    public void Put(string path, RecordBatch batch, FileStamp stamp)
    {
        if (_budgetBytes <= 0)
        {
            return;
        }
        var size = SizeOf(batch) + 64 + (2L * path.Length);
        var entry = new Entry(batch, stamp, size) { LastUse = Interlocked.Increment(ref _clock) };
        _entries.AddOrUpdate(path, _ =>
        {
            Interlocked.Add(ref _bytes, size);
            return entry;
        }, (_, old) =>
        {
            Interlocked.Add(ref _bytes, size - old.Size);
            return entry;
        });
        if (Interlocked.Read(ref _bytes) > _budgetBytes)
        {
            Evict();
        }
    }

    public void Remove(string path)
    {
        if (_entries.TryRemove(path, out var old))
        {
            Interlocked.Add(ref _bytes, -old.Size);
        }
    }

    public void RemovePrefix(string prefix)
    {
        foreach (var key in _entries.Keys)
        {
            if (key.StartsWith(prefix, StringComparison.Ordinal))
            {
                Remove(key);
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
            // Drop the least recently used quarter of the budget in one sweep.
            var target = _budgetBytes * 3 / 4;
            // ConcurrentDictionary.ToArray is a consistent snapshot; LINQ over the dictionary itself copies it
            // by Count, then CopyTo, and throws when a parallel Put (a prefetch) grows it in between.
            foreach (var kv in _entries.ToArray().OrderBy(kv => kv.Value.LastUse))
            {
                if (Interlocked.Read(ref _bytes) <= target)
                {
                    break;
                }
                Remove(kv.Key);
            }
        }
        finally
        {
            Volatile.Write(ref _evicting, 0);
        }
    }

    /// <summary>Buffer bytes plus the objects around them (entry, batch, and per column the array, ArrayData and buffer list), which for a 22-row partition cost as much as the data.</summary>
    private static long SizeOf(RecordBatch batch)
    {
        long size = 256;
        for (var c = 0; c < batch.ColumnCount; c++)
        {
            size += 320;
            foreach (var buffer in batch.Column(c).Data.Buffers)
            {
                size += buffer.Length;
            }
        }
        return size;
    }

    private sealed class Entry(RecordBatch batch, FileStamp stamp, long size)
    {
        public RecordBatch Batch { get; } = batch;
        public FileStamp Stamp { get; } = stamp;
        public long Size { get; } = size;
        public long LastUse { get; set; }
    }
}

/// <summary>What identifies one version of a file on disk.</summary>
internal readonly record struct FileStamp(long Length, DateTime LastWriteUtc)
{
    public static FileStamp Of(string path) => FileStamps.Of(path);
}
