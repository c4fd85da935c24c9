using System.Diagnostics;
using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// <c>lakehouse migrate --layout lake</c>: a data dir in the seed layout moved to the current one in place, in steps
/// that a crash at any point leaves resumable (the <see cref="MigrationMarker"/> says which step is next):
/// <list type="number">
/// <item><b>commit</b>: per table, the symbols the log does not hold yet are read from their partition files and
/// committed as they are (lineage included) through the store's commit path, operation <c>migrate</c>, a commit per
/// ~<see cref="SeedMigrationOptions.CommitRows"/> rows; table folders are not published (they still show the seed's
/// files, which stay the source of truth until the end);</item>
/// <item><b>verify</b>: per table and symbol, the seed's rows against what the lake reads: counts and a checksum of
/// every value (<see cref="RowChecksum"/>). A mismatch stops here, with nothing moved;</item>
/// <item><b>publish</b>: the seed's folders are moved under <c>_metadata/displaced/seed-&lt;id&gt;/</c> (a seed tree of
/// their own), every table folder is published, the seed copy is deleted (unless kept), and the marker last.</item>
/// </list>
/// </summary>
internal sealed class SeedMigration(LakeStore store, SeedMigrationOptions options, IProgress<LayoutProgress>? progress)
{
    private const string LockKey = "layout-migration";

    private readonly LakePaths _paths = store.Paths;
    private readonly string _runId = LakeStore.NewRunId();

    /// <summary>The seed's rows as read while committing, per table and symbol: verification compares them with the lake without reading the files again.</summary>
    private readonly Dictionary<(string Table, string Symbol), (long Files, RowChecksum Sum)> _seen = [];

    /// <summary>Refuses a data dir that is not a seed lake, before anything is written.</summary>
    public static void CheckStartable(LakePaths paths, TableCatalog catalog)
    {
        if (SeedLayout.HasLog(paths))
        {
            throw LakehouseException.Invalid(
                $"the data dir '{paths.DisplayRoot}' is already in the lake layout (it has a commit log): nothing to migrate "
                + "(`lakehouse export --layout seed --out DIR` writes a copy in the seed layout)");
        }
        if (!SeedLayout.IsSeedLake(paths, catalog))
        {
            throw LakehouseException.Invalid(
                $"the data dir '{paths.DisplayRoot}' holds no lake in the seed layout (no symbol= or source= folder in any table folder): nothing to migrate");
        }
        var journal = Path.Combine(paths.MetadataDir, "journal");
        if (Directory.Exists(journal) && Directory.EnumerateFiles(journal, "*.json").Any(f => DurableFile.OwnerPid(f) is null))
        {
            throw new LakehouseException(LakehouseErrorKind.FailedPrecondition,
                $"the data dir '{paths.DisplayRoot}' holds a commit the version that wrote it did not finish (_metadata/journal): "
                + "open it once with that version (any command, e.g. `lakehouse stats`) so it rolls the commit forward, then migrate");
        }
    }

    public async Task<SeedMigrationResult> RunAsync(bool resumed, CancellationToken cancellationToken)
    {
        var sw = Stopwatch.StartNew();
        await using (await store.Locks.AcquireAsync([LockKey], cancellationToken).ConfigureAwait(false))
        {
            // Under the lock: another run may have finished (or moved on) while this one waited.
            var marker = MigrationMarker.Read(_paths) ?? throw LakehouseException.Invalid(
                $"the data dir '{_paths.DisplayRoot}' is already in the lake layout: another migration finished it");
            IReadOnlyList<SeedTableMigration> tables;
            if (marker.Phase == MigrationMarker.Commit)
            {
                var migrated = new Dictionary<string, long>(StringComparer.Ordinal);
                foreach (var table in store.Catalog.Tables)
                {
                    migrated[table.Id] = await CommitTableAsync(table, cancellationToken).ConfigureAwait(false);
                }
                tables = Verify(migrated, cancellationToken);
                if (!tables.All(t => t.Verified))
                {
                    // Nothing moved: the seed's folders stay the lake, and a re-run verifies again.
                    return Result(resumed, tables, null, 0, sw);
                }
                marker = marker with { Phase = MigrationMarker.Publish, Tables = tables };
                marker.Write(_paths);
                Step("verified");
            }
            else
            {
                tables = marker.Tables;
            }
            var seedCopy = Path.Combine(store.Files.DisplacedDir, "seed-" + marker.Id);
            MoveSeedAside(seedCopy);
            store.PublishViews(cancellationToken);
            Step("published");
            var unrecognised = DeleteSeedCopy(seedCopy);
            if (Directory.Exists(store.Files.DisplacedDir) && !Directory.EnumerateFileSystemEntries(store.Files.DisplacedDir).Any())
            {
                Directory.Delete(store.Files.DisplacedDir);
            }
            Step("deleted");
            MigrationMarker.Delete(_paths);
            return Result(resumed, tables, unrecognised > 0 ? seedCopy : null, unrecognised, sw);
        }
    }

    private SeedMigrationResult Result(bool resumed, IReadOnlyList<SeedTableMigration> tables, string? kept, int unrecognised, Stopwatch sw) =>
        new(_paths.DisplayRoot, store.Metadata.CatchUp().Version, resumed, tables,
            kept is null ? null : Path.Combine(_paths.DisplayRoot, Path.GetRelativePath(_paths.Root, kept)), unrecognised, sw.ElapsedMilliseconds);

    /// <summary>Commits the symbols of one table the lake does not hold yet; returns the rows committed.</summary>
    private async Task<long> CommitTableAsync(TableDefinition table, CancellationToken cancellationToken)
    {
        var root = _paths.Root;
        var committed = store.Metadata.CatchUp().Table(table).SymbolList.ToHashSet(StringComparer.Ordinal);
        var symbols = SeedLayout.Symbols(root, table);
        var sources = SeedLayout.Sources(root, table);
        var batch = new List<(string? Source, string Symbol, RecordBatch Rows)>();
        long pending = 0, total = 0, done = 0;
        progress?.Report(new LayoutProgress("commit", table.Id, 0, symbols.Count, 0));
        foreach (var symbol in symbols)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!committed.Contains(symbol))
            {
                var sum = new RowChecksum();
                long files = 0;
                foreach (var source in sources)
                {
                    var id = new TableId(table, source);
                    var parts = new List<RecordBatch>();
                    foreach (var file in SeedLayout.PartitionFiles(root, id, symbol))
                    {
                        parts.Add(SeedLayout.ReadPartition(root, file, id, symbol));
                        files++;
                    }
                    var rows = parts.Count switch
                    {
                        0 => RecordBatches.Empty(table.Schema),
                        1 => parts[0],
                        _ => ArrowConcat.Concatenate(parts),
                    };
                    if (rows.Length == 0)
                    {
                        continue;
                    }
                    sum.Add(rows);
                    batch.Add((source, symbol, rows));
                    pending += rows.Length;
                }
                _seen[(table.Id, symbol)] = (files, sum);
                // A symbol's sources go into one commit: the log holds a symbol whole or not at all.
                if (pending >= options.CommitRows)
                {
                    total += await CommitAsync(table, batch, pending, cancellationToken).ConfigureAwait(false);
                    pending = 0;
                }
            }
            progress?.Report(new LayoutProgress("commit", table.Id, ++done, symbols.Count, total + pending));
        }
        if (batch.Count > 0)
        {
            total += await CommitAsync(table, batch, pending, cancellationToken).ConfigureAwait(false);
        }
        return total;
    }

    private async Task<long> CommitAsync(TableDefinition table, List<(string? Source, string Symbol, RecordBatch Rows)> batch, long rows,
        CancellationToken cancellationToken)
    {
        await store.CommitMigratedAsync(table, batch, _runId, cancellationToken).ConfigureAwait(false);
        batch.Clear();
        Step("committed:" + table.Id);
        return rows;
    }

    /// <summary>Every table and symbol, seed against lake, at the version all the commits made.</summary>
    private List<SeedTableMigration> Verify(Dictionary<string, long> migrated, CancellationToken cancellationToken)
    {
        var root = _paths.Root;
        var state = store.Metadata.CatchUp();
        var results = new List<SeedTableMigration>();
        foreach (var table in store.Catalog.Tables)
        {
            var seedSymbols = SeedLayout.Symbols(root, table);
            var symbols = seedSymbols.Union(state.Table(table).SymbolList, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
            var sources = SeedLayout.Sources(root, table);
            var checks = new (long Files, RowChecksum Seed, RowChecksum Lake)[symbols.Length];
            long done = 0;
            Parallel.For(0, symbols.Length, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount },
                i =>
                {
                    var symbol = symbols[i];
                    var (files, seed) = _seen.TryGetValue((table.Id, symbol), out var seen) ? seen : ReadSeed(root, table, sources, symbol);
                    var lake = new RowChecksum();
                    lake.Add(store.ReadSymbolAt(state, table, symbol, cancellationToken));
                    checks[i] = (files, seed, lake);
                    progress?.Report(new LayoutProgress("verify", table.Id, Interlocked.Increment(ref done), symbols.Length, 0));
                });
            var seedSum = new RowChecksum();
            var lakeSum = new RowChecksum();
            var mismatches = new List<string>();
            for (var i = 0; i < symbols.Length; i++)
            {
                var (_, seed, lake) = checks[i];
                seedSum.Add(seed);
                lakeSum.Add(lake);
                if (seed.Rows != lake.Rows || seed.Sum != lake.Sum)
                {
                    mismatches.Add($"{symbols[i]}: seed {seed.Rows} row(s) {seed.Hex}, lake {lake.Rows} row(s) {lake.Hex}");
                }
            }
            results.Add(new SeedTableMigration(table.Id, seedSymbols.Count, checks.Sum(c => c.Files), seedSum.Rows, lakeSum.Rows, seedSum.Hex, lakeSum.Hex,
                migrated.GetValueOrDefault(table.Id), mismatches.Take(20).ToArray()));
        }
        return results;
    }

    /// <summary>A symbol's rows in the seed's files (every source), for a symbol committed by an earlier run.</summary>
    private static (long Files, RowChecksum Sum) ReadSeed(string root, TableDefinition table, IReadOnlyList<string?> sources, string symbol)
    {
        var sum = new RowChecksum();
        long files = 0;
        foreach (var source in sources)
        {
            var id = new TableId(table, source);
            foreach (var file in SeedLayout.PartitionFiles(root, id, symbol))
            {
                sum.Add(SeedLayout.ReadPartition(root, file, id, symbol));
                files++;
            }
        }
        return (files, sum);
    }

    /// <summary>
    /// Moves what the table folders hold besides the lake's own files (the seed's <c>source=</c> and <c>symbol=</c>
    /// folders) and the seed engine's metadata (<c>_metadata/compact</c>, <c>_metadata/journal</c>) under
    /// <paramref name="seedCopy"/>, keeping their paths: a seed tree of its own. Idempotent (a re-run moves what is left).
    /// </summary>
    private void MoveSeedAside(string seedCopy)
    {
        var state = store.Metadata.CatchUp();
        foreach (var table in store.Catalog.Tables)
        {
            var dir = _paths.LayerTableDir(table);
            if (!Directory.Exists(dir))
            {
                continue;
            }
            var files = state.Table(table).Files;
            foreach (var entry in Directory.EnumerateFileSystemEntries(dir).ToArray())
            {
                if (File.Exists(entry) && files.ContainsKey(Path.GetFileName(entry)))
                {
                    continue;
                }
                Move(entry, Path.Combine(seedCopy, Path.GetRelativePath(_paths.Root, entry)));
            }
            Step("moved:" + table.Id);
        }
        foreach (var name in new[] { "compact", "journal" })
        {
            var dir = Path.Combine(_paths.MetadataDir, name);
            if (Directory.Exists(dir))
            {
                Move(dir, Path.Combine(seedCopy, "_metadata", name));
            }
        }
        if (Directory.Exists(seedCopy))
        {
            DurableFile.SyncFileSystem(_paths.Root);
        }
    }

    private static void Move(string from, string to)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(to)!);
        for (var n = 1; Path.Exists(to); n++)
        {
            to = $"{to}.{n}";
        }
        if (Directory.Exists(from))
        {
            Directory.Move(from, to);
        }
        else
        {
            File.Move(from, to);
        }
    }

    /// <summary>
    /// Deletes the seed copy's partition files, temp files and the seed engine's metadata, then the folders left empty.
    /// Anything else (a file the seed engine did not write) is kept where it is; returns how many such files.
    /// </summary>
    private static int DeleteSeedCopy(string seedCopy)
    {
        if (!Directory.Exists(seedCopy))
        {
            return 0;
        }
        var metadata = Path.Combine(seedCopy, "_metadata");
        if (Directory.Exists(metadata))
        {
            Directory.Delete(metadata, recursive: true);
        }
        var kept = 0;
        foreach (var file in Directory.EnumerateFiles(seedCopy, "*", SearchOption.AllDirectories).ToArray())
        {
            var name = Path.GetFileName(file);
            var inPartition = Path.GetRelativePath(seedCopy, file).Split(Path.DirectorySeparatorChar)
                .Any(p => p.StartsWith("symbol=", StringComparison.Ordinal));
            if ((name == LakePaths.DataFileName && inPartition) || DurableFile.OwnerPid(file) is not null)
            {
                File.Delete(file);
            }
            else
            {
                kept++;
            }
        }
        foreach (var dir in Directory.EnumerateDirectories(seedCopy, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length).Append(seedCopy))
        {
            if (!Directory.EnumerateFileSystemEntries(dir).Any())
            {
                Directory.Delete(dir);
            }
        }
        return kept;
    }

    /// <summary>
    /// TEST ONLY: with <c>LAKEHOUSE_TEST_MIGRATION_CRASH_AT=&lt;step&gt;</c> in its environment a process SIGKILLs itself
    /// right after that step (<c>committed:&lt;table&gt;</c>, <c>verified</c>, <c>moved:&lt;table&gt;</c>, <c>published</c>,
    /// <c>deleted</c>): the crash tests' deterministic "killed there".
    /// </summary>
    internal const string CrashAtVariable = "LAKEHOUSE_TEST_MIGRATION_CRASH_AT";

    private static readonly string? CrashAt = Environment.GetEnvironmentVariable(CrashAtVariable);

    private static void Step(string step)
    {
        if (CrashAt == step)
        {
            Process.GetCurrentProcess().Kill();
        }
    }
}
