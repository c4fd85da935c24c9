using System.Runtime.InteropServices;
using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>A data file a commit wrote: where it is, what the log will say of it, and its symbol directory.</summary>
internal sealed record StagedFile(TableDefinition Table, string Path, DataFile File, SymbolDirectory Directory);

/// <summary>
/// Where data files live and how a table's folder shows them. Every data file is written once into the file store,
/// <c>_metadata/data/&lt;layer&gt;/&lt;table&gt;/</c>, under a name no other file ever had, and stays there while a
/// version still needs it (current, or superseded within the retention period). A table's folder
/// (<c>silver/prices_daily/</c>) is a view of its current version: hard links to exactly the current files. A commit
/// publishes a new view by building it beside the old one and swapping the two folders in one
/// <c>renameat2(RENAME_EXCHANGE)</c>, so a reader listing the folder sees one version's files, never a superseded or
/// uncommitted one (docs/decisions.md D35).
/// </summary>
internal sealed partial class FileStore(LakePaths paths)
{
    private const int Einval = 22;
    private const int Enosys = 38;
    private const uint RenameExchange = 2;
    private const int AtFdCwd = -100;

    public string StoreRoot => Path.Combine(paths.MetadataDir, "data");

    public string StoreDir(TableDefinition table) => Path.Combine(StoreRoot, Layers.Name(table.Layer), table.Name);

    public string StorePath(TableDefinition table, string name) => Path.Combine(StoreDir(table), name);

    /// <summary>How many files a commit syncs one by one before one syncfs is cheaper.</summary>
    internal const int FsyncEachUpTo = 8;

    private string PublishDir => Path.Combine(paths.MetadataDir, "publish");

    /// <summary>Foreign content found in a table folder when its view was published (a seed-layout lake's month files): moved here, never deleted.</summary>
    public string DisplacedDir => Path.Combine(paths.MetadataDir, "displaced");

    /// <summary>A fresh data file name: <c>&lt;band&gt;[-&lt;source&gt;]-&lt;16 hex&gt;.parquet</c>.</summary>
    public static string NewName(TableDefinition table, int band, string? source) =>
        $"{table.BandLabel(band)}{(source is null ? "" : "-" + source)}-{Guid.NewGuid().ToString("N")[..16]}.parquet";

    /// <summary>
    /// Encodes <paramref name="rows"/> (sorted by key) into a new file of the store. Not synced: the commit makes all
    /// its files durable at once. A writer holding the table's lock writes the final name (a file left by one that died
    /// before its commit is named by no version and swept under the same lock); one that does not (the compactor)
    /// writes a temp name of its process and <see cref="Promote"/>s it under the lock.
    /// </summary>
    public StagedFile Write(TableDefinition table, int band, string? source, RecordBatch rows, bool temp = false)
    {
        var name = NewName(table, band, source);
        var dir = StoreDir(table);
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, name);
        if (temp)
        {
            path = DurableFile.TempPathFor(path);
        }
        SymbolDirectory directory;
        try
        {
            directory = SegmentFiles.Write(path, table, rows);
        }
        catch
        {
            DurableFile.TryDelete(path);
            throw;
        }
        var days = ((Apache.Arrow.Date32Array)rows.Column(table.DateColumn)).Values;
        var min = int.MaxValue;
        var max = int.MinValue;
        foreach (var d in days)
        {
            min = Math.Min(min, d);
            max = Math.Max(max, d);
        }
        var file = new DataFile
        {
            Name = name,
            Source = source,
            Band = band,
            Rows = rows.Length,
            Bytes = new FileInfo(path).Length,
            MinSymbol = directory.Symbols[0],
            MaxSymbol = directory.Symbols[^1],
            MinDay = min,
            MaxDay = max,
            Symbols = directory.Symbols.Length,
        };
        return new StagedFile(table, path, file, directory);
    }

    /// <summary>Gives a file written under a temp name its final name (called under the table's writer lock, before the commit).</summary>
    public StagedFile Promote(StagedFile staged)
    {
        var final = StorePath(staged.Table, staged.File.Name);
        if (staged.Path == final)
        {
            return staged;
        }
        File.Move(staged.Path, final);
        return staged with { Path = final };
    }

    /// <summary>
    /// Makes every staged file durable: up to <see cref="FsyncEachUpTo"/> files and their folders with fsync, more with
    /// one syncfs. syncfs flushes everything dirty on the file system, other programs' writes too: a one-row correction
    /// (two files per commit) waited on a compiler's output with it.
    /// </summary>
    public void Sync(IReadOnlyList<StagedFile> files)
    {
        if (files.Count == 0)
        {
            return;
        }
        if (files.Count > FsyncEachUpTo && DurableFile.SyncFileSystem(paths.Root))
        {
            return;
        }
        foreach (var f in files)
        {
            DurableFile.FsyncFile(f.Path);
        }
        foreach (var dir in files.Select(f => System.IO.Path.GetDirectoryName(f.Path)!).Distinct(StringComparer.Ordinal))
        {
            DurableFile.FsyncDirectory(dir);
        }
    }

    /// <summary>True when the table's folder holds exactly the files of <paramref name="state"/> (nothing else).</summary>
    public bool ViewMatches(TableState state)
    {
        var view = paths.LayerTableDir(state.Definition);
        if (!Directory.Exists(view))
        {
            return state.Files.IsEmpty;
        }
        var seen = 0;
        foreach (var entry in Directory.EnumerateFileSystemEntries(view))
        {
            if (!state.Files.ContainsKey(Path.GetFileName(entry)) || Directory.Exists(entry))
            {
                return false;
            }
            seen++;
        }
        return seen == state.Files.Count;
    }

    /// <summary>
    /// Makes the table's folder show exactly <paramref name="state"/>'s files: a folder of hard links to them is made
    /// ready under <c>_metadata/publish/</c> and swapped with the table's folder in one step. The folder made ready is
    /// the table's <em>spare</em>: the view the previous publish swapped out, brought up to date by unlinking the files
    /// that left and linking the ones that came, so a commit costs a link or an unlink per file it changed, not per file
    /// of the table (a 26M-row silver has ~200 files: two of its commits per one-row correction spent ~60 ms there).
    /// After the swap the old view is the next spare; anything in it that is not a store file is moved under
    /// <see cref="DisplacedDir"/>. Called under the table's writer lock (across processes), which also guards the spare.
    /// </summary>
    public void Publish(TableState state)
    {
        var table = state.Definition;
        var view = paths.LayerTableDir(table);
        Directory.CreateDirectory(PublishDir);
        var next = SparePath(table);
        try
        {
            Directory.CreateDirectory(next);
            BringUpToDate(table, next, state.Files);
            if (!Directory.Exists(view))
            {
                Directory.CreateDirectory(Path.GetDirectoryName(view)!);
                Directory.Move(next, view);
                return;
            }
            if (Native.RenameAt2(AtFdCwd, next, AtFdCwd, view, RenameExchange) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno is not (Einval or Enosys))
                {
                    throw new IOException($"could not swap the table's view into place (errno {errno})");
                }
                // A file system without RENAME_EXCHANGE: two renames, with a moment where the folder is absent.
                var old = next + ".old";
                RemoveOldView(table, old);
                Directory.Move(view, old);
                Directory.Move(next, view);
                Directory.Move(old, next);
            }
        }
        catch
        {
            // The spare is rebuilt whole by the next publish.
            RemoveOldView(table, next);
            throw;
        }
        DisplaceForeign(table, next, state.Files);
    }

    /// <summary>The folder the table's next view is made ready in (the view before the current one, kept linked).</summary>
    private string SparePath(TableDefinition table) => Path.Combine(PublishDir, $"spare-{Layers.Name(table.Layer)}_{table.Name}");

    /// <summary>
    /// Makes <paramref name="dir"/> hold a link to each of <paramref name="files"/> and nothing else: links of files that
    /// are not current are removed (names are never reused, so a link with a current name is that file), foreign content
    /// is moved aside, and missing links are made.
    /// </summary>
    private void BringUpToDate(TableDefinition table, string dir, IReadOnlyDictionary<string, DataFile> files)
    {
        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, isDirectory) in Entries(dir))
        {
            if (!isDirectory && files.ContainsKey(name))
            {
                present.Add(name);
                continue;
            }
            RemoveEntry(table, dir, name, isDirectory, files);
        }
        foreach (var name in files.Keys)
        {
            if (!present.Contains(name) && Native.Link(StorePath(table, name), Path.Combine(dir, name)) != 0)
            {
                throw new IOException($"could not link data file {name} into the table's view (errno {Marshal.GetLastPInvokeError()})");
            }
        }
    }

    /// <summary>Moves aside what a former view held that is not a store file (a seed lake's folders), leaving the links.</summary>
    private void DisplaceForeign(TableDefinition table, string dir, IReadOnlyDictionary<string, DataFile> current)
    {
        foreach (var (name, isDirectory) in Entries(dir))
        {
            if (isDirectory || !IsStoreLink(table, name, current))
            {
                RemoveEntry(table, dir, name, isDirectory, current);
            }
        }
    }

    private static List<(string Name, bool Directory)> Entries(string dir) =>
        new System.IO.Enumeration.FileSystemEnumerable<(string Name, bool Directory)>(dir,
            (ref System.IO.Enumeration.FileSystemEntry e) => (e.FileName.ToString(), e.IsDirectory)).ToList();

    /// <summary>A link named as a file of <paramref name="current"/> is one without a look at the store (its file is current, so it is there).</summary>
    private bool IsStoreLink(TableDefinition table, string name, IReadOnlyDictionary<string, DataFile>? current) =>
        name.EndsWith(".parquet", StringComparison.Ordinal) && (current?.ContainsKey(name) == true || File.Exists(StorePath(table, name)));

    /// <summary>Deletes a store file's link, or moves anything else aside under <see cref="DisplacedDir"/>.</summary>
    private void RemoveEntry(TableDefinition table, string dir, string name, bool isDirectory, IReadOnlyDictionary<string, DataFile>? current)
    {
        var entry = Path.Combine(dir, name);
        if (!isDirectory && IsStoreLink(table, name, current))
        {
            DurableFile.TryDelete(entry);
            return;
        }
        var displaced = Path.Combine(DisplacedDir, $"{Layers.Name(table.Layer)}_{table.Name}-{DateTime.UtcNow:yyyyMMddTHHmmssfff}");
        Directory.CreateDirectory(displaced);
        var target = Path.Combine(displaced, name);
        if (isDirectory)
        {
            Directory.Move(entry, target);
        }
        else
        {
            File.Move(entry, target, overwrite: true);
        }
    }

    /// <summary>Deletes a former view's links; moves anything that is not a store file (a seed lake's folders) aside.</summary>
    private void RemoveOldView(TableDefinition table, string dir)
    {
        if (!Directory.Exists(dir))
        {
            return;
        }
        foreach (var (name, isDirectory) in Entries(dir))
        {
            RemoveEntry(table, dir, name, isDirectory, null);
        }
        try
        {
            Directory.Delete(dir);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Deletes a superseded file whose retention ended (vacuum).</summary>
    public long Delete(TableDefinition table, string name)
    {
        var path = StorePath(table, name);
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            return 0;
        }
        var bytes = info.Length;
        File.Delete(path);
        // The spare view may still link it (it was current two publishes ago): its disk space is freed only with that link.
        DurableFile.TryDelete(Path.Combine(SparePath(table), name));
        return bytes;
    }

    /// <summary>
    /// Deletes the table's store files no version names (current or kept for retention): left by a writer that died
    /// before its commit, or whose commit failed; and dead processes' temp files. The caller holds the table's writer
    /// lock, so no writer of any process is between its files and its commit. Returns how many files it deleted.
    /// </summary>
    public int SweepOrphans(TableDefinition table, LakeState state)
    {
        var dir = StoreDir(table);
        if (!Directory.Exists(dir))
        {
            return 0;
        }
        var files = state.Table(table).Files;
        var kept = state.Tombstones.Where(t => t.Table == table.Id).Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var removed = 0;
        foreach (var path in Directory.EnumerateFiles(dir))
        {
            var name = Path.GetFileName(path);
            var orphan = DurableFile.OwnerPid(path) is { } pid
                ? !ProcessLiveness.IsAlive(pid)
                : !files.ContainsKey(name) && !kept.Contains(name);
            if (orphan)
            {
                DurableFile.TryDelete(path);
                removed++;
            }
        }
        return removed;
    }

    /// <summary>Removes the publish folders of dead processes (a crash between building a view and swapping it in).</summary>
    public int SweepPublishFolders(TableCatalog catalog)
    {
        if (!Directory.Exists(PublishDir))
        {
            return 0;
        }
        var removed = 0;
        foreach (var dir in Directory.EnumerateDirectories(PublishDir))
        {
            if (DurableFile.OwnerPid(dir + DurableFile.TempSuffix) is not { } pid || ProcessLiveness.IsAlive(pid))
            {
                continue;
            }
            foreach (var table in catalog.Tables)
            {
                var suffix = $"-{Layers.Name(table.Layer)}_{table.Name}";
                if (dir.EndsWith(suffix, StringComparison.Ordinal) || dir.EndsWith(suffix + ".old", StringComparison.Ordinal))
                {
                    RemoveOldView(table, dir);
                    removed++;
                }
            }
        }
        return removed;
    }

    private static partial class Native
    {
        [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        public static partial int Link(string existing, string created);

        [LibraryImport("libc", EntryPoint = "renameat2", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        public static partial int RenameAt2(int oldDirFd, string oldPath, int newDirFd, string newPath, uint flags);
    }
}
