using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Storage;

/// <summary>What one compaction pass did: files merged, files written, their rows and bytes, merges given up because a write replaced a file first.</summary>
public sealed record CompactionResult(int FilesIn, int FilesOut, long Rows, long Bytes, long Conflicts, long Ms);

/// <summary>What a vacuum deleted: superseded files whose retention had ended, and their bytes; <see cref="Pinned"/>: those kept for snapshots.</summary>
public sealed record VacuumResult(int Files, long Bytes, long Version)
{
    /// <summary>Superseded files past their retention kept because a snapshot pins a version that needs them.</summary>
    public int Pinned { get; init; }
}

public sealed partial class LakeStore
{
    private readonly SemaphoreSlim _maintenanceGate = new(1, 1);

    /// <summary>
    /// One compaction pass (docs/decisions.md D35, D52): merges files by tier, four of about one size (small files) or of
    /// one run length (full files holding the same symbols) at a time, and a closed band's files into files of the
    /// band, into files of about 128K rows cut by symbol; plans again after a round that merged. Rows are unchanged (one
    /// commit per merge, operation <c>compact</c>); takes no writer lock while it reads and encodes. One pass at a time.
    /// </summary>
    public CompactionResult Compact(TableDefinition? table = null, CancellationToken cancellationToken = default) =>
        CompactAsync(table, cancellationToken).GetAwaiter().GetResult();

    public async Task<CompactionResult> CompactAsync(TableDefinition? table = null, CancellationToken cancellationToken = default)
    {
        await _metadata.WaitLoadedAsync(cancellationToken).ConfigureAwait(false);
        await _maintenanceGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _metadata.Poll();
            return await new Compactor(Catalog, _metadata, _files, _committer, _logger).CompactAsync(table, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _maintenanceGate.Release();
        }
    }

    /// <summary>
    /// Deletes superseded data files whose retention (<see cref="StoreOptions.Retention"/>, or <paramref name="retention"/>)
    /// has ended, and commits a <c>vacuum</c> entry naming them so every process forgets them. Crash-safe: a file is
    /// deleted only after the entry that expires it is committed (a crash in between leaves orphans the sweep removes).
    /// </summary>
    public async Task<VacuumResult> VacuumAsync(TimeSpan? retention = null, CancellationToken cancellationToken = default)
    {
        await _metadata.WaitLoadedAsync(cancellationToken).ConfigureAwait(false);
        await _maintenanceGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        // Under the snapshots lock: a snapshot being created checks its versions readable under it (LakeStore.Versions.cs).
        IAsyncDisposable? snapshotsLock = null;
        try
        {
            var state = _metadata.CatchUp();
            var cutoff = DateTimeOffset.UtcNow - (retention ?? Options.Retention);
            if (!state.Tombstones.Any(t => t.RemovedTs <= cutoff))
            {
                return new VacuumResult(0, 0, state.Version);
            }
            snapshotsLock = await _locks.AcquireAsync([SnapshotFiles.LockKey], cancellationToken).ConfigureAwait(false);
            state = _metadata.CatchUp();
            var pinned = PinnedFiles();
            var due = state.Tombstones.Where(t => t.RemovedTs <= cutoff).ToArray();
            var expired = due.Where(t => !pinned.Contains(t.Table + "/" + t.Name)).ToArray();
            if (expired.Length == 0)
            {
                return new VacuumResult(0, 0, state.Version) { Pinned = due.Length };
            }
            var entry = new LogEntry
            {
                Ts = DateTimeOffset.UtcNow,
                Operation = "vacuum",
                Expired = expired.Select(t => t.Table + "/" + t.Name).ToArray(),
            };
            var (committed, _) = _metadata.Commit(entry, null);
            // No reports: nothing for a repair to compare, so the record of complete manifests moves past it.
            _metadata.Log.AdvanceManifestsThrough(committed.Version);
            long bytes = 0;
            foreach (var t in expired)
            {
                if (Catalog.Tables.FirstOrDefault(d => d.Id == t.Table) is { } def)
                {
                    bytes += _files.Delete(def, t.Name);
                    _metadata.Directories.Forget(def.Id, t.Name);
                }
            }
            StorageLog.Vacuumed(_logger, expired.Length, bytes);
            return new VacuumResult(expired.Length, bytes, committed.Version) { Pinned = due.Length - expired.Length };
        }
        finally
        {
            if (snapshotsLock is not null)
            {
                await snapshotsLock.DisposeAsync().ConfigureAwait(false);
            }
            _maintenanceGate.Release();
        }
    }

    /// <summary>
    /// Finishes what writers that died after their commit point left: table folders that do not show the current
    /// version are published again, and manifest lines missing for the entries since the newest checkpoint are
    /// appended (recorded first for the follow-up gold rebuild, <see cref="RecoveredCommits"/>); then data files no
    /// version names (a writer that died before its commit) are deleted. Each table under its writer lock, so a live
    /// writer is never overtaken. Runs at open (before it returns) and in the server's maintenance passes.
    /// Returns how many commits it finished.
    /// </summary>
    public Task<int> RepairAsync(CancellationToken cancellationToken = default) => Task.Run(() => Repair(cancellationToken), cancellationToken);

    private int Repair(CancellationToken cancellationToken)
    {
        if (!_layoutMigration)
        {
            // A migration from the seed layout publishes the views itself, once every table is verified.
            RepublishViews(cancellationToken);
        }
        var finished = 0;
        var log = _metadata.Log;
        var latest = _metadata.Latest().Version;
        var from = log.LastCheckpointVersion() + 1;
        // Entries up to the version recorded as having all their lines are left alone (D48): a repair checks each entry
        // after it (under the tables' locks when lines are missing, so a writer between its commit point and its manifest
        // lines finishes or dies first), so everything up to the latest it saw has its lines. A record ahead of the log
        // (a lake copied while it was written) is not believed, and is rewritten.
        var through = log.ManifestsThrough();
        var ahead = through > latest;
        var checkedFrom = ahead ? from : Math.Max(from, through + 1);
        // Each manifest's lines of the versions since the checkpoint, read once from its end (lines are appended in
        // version order under the tables' locks; a repair appends a dead writer's lines later, still after the checkpoint).
        // From the checkpoint, not from the record: a repaired entry's lines follow later versions' lines, and a read
        // back to the record could stop at them before it reached lines it compares.
        var present = new Dictionary<string, Dictionary<long, HashSet<string>>>(StringComparer.Ordinal);
        for (var v = checkedFrom; v <= latest; v++)
        {
            if (!log.Exists(v))
            {
                continue;
            }
            var entry = log.Read(v);
            if (entry.Reports.Count == 0 || MissingLines(entry, present, from).Count == 0)
            {
                continue;
            }
            var tables = entry.Tables.Select(c => Catalog.Tables.FirstOrDefault(t => t.Id == c.Table)).OfType<TableDefinition>().ToArray();
            using (Lock(tables, cancellationToken))
            {
                // Again under the locks, from the files as they are now (the writer may have finished meanwhile).
                present.Clear();
                var missing = MissingLines(entry, present, from);
                if (missing.Count == 0)
                {
                    continue;
                }
                RecordRecovered(entry);
                foreach (var (file, lines) in missing)
                {
                    _manifests.Append(file, lines);
                }
                present.Clear();
                finished++;
            }
        }
        if (latest >= checkedFrom || ahead)
        {
            try
            {
                log.RepairedManifestsThrough(latest, ahead);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A hint: a lake that cannot take it (read-only, full) is checked from the checkpoint next time.
            }
        }
        // Bound what the next open reads: a process that exits right after its commits (the CLI) never ran the
        // background checkpoint, so one is written here once the entries since the last are many, or heavy.
        var heavy = _metadata.TakeReplayedWeight() >= Options.CheckpointWeight;
        if ((latest - from + 1 >= LakeLog.CheckpointInterval || heavy) && _metadata.Unindexed.Version >= from && _metadata.Unindexed.Version <= latest)
        {
            log.WriteCheckpoint(_metadata.Unindexed.ToCheckpoint());
        }
        if (finished > 0)
        {
            StorageLog.Recovered(_logger, finished, 0);
        }
        return finished;
    }

    /// <summary>Publishes each table folder that does not show the latest version's files, under the table's writer lock.</summary>
    private void RepublishViews(CancellationToken cancellationToken)
    {
        foreach (var table in Catalog.Tables)
        {
            if (_files.ViewMatches(_metadata.Latest().Table(table)))
            {
                continue;
            }
            using (Lock([table], cancellationToken))
            {
                var current = _metadata.Latest().Table(table);
                if (!_files.ViewMatches(current))
                {
                    _files.Publish(current);
                    StorageLog.Republished(_logger, table.Id, current.Version);
                }
            }
        }
    }

    /// <summary>Deletes the data files no version names and dead writers' temp files, each table under its writer lock.</summary>
    private int SweepOrphans(CancellationToken cancellationToken)
    {
        var removed = 0;
        foreach (var table in Catalog.Tables)
        {
            if (!Directory.Exists(_files.StoreDir(table)))
            {
                continue;
            }
            using (Lock([table], cancellationToken))
            {
                removed += _files.SweepOrphans(table, _metadata.Latest());
            }
        }
        removed += _files.SweepPublishFolders(Catalog);
        foreach (var dir in new[] { Paths.LogDir, Summaries.Dir, Paths.GoldReportsDir, Paths.ManifestDir, Snapshots.Dir })
        {
            if (!Directory.Exists(dir))
            {
                continue;
            }
            foreach (var temp in Directory.EnumerateFiles(dir, DurableFile.TempPrefix + "*"))
            {
                if (DurableFile.OwnerPid(temp) is { } pid && !ProcessLiveness.IsAlive(pid))
                {
                    DurableFile.TryDelete(temp);
                    removed++;
                }
            }
        }
        return removed;
    }

    private IDisposable Lock(IEnumerable<TableDefinition> tables, CancellationToken cancellationToken)
    {
        var held = _locks.AcquireAsync(tables.Select(LockKey), cancellationToken).GetAwaiter().GetResult();
        return new Releaser(held);
    }

    private sealed class Releaser(IAsyncDisposable held) : IDisposable
    {
        public void Dispose() => held.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <summary>
    /// The manifest lines of <paramref name="entry"/> that its manifests do not hold, per file: exact, from the lines of
    /// versions since <paramref name="from"/> (read once per file into <paramref name="present"/>).
    /// </summary>
    private List<(string File, string[] Lines)> MissingLines(LogEntry entry, Dictionary<string, Dictionary<long, HashSet<string>>> present, long from)
    {
        var missing = new List<(string, string[])>();
        foreach (var group in entry.Reports.GroupBy(r => Paths.ManifestFile(Layers.Parse(r.Layer), r.Table)))
        {
            if (!present.TryGetValue(group.Key, out var byVersion))
            {
                byVersion = ManifestLog.LinesSince(group.Key, from);
                present[group.Key] = byVersion;
            }
            var held = byVersion.GetValueOrDefault(entry.Version);
            var lines = group.Select(r => r.ToJson()).Where(l => held is null || !held.Contains(l)).ToArray();
            if (lines.Length > 0)
            {
                missing.Add((group.Key, lines));
            }
        }
        return missing;
    }
}
