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
                fs.Write(LogJson.Serialize(entry));
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
        if (File.Exists(PointerPath)
            && long.TryParse(File.ReadAllText(PointerPath).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pointed)
            && File.Exists(CheckpointPath(pointed)))
        {
            return ReadCheckpoint(pointed);
        }
        var newest = Directory.EnumerateFiles(Dir, "*.checkpoint.json")
            .Select(f => Path.GetFileName(f).Split('.')[0])
            .Select(n => long.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : -1)
            .DefaultIfEmpty(-1)
            .Max();
        return newest < 0 ? null : ReadCheckpoint(newest);
    }

    /// <summary>The version of the newest checkpoint (0 when there is none).</summary>
    public long LastCheckpointVersion()
    {
        if (File.Exists(PointerPath)
            && long.TryParse(File.ReadAllText(PointerPath).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pointed))
        {
            return pointed;
        }
        return ReadLatestCheckpoint()?.Version ?? 0;
    }

    public Checkpoint ReadCheckpoint(long version) => LogJson.Deserialize<Checkpoint>(File.ReadAllBytes(CheckpointPath(version)));

    /// <summary>Writes a checkpoint whole (temp, flush, rename) and points to it. Idempotent: any writer may write the same one.</summary>
    public void WriteCheckpoint(Checkpoint checkpoint)
    {
        var path = CheckpointPath(checkpoint.Version);
        var temp = DurableFile.WriteTemp(path, s => s.Write(LogJson.Serialize(checkpoint)));
        File.Move(temp, path, overwrite: true);
        var pointerTemp = DurableFile.WriteTemp(PointerPath, s => s.Write(System.Text.Encoding.ASCII.GetBytes(
            checkpoint.Version.ToString(CultureInfo.InvariantCulture))));
        File.Move(pointerTemp, PointerPath, overwrite: true);
        DurableFile.FsyncDirectory(Dir);
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
