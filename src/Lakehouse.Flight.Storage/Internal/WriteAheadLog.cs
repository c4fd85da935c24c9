using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Apache.Arrow;
using Apache.Arrow.Ipc;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>What a write-ahead entry holds besides its rows: the run and the tables the rows go to.</summary>
internal sealed record WalHeader(
    [property: JsonPropertyName("run_id")] string RunId,
    [property: JsonPropertyName("targets")] WalTarget[] Targets)
{
    /// <summary>When the upload was acknowledged: the rows' <c>ingested_at</c>.</summary>
    [JsonPropertyName("ts")]
    public DateTimeOffset Ts { get; init; }
}

/// <summary>One table of an entry: layer, name, and the upload's source (the partition of a per-source table, the rows' source elsewhere).</summary>
internal sealed record WalTarget(
    [property: JsonPropertyName("layer")] string Layer,
    [property: JsonPropertyName("table")] string Table,
    [property: JsonPropertyName("source")] string? Source);

[JsonSerializable(typeof(WalHeader))]
internal sealed partial class WalJson : JsonSerializerContext;

/// <summary>An entry file of the log, with what its name says.</summary>
internal sealed record WalEntry(string Path, long Ticks, int Pid, string RunId)
{
    /// <summary>Found on disk after its writer died (or before this process started), not enqueued by this process.</summary>
    public bool Adopted { get; init; }
}

/// <summary>
/// The write-ahead log of bulk uploads, <c>_metadata/wal/</c>: one Arrow IPC stream file per upload
/// (its header in the schema's metadata), written in one sequential write and made durable with one
/// file fsync and one folder fsync. An entry is acknowledged only once both returned. A file cut short
/// by a crash lacks the IPC end-of-stream marker and was never acknowledged: it is deleted unread.
/// Entries are applied to the partitions in name order (UTC ticks first) and deleted once applied.
/// </summary>
internal sealed class WriteAheadLog(string dir)
{
    public const string Extension = ".arrows";
    private const string HeaderKey = "lakehouse.wal";
    private static readonly byte[] EndOfStream = [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0];
    private static long _lastTicks;

    public string Dir { get; } = dir;

    /// <summary>The path of a new entry: its name sorts after every entry this process named before.</summary>
    public string NewPath(string runId) =>
        System.IO.Path.Combine(Dir, string.Create(CultureInfo.InvariantCulture, $"{NextTicks():D19}-{Environment.ProcessId}-{runId}{Extension}"));

    /// <summary>Starts an entry at <paramref name="path"/>: batches are appended as they come, <see cref="EntryWriter.Complete"/> makes it durable.</summary>
    public EntryWriter Begin(string path, WalHeader header)
    {
        Directory.CreateDirectory(Dir);
        return new EntryWriter(path, header, Dir);
    }

    /// <summary>One entry being written: one sequential stream, one fsync at the end.</summary>
    internal sealed class EntryWriter(string path, WalHeader header, string dir) : IDisposable
    {
        private FileStream? _file;
        private ArrowStreamWriter? _writer;
        private Schema? _schema;
        private bool _complete;

        public string Path => path;

        public void Write(RecordBatch batch)
        {
            if (_writer is null)
            {
                var metadata = new Dictionary<string, string>(batch.Schema.Metadata ?? new Dictionary<string, string>())
                {
                    [HeaderKey] = JsonSerializer.Serialize(header, WalJson.Default.WalHeader),
                };
                _schema = new Schema(batch.Schema.FieldsList, metadata);
                _file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
                _writer = new ArrowStreamWriter(_file, _schema, leaveOpen: true);
            }
            _writer.WriteRecordBatch(new RecordBatch(_schema!, Enumerable.Range(0, batch.ColumnCount).Select(batch.Column), batch.Length));
        }

        /// <summary>Ends the stream and makes it durable (file, then folder); the entry counts from here on.</summary>
        public void Complete()
        {
            if (_writer is null || _file is null)
            {
                throw new InvalidOperationException("an empty upload has no log entry");
            }
            _writer.WriteEnd();
            _writer.Dispose();
            _file.Flush(flushToDisk: true);
            _file.Dispose();
            DurableFile.FsyncDirectory(dir);
            _complete = true;
        }

        public void Dispose()
        {
            if (_complete)
            {
                return;
            }
            _writer?.Dispose();
            _file?.Dispose();
            DurableFile.TryDelete(path);
        }
    }

    /// <summary>The entries on disk, oldest first (torn ones are left to <see cref="Read"/> to discard).</summary>
    public IReadOnlyList<WalEntry> List()
    {
        if (!Directory.Exists(Dir))
        {
            return [];
        }
        var entries = new List<WalEntry>();
        foreach (var path in Directory.EnumerateFiles(Dir, "*" + Extension))
        {
            if (Parse(path) is { } e)
            {
                entries.Add(e);
            }
        }
        return entries.OrderBy(e => e.Ticks).ThenBy(e => e.Path, StringComparer.Ordinal).ToArray();
    }

    /// <summary>An entry's header and rows; null when the file is torn (never acknowledged).</summary>
    public static (WalHeader Header, List<RecordBatch> Batches)? Read(WalEntry entry)
    {
        var bytes = File.ReadAllBytes(entry.Path);
        if (bytes.Length < EndOfStream.Length || !bytes.AsSpan(bytes.Length - EndOfStream.Length).SequenceEqual(EndOfStream))
        {
            return null;
        }
        using var reader = new ArrowStreamReader(new MemoryStream(bytes, writable: false));
        var batches = new List<RecordBatch>();
        while (reader.ReadNextRecordBatch() is { } b)
        {
            batches.Add(b);
        }
        var schema = reader.Schema;
        if (schema.Metadata?.GetValueOrDefault(HeaderKey) is not { } json)
        {
            return null;
        }
        var header = JsonSerializer.Deserialize(json, WalJson.Default.WalHeader)!;
        var plain = new Schema(schema.FieldsList, null);
        return (header, batches.Select(b => new RecordBatch(plain, Enumerable.Range(0, b.ColumnCount).Select(b.Column), b.Length)).ToList());
    }

    /// <summary>An entry's header alone (its schema message); null when the file is torn.</summary>
    public static WalHeader? ReadHeader(WalEntry entry)
    {
        using var fs = new FileStream(entry.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 4096);
        if (fs.Length < EndOfStream.Length)
        {
            return null;
        }
        Span<byte> tail = stackalloc byte[8];
        fs.Seek(-EndOfStream.Length, SeekOrigin.End);
        fs.ReadExactly(tail);
        if (!tail.SequenceEqual(EndOfStream))
        {
            return null;
        }
        fs.Seek(0, SeekOrigin.Begin);
        using var reader = new ArrowStreamReader(fs, leaveOpen: true);
        return reader.Schema.Metadata?.GetValueOrDefault(HeaderKey) is { } json ? JsonSerializer.Deserialize(json, WalJson.Default.WalHeader) : null;
    }

    public static WalEntry? Parse(string path)
    {
        var name = System.IO.Path.GetFileName(path);
        if (!name.EndsWith(Extension, StringComparison.Ordinal))
        {
            return null;
        }
        var parts = name[..^Extension.Length].Split('-', 3);
        return parts.Length == 3
            && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            ? new WalEntry(path, ticks, pid, parts[2])
            : null;
    }

    /// <summary>UTC ticks, strictly increasing within the process: entry names, and the order acknowledged entries are applied in.</summary>
    internal static long NextTicks()
    {
        while (true)
        {
            var last = Interlocked.Read(ref _lastTicks);
            var next = Math.Max(DateTime.UtcNow.Ticks, last + 1);
            if (Interlocked.CompareExchange(ref _lastTicks, next, last) == last)
            {
                return next;
            }
        }
    }
}
