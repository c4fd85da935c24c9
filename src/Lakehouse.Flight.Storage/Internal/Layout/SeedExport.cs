using System.Diagnostics;
using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// <c>lakehouse export --layout seed</c>: the lake at one version written as the seed engine stored it. Per table and
/// symbol (on all cores; a symbol's rows at a time in memory), the rows are read through the read path, cut into
/// partitions (<see cref="TableDefinition.PartitionOf"/>, and per source for per-source tables), put in key order
/// (then source and landing order, as <see cref="UpsertMerge.Combine"/> orders bronze) and encoded with
/// <see cref="SeedFiles"/>, into a temp folder beside the target; one <c>syncfs</c>, then the folder is renamed to
/// the target, so the target is either absent (or empty) or a complete export.
/// </summary>
internal sealed class SeedExport(LakeStore store, IProgress<LayoutProgress>? progress)
{
    public SeedExportResult Run(string outDir, CancellationToken cancellationToken)
    {
        var sw = Stopwatch.StartNew();
        var target = CheckTarget(outDir);
        // Written into a folder beside the target and renamed into place last: a folder named --out is always a
        // complete export, and an export cut short leaves only the temp folder (the next export to the same --out deletes it).
        var root = DurableFile.TempPathFor(target);
        RemoveDeadExports(target);
        Directory.CreateDirectory(root);
        try
        {
            var state = store.Metadata.CatchUp();
            var results = new List<SeedTableExport>();
            foreach (var table in store.Catalog.Tables)
            {
                results.Add(ExportTable(state, table, root, cancellationToken));
            }
            var manifests = CopyFiles(store.Paths.ManifestDir, Path.Combine(root, "_metadata", "manifests"), "*.jsonl");
            var reports = CopyFiles(store.Paths.GoldReportsDir, Path.Combine(root, "gold", "reports"), "*.csv");
            Sync(root);
            if (Directory.Exists(target))
            {
                // Checked empty above; an entry created since makes this throw rather than be replaced.
                Directory.Delete(target);
            }
            Directory.Move(root, target);
            DurableFile.FsyncDirectory(Path.GetDirectoryName(target)!);
            return new SeedExportResult(outDir, state.Version, results, manifests, reports, sw.ElapsedMilliseconds);
        }
        catch
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
            }
            throw;
        }
    }

    /// <summary>The export's folder (absolute), refused when it is a file, is not empty, or overlaps the data dir.</summary>
    private string CheckTarget(string outDir)
    {
        if (string.IsNullOrWhiteSpace(outDir))
        {
            throw LakehouseException.Invalid("name the folder to export into: --out DIR");
        }
        var root = Path.GetFullPath(outDir).TrimEnd(Path.DirectorySeparatorChar);
        var lake = store.Paths.Root;
        if (Within(root, lake) || Within(lake, root))
        {
            throw LakehouseException.Invalid(
                $"the export folder '{outDir}' {(Within(root, lake) ? "is inside" : "holds")} the data dir '{store.Paths.DisplayRoot}': export into a folder of its own");
        }
        if (File.Exists(root))
        {
            throw LakehouseException.Invalid($"--out '{outDir}' is a file: name a new or empty folder to export into");
        }
        if (Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any())
        {
            throw LakehouseException.Invalid($"--out '{outDir}' is not empty: export into a new or empty folder (nothing was written)");
        }
        var parent = Path.GetDirectoryName(root);
        if (parent is null)
        {
            throw LakehouseException.Invalid($"--out '{outDir}' is a file system's root: name a folder to export into");
        }
        Directory.CreateDirectory(parent);
        return root;
    }

    /// <summary>Deletes the temp folders of exports to <paramref name="target"/> whose process died (killed before its rename).</summary>
    private static void RemoveDeadExports(string target)
    {
        var suffix = "-" + Path.GetFileName(target) + DurableFile.TempSuffix;
        foreach (var dir in Directory.EnumerateDirectories(Path.GetDirectoryName(target)!, DurableFile.TempPrefix + "*" + suffix))
        {
            if (DurableFile.OwnerPid(dir) is { } pid && !ProcessLiveness.IsAlive(pid))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    private static bool Within(string path, string dir)
    {
        var d = dir.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        return string.Equals(path.TrimEnd(Path.DirectorySeparatorChar), dir.TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal)
            || path.StartsWith(d, StringComparison.Ordinal);
    }

    private SeedTableExport ExportTable(LakeState state, TableDefinition table, string root, CancellationToken cancellationToken)
    {
        var symbols = state.Table(table).SymbolList;
        long partitions = 0, rows = 0, bytes = 0, done = 0;
        progress?.Report(new LayoutProgress("export", table.Id, 0, symbols.Count, 0));
        Parallel.ForEach(symbols, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount },
            symbol =>
            {
                var batch = store.ReadSymbolAt(state, table, symbol, cancellationToken);
                var (p, b) = WriteSymbol(root, table, symbol, batch);
                Interlocked.Add(ref partitions, p);
                Interlocked.Add(ref bytes, b);
                var total = Interlocked.Add(ref rows, batch.Length);
                progress?.Report(new LayoutProgress("export", table.Id, Interlocked.Increment(ref done), symbols.Count, total));
            });
        return new SeedTableExport(table.Id, symbols.Count, partitions, rows, bytes);
    }

    /// <summary>One symbol's rows as partition files: returns how many files and bytes.</summary>
    private static (long Files, long Bytes) WriteSymbol(string root, TableDefinition table, string symbol, RecordBatch rows)
    {
        var days = ((Date32Array)rows.Column(table.DateColumn)).Values;
        var sources = table.PerSource ? (StringArray)rows.Column(TableDefinition.SourceColumn) : null;
        var parts = new Dictionary<(string Source, int Year, int Month), List<RowRef>>();
        for (var r = 0; r < rows.Length; r++)
        {
            var (year, month) = table.PartitionOf(DateOnly.FromDayNumber(ArrowRows.UnixEpochDay + days[r]));
            var key = (sources?.GetString(r) ?? "", year, month);
            if (!parts.TryGetValue(key, out var picks))
            {
                parts[key] = picks = [];
            }
            picks.Add(new RowRef(0, r));
        }
        long bytes = 0;
        foreach (var ((source, year, month), picks) in parts)
        {
            var partition = ArrowRows.Take(table.Schema, [rows], picks.ToArray());
            // Key order, then source and landing order (bronze): the order the seed engine's merges left in its files.
            partition = UpsertMerge.Combine(table, [partition]);
            var path = LakePaths.SeedPartitionFile(root, new TableId(table, table.PerSource ? source : null), new PartitionKey(symbol, year, month));
            bytes += SeedLayout.WritePartition(path, partition);
        }
        return (parts.Count, bytes);
    }

    /// <summary>Copies the files of <paramref name="from"/> matching <paramref name="pattern"/> (not temp files) into <paramref name="to"/>; returns how many.</summary>
    private static int CopyFiles(string from, string to, string pattern)
    {
        if (!Directory.Exists(from))
        {
            return 0;
        }
        var copied = 0;
        foreach (var file in Directory.EnumerateFiles(from, pattern).Where(f => !Path.GetFileName(f).StartsWith(DurableFile.TempPrefix, StringComparison.Ordinal)))
        {
            Directory.CreateDirectory(to);
            using (var source = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            using (var target = new FileStream(Path.Combine(to, Path.GetFileName(file)), FileMode.CreateNew, FileAccess.Write))
            {
                source.CopyTo(target);
            }
            copied++;
        }
        return copied;
    }

    /// <summary>Every file and rename of the export durable: one syncfs, else each file and folder.</summary>
    private static void Sync(string root)
    {
        if (DurableFile.SyncFileSystem(root))
        {
            return;
        }
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            DurableFile.FsyncFile(file);
        }
        foreach (var dir in Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories).Append(root))
        {
            DurableFile.FsyncDirectory(dir);
        }
    }
}
