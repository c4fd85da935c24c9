using System.Globalization;
using System.Runtime.InteropServices;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// The commit log under <c>_metadata/log/</c>: one file per version (<c>00000000000000000042.json</c>), created
/// with a put-if-absent (a fully written and flushed temp file hard-linked to the version's name: the link fails
/// when another writer took that version), so an entry is whole or absent and two writers can never commit the same
/// version. Every <see cref="CheckpointInterval"/> versions a checkpoint holds the whole state, so an open reads one
/// checkpoint and the entries after it. On object storage the link is one conditional PUT (<c>If-None-Match: *</c>)
/// of the entry; nothing here depends on a rename or a lock (docs/decisions.md D34).
/// </summary>
internal sealed partial class LakeLog(string dir)
{
    /// <summary>Versions between checkpoints.</summary>
    public const int CheckpointInterval = 100;

    private const int Eexist = 17;

    public string Dir { get; } = dir;

    public string EntryPath(long version) => Path.Combine(Dir, version.ToString("D20", CultureInfo.InvariantCulture) + ".json");

    public string CheckpointPath(long version) => Path.Combine(Dir, version.ToString("D20", CultureInfo.InvariantCulture) + ".checkpoint.json");

    private string PointerPath => Path.Combine(Dir, "_last_checkpoint");

    public bool Exists(long version) => File.Exists(EntryPath(version));

    /// <summary>
    /// Commits <paramref name="entry"/> as its version: false when that version exists already (another writer's
    /// commit; the caller reads it and tries the next one). The entry is on disk, whole, when this returns true.
    /// </summary>
    public bool TryCommit(LogEntry entry)
    {
        Directory.CreateDirectory(Dir);
        var final = EntryPath(entry.Version);
        var temp = DurableFile.TempPathFor(final);
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024))
            {
                fs.Write(LogJson.SerializeEntry(entry));
                fs.Flush(flushToDisk: true);
            }
            if (Native.Link(temp, final) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Eexist)
                {
                    return false;
                }
                throw new IOException($"the commit log entry could not be created (errno {errno})", errno);
            }
        }
        finally
        {
            DurableFile.TryDelete(temp);
        }
        // The link is durable once its folder is.
        DurableFile.FsyncDirectory(Dir);
        return true;
    }

    public LogEntry Read(long version) => LogJson.Deserialize<LogEntry>(File.ReadAllBytes(EntryPath(version)));

    /// <summary>
    /// An entry without its reports (<see cref="LogEntry.Reports"/> empty): what applying it to a state needs. A daily
    /// append of 20,000 symbols carries 40,000 reports (~15 MB of JSON): the parser only steps over them, ~20x faster
    /// than building them (an open after 70 such entries replayed them for 10 s).
    /// </summary>
    public LogEntry ReadHead(long version)
    {
        var head = LogJson.Deserialize<LogEntryHead>(HeadBytes(EntryPath(version)));
        if ((head.Operation == "vacuum" && head.Expired is null) || head.Tables.Count == 0)
        {
            // Only a vacuum names expired files, after its (empty) reports; and an entry without tables is small: read it whole.
            head = LogJson.Deserialize<LogEntryHead>(File.ReadAllBytes(EntryPath(version)));
        }
        return new LogEntry { Version = head.Version, Ts = head.Ts, Operation = head.Operation, RunId = head.RunId, Tables = head.Tables, Expired = head.Expired };
    }

    /// <summary>
    /// The entry's JSON up to its <c>reports</c>, closed as an object: an entry is written version, ts, operation, run_id,
    /// tables, reports (then a vacuum's expired files), and the bytes <c>,"reports":</c> can only be that property (a quote
    /// inside a JSON string is escaped, and no object within <c>tables</c> has such a member). Read from the start 256 KB at
    /// a time, so an open does not read the 15 MB of a 20,000-symbol commit's reports at all. The whole file when there is
    /// no such property.
    /// </summary>
    private static byte[] HeadBytes(string path)
    {
        ReadOnlySpan<byte> marker = ",\"reports\":"u8;
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1, FileOptions.SequentialScan);
        var buffer = new byte[Math.Min(fs.Length, 256 << 10)];
        var filled = 0;
        var searched = 0;
        while (true)
        {
            var read = fs.Read(buffer, filled, buffer.Length - filled);
            if (read == 0)
            {
                return buffer[..filled];
            }
            filled += read;
            // Search from a little before the new bytes: the marker may straddle two reads.
            var from = Math.Max(0, searched - marker.Length);
            var at = buffer.AsSpan(from, filled - from).IndexOf(marker);
            if (at >= 0)
            {
                var head = new byte[from + at + 1];
                buffer.AsSpan(0, from + at).CopyTo(head);
                head[^1] = (byte)'}';
                return head;
            }
            searched = filled;
            if (filled == buffer.Length)
            {
                System.Array.Resize(ref buffer, (int)Math.Min(fs.Length, (long)buffer.Length * 2));
                if (filled == buffer.Length)
                {
                    return buffer;
                }
            }
        }
    }

    /// <summary>The committed versions after <paramref name="version"/>, in order (each probed with one stat).</summary>
    public IEnumerable<long> VersionsAfter(long version)
    {
        for (var v = version + 1; Exists(v); v++)
        {
            yield return v;
        }
    }

    /// <summary>The newest checkpoint (from the pointer, else by listing), or null when there is none.</summary>
    public Checkpoint? ReadLatestCheckpoint()
    {
        if (!Directory.Exists(Dir))
        {
            return null;
        }
        // An extra checkpoint (see WriteCheckpoint) is deleted by a writer once it points to a newer one: when the file
        // named goes away between the look and the read, look again (the pointer, then the folder).
        for (var attempt = 0; ; attempt++)
        {
            var pointed = PointedVersion();
            var newest = pointed > 0 && File.Exists(CheckpointPath(pointed)) ? pointed : Directory.EnumerateFiles(Dir, "*.checkpoint.json")
                .Select(f => Path.GetFileName(f).Split('.')[0])
                .Select(n => long.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : -1)
                .DefaultIfEmpty(-1)
                .Max();
            if (newest < 0)
            {
                return null;
            }
            try
            {
                return ReadCheckpoint(newest);
            }
            catch (FileNotFoundException) when (attempt < 5)
            {
            }
        }
    }

    /// <summary>The version of the newest checkpoint (0 when there is none).</summary>
    public long LastCheckpointVersion() => PointedVersion() is > 0 and var pointed ? pointed : ReadLatestCheckpoint()?.Version ?? 0;

    /// <summary>The version <c>_last_checkpoint</c> names; -1 when there is no such file or it does not hold a version.</summary>
    private long PointedVersion()
    {
        try
        {
            return long.TryParse(File.ReadAllText(PointerPath).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pointed) ? pointed : -1;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return -1;
        }
    }

    private string ManifestsThroughPath => Path.Combine(Dir, "_manifests_through");

    /// <summary>
    /// The version up to which a repair found every entry's manifest lines written (0 when none is recorded): a hint that
    /// bounds what the next repair reads (a daily append's entries carry 40,000 lines each; an open compared ~70 of them
    /// with the manifests for 20 s). Lost or stale, a repair only reads more.
    /// </summary>
    public long ManifestsThrough() =>
        File.Exists(ManifestsThroughPath)
        && long.TryParse(File.ReadAllText(ManifestsThroughPath).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var through)
            ? through : 0;

    /// <summary>Records that every entry up to <paramref name="version"/> has its manifest lines (written whole: temp, rename).</summary>
    public void WriteManifestsThrough(long version, bool flushToDisk = true)
    {
        var temp = DurableFile.WriteTemp(ManifestsThroughPath, s => s.Write(System.Text.Encoding.ASCII.GetBytes(
            version.ToString(CultureInfo.InvariantCulture))), flushToDisk);
        File.Move(temp, ManifestsThroughPath, overwrite: true);
    }

    /// <summary>
    /// After the commit of <paramref name="version"/> wrote all its manifest lines: the record moves to the highest version
    /// up to which every commit has said so, in whatever order they finish (a background compaction's commit may finish
    /// between another commit's point and its lines; a record moved only by the next version's committer stopped there
    /// for good, and the next open compared ~17 s of manifests). Versions this process finished beyond a gap wait here
    /// until the gap closes. Not flushed, and best effort: a record that is lost or behind only makes a repair read
    /// more; the lines themselves were flushed first.
    /// </summary>
    public void AdvanceManifestsThrough(long version)
    {
        lock (_finished)
        {
            try
            {
                // From what the record says, or what this process recorded last if a repair's record is behind it (a
                // repair that started before our commits writes the latest it saw then).
                var recorded = ManifestsThrough();
                var through = Math.Max(recorded, _advancedTo);
                _finished.Add(version);
                var next = through;
                while (_finished.Remove(next + 1))
                {
                    next++;
                }
                _finished.RemoveWhere(v => v <= next);
                if (_finished.Count > MaxFinishedAhead)
                {
                    // A gap that never closes here (another process's commit, a commit whose lines failed): a repair closes it.
                    _finished.Clear();
                }
                if (next > recorded)
                {
                    WriteManifestsThrough(next, flushToDisk: false);
                    _advancedTo = next;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The next repair compares from the last record.
            }
        }
    }

    /// <summary>
    /// A repair checked every entry up to <paramref name="checkedThrough"/>: the record says so, unless commits that
    /// finished meanwhile moved it further (it stays: a repair's latest is the one it saw when it started). A record
    /// the repair found ahead of the log (<paramref name="wasAhead"/>: a lake copied while written) is rewritten.
    /// </summary>
    public void RepairedManifestsThrough(long checkedThrough, bool wasAhead)
    {
        lock (_finished)
        {
            var recorded = ManifestsThrough();
            if (!wasAhead && recorded > checkedThrough)
            {
                return;
            }
            WriteManifestsThrough(checkedThrough);
            _advancedTo = Math.Min(_advancedTo, checkedThrough);
        }
    }

    /// <summary>The highest record this process's commits wrote (a lower bound of what is complete, unless a repair lowered it).</summary>
    private long _advancedTo;

    /// <summary>Versions this process's commits finished with all their lines, past a gap in the record.</summary>
    private readonly SortedSet<long> _finished = [];

    private const int MaxFinishedAhead = 10_000;

    public Checkpoint ReadCheckpoint(long version) => LogJson.Deserialize<Checkpoint>(File.ReadAllBytes(CheckpointPath(version)));

    /// <summary>
    /// Writes a checkpoint whole (temp, flush, rename) and points to it. Idempotent: any writer may write the same one. An
    /// extra checkpoint (a version not a multiple of <see cref="CheckpointInterval"/>: written when entries are heavy, or by a
    /// repair) only shortens what an open replays: it is not written when a newer one is pointed to already, and it is
    /// deleted once a newer one is (as-of reads start from the multiples).
    /// </summary>
    public void WriteCheckpoint(Checkpoint checkpoint)
    {
        // One at a time in a process (checkpoints are written in the background and may overlap): the pointer is read,
        // moved and the extra one it named deleted as one step. Another process may still interleave; at worst the
        // pointer then names an older checkpoint (an open replays more) or a deleted one (an open lists the folder).
        lock (_checkpointGate)
        {
            WriteCheckpointLocked(checkpoint);
        }
    }

    private readonly object _checkpointGate = new();

    private void WriteCheckpointLocked(Checkpoint checkpoint)
    {
        var previous = PointedVersion();
        if (checkpoint.Version % CheckpointInterval != 0 && previous >= checkpoint.Version)
        {
            return;
        }
        var path = CheckpointPath(checkpoint.Version);
        var temp = DurableFile.WriteTemp(path, s => s.Write(LogJson.Serialize(checkpoint)));
        File.Move(temp, path, overwrite: true);
        if (previous < checkpoint.Version)
        {
            // Never back: two checkpoints written in the background may finish out of order.
            var pointerTemp = DurableFile.WriteTemp(PointerPath, s => s.Write(System.Text.Encoding.ASCII.GetBytes(
                checkpoint.Version.ToString(CultureInfo.InvariantCulture))));
            File.Move(pointerTemp, PointerPath, overwrite: true);
        }
        DurableFile.FsyncDirectory(Dir);
        if (previous > 0 && previous < checkpoint.Version && previous % CheckpointInterval != 0)
        {
            DurableFile.TryDelete(CheckpointPath(previous));
        }
        var seen = Interlocked.Exchange(ref _prunedAt, checkpoint.Version);
        if (seen / ThinningStep != checkpoint.Version / ThinningStep)
        {
            PruneCheckpoints(checkpoint.Version);
        }
    }

    /// <summary>Checkpoints are thinned once every this many versions (a listing of the log folder).</summary>
    internal const long ThinningStep = 1_000;

    private long _prunedAt;

    /// <summary>
    /// Whether the checkpoint at <paramref name="version"/> stays once <paramref name="latest"/> is written. Each checkpoint
    /// holds every file kept for the retention period, so with many small commits each is large and keeping every one grows
    /// the log quadratically (6.7 GB for 100,000 one-row corrections). Kept: the last 1,000 versions' (every 100), every
    /// 1,000th of the last 10,000, every 10,000th of the last 100,000, and every 100,000th; an as-of read of an older version
    /// starts from the nearest one kept and replays the entries after it (at most 100,000 for the oldest).
    /// </summary>
    internal static bool KeepCheckpoint(long version, long latest)
    {
        var age = latest - version;
        if (version % CheckpointInterval != 0)
        {
            // An extra one (see WriteCheckpoint) is of use only while it is the newest.
            return age <= 0;
        }
        return age <= 1_000 || (version % 1_000 == 0 && age <= 10_000) || (version % 10_000 == 0 && age <= 100_000) || version % 100_000 == 0;
    }

    /// <summary>Deletes the checkpoints before <paramref name="latest"/> that <see cref="KeepCheckpoint"/> lets go; returns how many.</summary>
    internal int PruneCheckpoints(long latest)
    {
        var deleted = 0;
        foreach (var f in Directory.EnumerateFiles(Dir, "*.checkpoint.json"))
        {
            var name = Path.GetFileName(f);
            if (long.TryParse(name.AsSpan(0, name.IndexOf('.', StringComparison.Ordinal)), NumberStyles.None, CultureInfo.InvariantCulture, out var v)
                && v < latest && !KeepCheckpoint(v, latest))
            {
                try
                {
                    File.Delete(f);
                    deleted++;
                }
                catch (IOException)
                {
                    // Another writer thinned it first, or the disk refuses: the next thinning tries again.
                }
            }
        }
        return deleted;
    }

    /// <summary>Every committed version number on disk, oldest first (a listing; for version histories and vacuum).</summary>
    public IEnumerable<long> ListVersions()
    {
        if (!Directory.Exists(Dir))
        {
            return [];
        }
        var versions = new List<long>();
        foreach (var f in Directory.EnumerateFiles(Dir, "*.json"))
        {
            var name = Path.GetFileName(f);
            if (name.Length == 25 && long.TryParse(name.AsSpan(0, 20), NumberStyles.None, CultureInfo.InvariantCulture, out var v))
            {
                versions.Add(v);
            }
        }
        versions.Sort();
        return versions;
    }

    private static partial class Native
    {
        [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        public static partial int Link(string existing, string created);
    }
}
