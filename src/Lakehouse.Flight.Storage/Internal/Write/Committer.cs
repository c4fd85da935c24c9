using System.Diagnostics;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// The commit protocol, the same for a write, a compaction and a migration (docs/architecture.md "Writes"):
/// <list type="number">
/// <item>lock the tables written (a semaphore for this process's threads, <c>flock</c> for other processes), in order;</item>
/// <item>catch up with other processes' entries, and stage against that version (<see cref="WriteStaging"/>);</item>
/// <item>write the new data files into the file store (all cores) and make them durable (one <c>syncfs</c>);</item>
/// <item>create the log entry of the next version (put-if-absent): <b>the commit point</b>;</item>
/// <item>make it this process's state and splice the caches, inside the commit sequence (snapshot reads);</item>
/// <item>publish each changed table's folder (one atomic swap), append the manifest lines; both are derived from
/// the entry and redone by the next open or maintenance pass if a crash cuts them short.</item>
/// </list>
/// A failure before the commit point deletes the new files and leaves the lake as it was.
/// </summary>
internal sealed class Committer(LakePaths paths, TableCatalog catalog, LakeMetadata metadata, FileStore files, LakeLocks locks,
    ReadCache cache, ManifestLog manifests, ILogger logger)
{
    /// <summary>
    /// Raised after a commit whose version is due a checkpoint (every <see cref="LakeLog.CheckpointInterval"/>, or after
    /// entries of <see cref="CheckpointWeight"/>), with that version's state.
    /// </summary>
    public event Action<LakeState>? CheckpointDue;

    /// <summary>Bytes a commit may use beyond its files (the entry, manifest lines, folder entries).</summary>
    private const long Margin = StorageFaults.Margin;

    public static string LockKey(TableDefinition table) => $"table-{Layers.Name(table.Layer)}_{table.Name}";

    /// <summary>
    /// False while a lake in the seed layout is migrated: commits leave the table folders (still the seed's month
    /// files, the migration's source) as they are, and the migration publishes every view once all is verified.
    /// </summary>
    public bool PublishViews { get; set; } = true;

    /// <summary>
    /// Runs <paramref name="stage"/> under the writer locks of <paramref name="tables"/> against the latest version and
    /// commits what it staged. Returns the reports with their version (unversioned when nothing changed).
    /// </summary>
    public async Task<IReadOnlyList<StorageReport>> WriteAsync(IReadOnlyCollection<TableDefinition> tables, string operation, string? runId,
        Func<WriteStaging, IReadOnlyList<StorageReport>> stage, CancellationToken cancellationToken)
    {
        // The ready gate: nothing is staged against, or committed over, a partial index.
        await metadata.WaitLoadedAsync(cancellationToken).ConfigureAwait(false);
        var sw = Stopwatch.StartNew();
        await using (await locks.AcquireAsync(tables.Select(LockKey), cancellationToken).ConfigureAwait(false))
        {
            var state = metadata.CatchUp();
            var staging = new WriteStaging(state, cache, files);
            var staged = stage(staging);
            var duration = sw.ElapsedMilliseconds;
            var reports = staged.Select(r => r with { DurationMs = duration }).ToArray();
            if (!staging.HasChanges)
            {
                // Nothing changed: no version, but every write still leaves its manifest lines (refused, as any write,
                // when the disk has not the room for them and the margin).
                var needed = reports.Sum(r => (long)r.ToJson().Length + 1) + Margin;
                if (StorageFaults.FreeBytes(paths.Root) is { } free && free < needed)
                {
                    throw StorageFaults.DiskFull(needed, free);
                }
                AppendManifests(reports, throwOnFailure: true);
                return reports;
            }
            var entry = Commit(staging, operation, runId, reports, cancellationToken);
            StorageLog.Committed(logger, string.Join(",", staging.ChangedTables.Select(t => t.Id)), reports.Length, entry.Tables.Sum(t => t.Add.Count), entry.Version,
                sw.ElapsedMilliseconds);
            return entry.Reports;
        }
    }

    /// <summary>Files, entry, state, views, manifests (called under the locks).</summary>
    private LogEntry Commit(WriteStaging staging, string operation, string? runId, IReadOnlyList<StorageReport> reports, CancellationToken cancellationToken)
    {
        List<StagedFile> written = [];
        LogEntry committed;
        LakeState state;
        try
        {
            CheckSpace(staging);
            (written, var replaced) = staging.WriteFiles(cancellationToken);
            staging.CheckPlaced();
            files.Sync(written);
            var changes = staging.ChangedTables.Select(t => new TableChange
            {
                Table = t.Id,
                Add = written.Where(f => f.Table == t).Select(f => f.File).ToArray(),
                Remove = replaced.Where(r => r.Table == t).Select(r => r.Name).ToArray(),
                Symbols = staging.ChangedSymbols(t),
            }).ToArray();
            foreach (var f in written)
            {
                metadata.Directories.Put(f.Table, f.File, f.Directory);
            }
            var entry = new LogEntry
            {
                Ts = DateTimeOffset.UtcNow,
                Operation = operation,
                RunId = runId,
                Tables = changes,
                Reports = reports,
            };
            // The commit point: once this returns the write is committed (and its files must stay).
            (committed, state) = metadata.Commit(entry, next => SpliceCaches(staging.Changes, next.Version));
        }
        catch (Exception ex)
        {
            foreach (var f in written)
            {
                DurableFile.TryDelete(f.Path);
            }
            if (StorageFaults.Translate(ex, EstimatedBytes(staging), paths.Root) is { } user)
            {
                throw user;
            }
            throw;
        }
        AfterCommit(committed, state);
        return committed;
    }

    /// <summary>Our changes into the caches; a failure there drops the symbols instead (the caches must never hold an older row).</summary>
    private void SpliceCaches(IReadOnlyList<SymbolChange> changes, long version)
    {
        try
        {
            cache.Committed(changes, version);
        }
        catch (Exception ex)
        {
            StorageLog.CacheSpliceFailed(logger, ex.Message);
            foreach (var c in changes)
            {
                cache.Invalidate(c.Table, c.Symbol, version);
            }
        }
    }

    /// <summary>
    /// Commits a change of files whose rows stay the same (a compaction): only the listed tables' files change; the
    /// caches keep their entries. False when a file it replaces is gone already (a write rewrote it meanwhile).
    /// </summary>
    public async Task<LogEntry?> ReplaceFilesAsync(TableDefinition table, IReadOnlyList<StagedFile> written, IReadOnlyList<string> replaced,
        string operation, CancellationToken cancellationToken)
    {
        await using (await locks.AcquireAsync([LockKey(table)], cancellationToken).ConfigureAwait(false))
        {
            var state = metadata.CatchUp();
            var current = state.Table(table).Files;
            if (replaced.Any(name => !current.ContainsKey(name)))
            {
                return null;
            }
            written = written.Select(files.Promote).ToArray();
            files.Sync(written);
            foreach (var f in written)
            {
                metadata.Directories.Put(f.Table, f.File, f.Directory);
            }
            var entry = new LogEntry
            {
                Ts = DateTimeOffset.UtcNow,
                Operation = operation,
                Tables = [new TableChange { Table = table.Id, Add = written.Select(f => f.File).ToArray(), Remove = replaced }],
            };
            var (committed, next) = metadata.Commit(entry, null);
            AfterCommit(committed, next);
            return committed;
        }
    }

    /// <summary>After the commit point: the views and manifests (failures are logged; a repair redoes them), the checkpoint when due.</summary>
    private void AfterCommit(LogEntry entry, LakeState state)
    {
        foreach (var change in PublishViews ? entry.Tables : [])
        {
            if (catalog.Tables.FirstOrDefault(t => t.Id == change.Table) is not { } table)
            {
                continue;
            }
            try
            {
                files.Publish(state.Table(table));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                StorageLog.PublishPending(logger, table.Id, entry.Version, ex.Message);
            }
        }
        if (AppendManifests(entry.Reports, throwOnFailure: false, entry.ReportLines))
        {
            metadata.Log.AdvanceManifestsThrough(entry.Version);
        }
        Interlocked.Add(ref _sinceCheckpoint, CheckpointWeightOf(entry));
        if (entry.Version % LakeLog.CheckpointInterval == 0 || TakeHeavyWeight())
        {
            CheckpointDue?.Invoke(state);
        }
    }

    /// <summary>
    /// What an open replays of the entries this process committed since its last checkpoint (<see cref="CheckpointWeightOf"/>).
    /// A checkpoint is due every <see cref="LakeLog.CheckpointInterval"/> versions and also once this passes
    /// <see cref="CheckpointWeight"/>: a day of 20,000 symbols is two entries naming 80,000 symbols, and an open after 93 of
    /// them spent 0.9 s reading their heads before it could listen.
    /// </summary>
    private long _sinceCheckpoint;

    /// <summary>
    /// Whether the weight since the last checkpoint has passed <see cref="CheckpointAfter"/>; if so it is reset, by one
    /// thread only (commits of different tables finish at once), so one checkpoint is due for it and no weight added meanwhile is lost.
    /// </summary>
    private bool TakeHeavyWeight()
    {
        while (true)
        {
            var seen = Volatile.Read(ref _sinceCheckpoint);
            if (seen < CheckpointAfter)
            {
                return false;
            }
            if (Interlocked.CompareExchange(ref _sinceCheckpoint, 0, seen) == seen)
            {
                return true;
            }
        }
    }

    /// <summary>The weight after which a checkpoint is due (<see cref="CheckpointWeight"/> unless a test sets less).</summary>
    public long CheckpointAfter { get; set; } = CheckpointWeight;

    /// <summary>About five such entries (an open replays their heads in ~50 ms); a checkpoint of that lake is ~1.4 MB.</summary>
    internal const long CheckpointWeight = 200_000;

    /// <summary>An entry's share of an open's replay: each symbol named, and each file added or removed as 20 (its statistics).</summary>
    internal static long CheckpointWeightOf(LogEntry entry) =>
        entry.Tables.Sum(t => (long)t.Symbols.Count + (20L * (t.Add.Count + t.Remove.Count)));

    /// <summary>
    /// Appends the reports' manifest lines (<paramref name="lines"/>: their JSON, made already); false when some could
    /// not be (committed: a repair appends them).
    /// </summary>
    private bool AppendManifests(IReadOnlyList<StorageReport> reports, bool throwOnFailure, IReadOnlyList<string>? lines = null)
    {
        if (lines is null || lines.Count != reports.Count)
        {
            lines = LakeMetadata.ReportLines(reports);
        }
        // Each manifest's lines in the reports' order, the manifests in the order first met; a manifest's path made once
        // per table (40,000 reports a day name four tables).
        var byTable = new Dictionary<(string Layer, string Table), List<string>>();
        var byFile = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var files = new List<string>();
        for (var i = 0; i < reports.Count; i++)
        {
            var key = (reports[i].Layer, reports[i].Table);
            if (!byTable.TryGetValue(key, out var group))
            {
                var file = paths.ManifestFile(Layers.Parse(key.Layer), key.Table);
                if (!byFile.TryGetValue(file, out group))
                {
                    byFile[file] = group = [];
                    files.Add(file);
                }
                byTable[key] = group;
            }
            group.Add(lines[i]);
        }
        var all = true;
        foreach (var file in files)
        {
            try
            {
                manifests.Append(file, byFile[file]);
            }
            catch (Exception ex) when (!throwOnFailure && ex is IOException or UnauthorizedAccessException)
            {
                // Committed: the lines are in the log entry and the next repair appends them.
                StorageLog.ApplyPending(logger, ex.Message);
                all = false;
            }
            catch (Exception ex) when (throwOnFailure && StorageFaults.Translate(ex, 0, paths.Root) is { } user)
            {
                throw user;
            }
        }
        return all;
    }

    /// <summary>Refuses before anything is written what the disk cannot hold (statvfs; an estimate from the rows).</summary>
    private void CheckSpace(WriteStaging staging)
    {
        var needed = EstimatedBytes(staging);
        if (StorageFaults.FreeBytes(paths.Root) is { } free && free < needed)
        {
            throw StorageFaults.DiskFull(needed, free);
        }
    }

    private static long EstimatedBytes(WriteStaging staging) => staging.EstimatedFileBytes + Margin;
}
