using System.Text;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// Append-only JSON Lines. Appends from every process are serialised by a lock file; each append is
/// flushed to disk. A torn last line (a crash mid-append) is fenced off by a newline before the next
/// append and skipped by readers.
/// </summary>
internal sealed class ManifestLog
{
    private readonly string _lockDir;
    private readonly object _gate = new();

    public ManifestLog(string lockDir)
    {
        _lockDir = lockDir;
    }

    /// <summary>Raised after lines were appended: (file, length before, length after).</summary>
    public event Action<string, long, long>? Appended;

    public void Append(string file, IReadOnlyList<string> lines) => Append(file, lines, skipPresent: false);

    /// <summary>
    /// Appends the lines the file's tail does not already hold: the repair of a commit whose writer may have died
    /// after some of its manifest lines were appended.
    /// </summary>
    public void AppendMissing(string file, IReadOnlyList<string> lines) => Append(file, lines, skipPresent: true);

    private void Append(string file, IReadOnlyList<string> lines, bool skipPresent)
    {
        if (lines.Count == 0)
        {
            return;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var lockPath = Path.Combine(_lockDir, "manifest-" + Path.GetFileNameWithoutExtension(file) + ".lock");
        lock (_gate)
        {
            using var fileLock = AcquireFileLock(lockPath);
            using var fs = new FileStream(file, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
            var before = fs.Length;
            if (skipPresent)
            {
                var tail = ReadTail(fs, 4 << 20);
                lines = lines.Where(l => !tail.Contains(l, StringComparison.Ordinal)).ToArray();
                if (lines.Count == 0)
                {
                    return;
                }
            }
            // A torn tail (an append cut short by a crash or a full disk; appends are serialised by the
            // lock file, so no one is writing it now) is cut off, not fenced: a reader (ours, DuckDB,
            // pandas) must only ever meet whole JSON lines. The lines it held are appended again by the
            // repair, from their commit's log entry.
            var end = CompleteLength(fs);
            if (end != before)
            {
                fs.SetLength(end);
                before = end;
            }
            // Encoded straight into one pooled buffer: a 20,000-symbol day appends ~7 MB per manifest, and a string
            // built first, then its bytes, were three copies of it (~0.3 s of a commit).
            var length = lines.Count;
            foreach (var line in lines)
            {
                length += Encoding.UTF8.GetByteCount(line);
            }
            var bytes = System.Buffers.ArrayPool<byte>.Shared.Rent(length);
            try
            {
                var at = 0;
                foreach (var line in lines)
                {
                    at += Encoding.UTF8.GetBytes(line, bytes.AsSpan(at));
                    bytes[at++] = (byte)'\n';
                }
                fs.Seek(0, SeekOrigin.End);
                try
                {
                    fs.Write(bytes, 0, length);
                    fs.Flush(flushToDisk: true);
                }
                catch (IOException)
                {
                    // Leave whole lines only: the repair appends these lines again from their commit's log entry.
                    TryTruncate(fs, before);
                    throw;
                }
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(bytes);
            }
            Appended?.Invoke(file, before, before + length);
        }
    }

    /// <summary>Length of the file up to and including its last newline.</summary>
    private static long CompleteLength(FileStream fs)
    {
        var length = fs.Length;
        if (length == 0)
        {
            return 0;
        }
        var buffer = new byte[4096];
        var position = length;
        while (position > 0)
        {
            var chunk = (int)Math.Min(buffer.Length, position);
            fs.Seek(position - chunk, SeekOrigin.Begin);
            fs.ReadExactly(buffer, 0, chunk);
            var i = Array.LastIndexOf(buffer, (byte)'\n', chunk - 1, chunk);
            if (i >= 0)
            {
                return position - chunk + i + 1;
            }
            position -= chunk;
        }
        return 0;
    }

    private static void TryTruncate(FileStream fs, long length)
    {
        try
        {
            fs.SetLength(length);
            fs.Flush(flushToDisk: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Complete lines from <paramref name="offset"/>; returns the offset after the last complete line.</summary>
    public static long ReadLines(string file, long offset, List<string> into)
    {
        if (!File.Exists(file))
        {
            return offset;
        }
        using var fs = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (offset > fs.Length)
        {
            offset = 0;
        }
        fs.Seek(offset, SeekOrigin.Begin);
        var buffer = new byte[fs.Length - offset];
        fs.ReadExactly(buffer);
        var consumed = 0;
        for (var i = 0; i < buffer.Length; i++)
        {
            if (buffer[i] == '\n')
            {
                var line = Encoding.UTF8.GetString(buffer, consumed, i - consumed).Trim();
                if (line.Length > 0)
                {
                    into.Add(line);
                }
                consumed = i + 1;
            }
        }
        return offset + consumed;
    }

    /// <summary>
    /// The whole lines of versions &gt;= <paramref name="fromVersion"/> (lines carry the commit's <c>"version"</c>), by
    /// version, read backwards from the end until a line of an earlier version; lines without one are skipped.
    /// </summary>
    public static Dictionary<long, HashSet<string>> LinesSince(string file, long fromVersion)
    {
        var found = new Dictionary<long, HashSet<string>>();
        if (!File.Exists(file))
        {
            return found;
        }
        using var fs = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var end = fs.Length;
        var carry = Array.Empty<byte>();
        const int Block = 1 << 20;
        while (end > 0)
        {
            var start = Math.Max(0, end - Block);
            var block = new byte[(int)(end - start) + carry.Length];
            fs.Seek(start, SeekOrigin.Begin);
            fs.ReadExactly(block, 0, (int)(end - start));
            carry.CopyTo(block, (int)(end - start));
            // Lines wholly inside the block (the first one may continue in the previous block, unless at the file's start).
            var lineEnd = block.Length;
            var earlier = false;
            for (var i = block.Length - 1; i >= -1; i--)
            {
                if (i >= 0 && block[i] != (byte)'\n')
                {
                    continue;
                }
                if (i < 0 && start > 0)
                {
                    break;
                }
                var line = Encoding.UTF8.GetString(block, i + 1, lineEnd - (i + 1));
                lineEnd = Math.Max(i, 0);
                if (line.Length == 0 || !line.EndsWith('}') || VersionOf(line) is not { } v)
                {
                    continue;
                }
                if (v < fromVersion)
                {
                    earlier = true;
                    break;
                }
                if (!found.TryGetValue(v, out var set))
                {
                    found[v] = set = new HashSet<string>(StringComparer.Ordinal);
                }
                set.Add(line);
            }
            if (earlier)
            {
                break;
            }
            carry = block[..lineEnd];
            end = start;
        }
        return found;
    }

    private static long? VersionOf(string line)
    {
        const string Key = "\"version\":";
        var at = line.LastIndexOf(Key, StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }
        long v = 0;
        var i = at + Key.Length;
        var digits = 0;
        for (; i < line.Length && char.IsAsciiDigit(line[i]); i++, digits++)
        {
            v = (v * 10) + (line[i] - '0');
        }
        return digits == 0 ? null : v;
    }

    /// <summary>The last <paramref name="maxBytes"/> of a manifest as text ("" when it does not exist).</summary>
    public static string ReadTail(string file, int maxBytes)
    {
        if (!File.Exists(file))
        {
            return "";
        }
        using var fs = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return ReadTail(fs, maxBytes);
    }

    private static string ReadTail(FileStream fs, int maxBytes)
    {
        var length = (int)Math.Min(fs.Length, maxBytes);
        var buffer = new byte[length];
        fs.Seek(-length, SeekOrigin.End);
        fs.ReadExactly(buffer);
        return Encoding.UTF8.GetString(buffer);
    }

    private static FileStream AcquireFileLock(string path)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(1);
            }
        }
    }
}
