using System.Diagnostics;
using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// Makes a write of any tables all-or-nothing across files and processes, whatever the rows are:
/// lock every (table, symbol) in ordinal order, roll forward dead writers' journals, catch up with
/// other processes' commits, let the caller stage partition batches, write them to temp files
/// (concurrently, so the fsyncs overlap), commit the journal (the commit point), rename, append the
/// manifest lines, then update the index and the read cache. See docs/architecture.md "Writes".
/// </summary>
internal sealed class CommitPipeline(
    LakePaths paths, LakeLocks locks, Journal journal, PartitionIndex index, ReadCache cache, ChangeFeed changes,
    Func<IDisposable> recoveryLock, CommitSequence snapshot, ILogger logger)
{
    /// <summary>Concurrent temp-file writes: more than the cores, since each mostly waits for its fsync.</summary>
    internal const int FsyncParallelism = 8;

    /// <summary>
    /// From this many files on, a commit syncs the file system once (syncfs) instead of each file and
    /// folder: a bulk commit of thousands of month files pays one flush, and a 100-row landing of ten
    /// files 3 ms instead of 28 (docs/decisions.md D24).
    /// </summary>
    internal const int GroupSyncFiles = 2;

    /// <summary>
    /// Runs <paramref name="stage"/> under the locks of <paramref name="lockKeys"/> and commits what it
    /// staged with the manifest lines of the reports it returns. A failure before the journal leaves
    /// the lake as it was (temp files are deleted).
    /// </summary>
    public async Task<IReadOnlyList<StorageReport>> CommitAsync(IReadOnlyCollection<TableDefinition> tables, IEnumerable<string> lockKeys,
        Func<Staging, IReadOnlyList<StorageReport>> stage, CancellationToken cancellationToken)
    {
        // The ready gate (D25): no write is staged against, or added to, a partial index.
        if (!index.IsLoaded)
        {
            await index.Loaded.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        var sw = Stopwatch.StartNew();
        var staging = new Staging(paths, cache);
        var files = new List<StagedFile>();
        long needed = 0;
        var applying = false;
        IReadOnlyList<StorageReport> reports;
        await using (await locks.AcquireAsync(lockKeys, cancellationToken).ConfigureAwait(false))
        {
            try
            {
                RecoverDeadJournals();
                foreach (var t in tables)
                {
                    changes.Poll(t);
                }
                var staged = stage(staging);
                var duration = sw.ElapsedMilliseconds;
                reports = staged.Select(r => r with { DurationMs = duration }).ToArray();
                var manifests = reports
                    .GroupBy(r => paths.ManifestFile(Layers.Parse(r.Layer), r.Table))
                    .Select(g => new ManifestAppend(g.Key, g.Select(r => r.ToJson()).ToArray()))
                    .ToList();
                var encoded = Encode(staging.Partitions);
                needed = encoded.Sum(e => (long)e.Length) + manifests.Sum(m => m.Lines.Sum(l => (long)l.Length + 1)) + StorageFaults.Margin;
                // Refuse before the commit point what the disk cannot hold: a full disk then leaves the lake as it was.
                if (StorageFaults.FreeBytes(paths.Root) is { } free && free < needed)
                {
                    throw StorageFaults.DiskFull(needed, free);
                }
                WriteTempFiles(paths.Root, staging.Partitions, encoded, files);
                // Readers that resolve their data while this commit applies (renames, index, cache) see the
                // sequence move and resolve again, so none sees some of its symbols before it and others after.
                snapshot.BeginApply();
                applying = true;
                // Past this call the write is committed: a crash from here on is rolled forward.
                if (!journal.Commit(files, manifests, out var applyFailure))
                {
                    // Committed, and the files are in place; the manifest lines follow when the disk allows
                    // (the journal is rolled forward by the next commit or the next start).
                    StorageLog.ApplyPending(logger, applyFailure!.Message);
                }
            }
            catch (Exception ex)
            {
                if (applying)
                {
                    snapshot.EndApply();
                    applying = false;
                }
                foreach (var f in files)
                {
                    DurableFile.TryDelete(f.Temp);
                }
                RemoveEmptyFolders(staging.Partitions);
                if (StorageFaults.Translate(ex, needed, paths.Root) is { } user)
                {
                    throw user;
                }
                throw;
            }
            try
            {
                foreach (var p in staging.Partitions)
                {
                    index.Add(p.Table, p.Key);
                }
                cache.Committed(staging.Partitions);
            }
            finally
            {
                snapshot.EndApply();
            }
        }
        StorageLog.Committed(logger, string.Join(",", tables.Select(t => t.Id)), reports.Count, files.Count, sw.ElapsedMilliseconds);
        return reports;
    }

    /// <summary>Applies journals left by writers that died (called under the writer locks).</summary>
    public void RecoverDeadJournals()
    {
        if (!Directory.Exists(paths.JournalDir) || !Directory.EnumerateFileSystemEntries(paths.JournalDir, "*.json").Any())
        {
            return;
        }
        using (recoveryLock())
        {
            foreach (var m in journal.Recover())
            {
                changes.Refresh(m.File, m.Lines);
            }
        }
    }

    /// <summary>Encodes every staged partition (all cores): the bytes are known before anything touches the disk.</summary>
    private static byte[][] Encode(IReadOnlyList<StagedPartition> partitions)
    {
        var encoded = new byte[partitions.Count][];
        Parallel.For(0, encoded.Length, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            i => encoded[i] = ParquetFiles.Encode(partitions[i].Batch));
        return encoded;
    }

    /// <summary>Writes every encoded partition to its temp file; the files are independent, so their fsyncs overlap.</summary>
    private static void WriteTempFiles(string root, IReadOnlyList<StagedPartition> partitions, byte[][] encoded, List<StagedFile> files)
    {
        var staged = new StagedFile?[partitions.Count];
        // Many files: written unsynced, then one syncfs makes them all durable before the journal commits.
        var group = staged.Length >= GroupSyncFiles && OperatingSystem.IsLinux();
        try
        {
            if (staged.Length == 1)
            {
                staged[0] = WriteOne(0);
            }
            else
            {
                Parallel.For(0, staged.Length, new ParallelOptions { MaxDegreeOfParallelism = group ? Environment.ProcessorCount : FsyncParallelism },
                    i => staged[i] = WriteOne(i));
            }
            if (group && !DurableFile.SyncFileSystem(root))
            {
                foreach (var f in staged)
                {
                    DurableFile.FsyncFile(f!.Temp);
                }
            }
        }
        finally
        {
            // Whatever got written is known to the caller, so a failure deletes it.
            files.AddRange(staged.Where(f => f is not null)!);
        }

        StagedFile WriteOne(int i) => new(DurableFile.WriteTemp(partitions[i].Path, s => s.Write(encoded[i]), flushToDisk: !group), partitions[i].Path);
    }

    /// <summary>Folders a failed write created for new partitions (<c>year=/month=</c>) are removed again while empty.</summary>
    private void RemoveEmptyFolders(IReadOnlyList<StagedPartition> partitions)
    {
        foreach (var dir in partitions.Select(p => Path.GetDirectoryName(p.Path)!).Distinct(StringComparer.Ordinal))
        {
            var current = dir;
            while (current.Length > paths.Root.Length && current.StartsWith(paths.Root, StringComparison.Ordinal))
            {
                try
                {
                    if (!Directory.Exists(current) || Directory.EnumerateFileSystemEntries(current).Any())
                    {
                        break;
                    }
                    Directory.Delete(current);
                }
                catch (IOException)
                {
                    break;
                }
                catch (UnauthorizedAccessException)
                {
                    break;
                }
                current = Path.GetDirectoryName(current)!;
            }
        }
    }
}

/// <summary>What a write stages inside <see cref="CommitPipeline.CommitAsync"/>: new partition batches, read against current files.</summary>
internal sealed class Staging(LakePaths paths, ReadCache cache)
{
    private readonly List<StagedPartition> _partitions = [];

    public IReadOnlyList<StagedPartition> Partitions => _partitions;

    /// <summary>The partition's rows as they are on disk now (null when it does not exist yet).</summary>
    public RecordBatch? Current(TableId table, PartitionKey key) => cache.LoadForWrite(table, key);

    public void Stage(TableId table, PartitionKey key, RecordBatch batch) =>
        _partitions.Add(new StagedPartition(table, key, paths.PartitionFile(table, key), batch));
}
