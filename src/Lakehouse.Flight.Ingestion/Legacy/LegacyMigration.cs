using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion.Legacy.Internal;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Ingestion.Legacy;

/// <summary>
/// Moves the prototype's single file (<c>data/prices_daily.parquet</c>) into the lake: bronze under
/// source <c>legacy</c> (or the file's own source column) and upserted into silver, a commit per chunk
/// of symbols through <see cref="LakeWriter"/> (gold follows). Behind <c>lakehouse migrate</c> and the
/// Flight action <c>migrate-legacy</c>.
/// </summary>
/// <remarks>
/// Two passes over the file, row group by row group: the first reads only the symbol column (rows per
/// symbol, and which row groups hold which symbols); the second reads, per chunk of symbols, only the
/// row groups that hold them. Memory is bounded by a row group plus a chunk, never the file. Every
/// commit is atomic and a rerun finds what a killed run committed unchanged, so a rerun resumes;
/// every row read is accounted for as migrated, a duplicate key (the later row in the file wins) or
/// invalid (with a reason). Each chunk is read back from silver and compared with what was read.
/// </remarks>
public sealed partial class LegacyMigration(LakeStore store, LakeWriter writer)
{
    private const int MaxExamples = 20;

    /// <summary>Where the prototype kept its manifest, beside the legacy file: <c>_manifests/prices_ingestion.jsonl</c>.</summary>
    public static string DefaultManifestFor(string from) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(from)) ?? ".", "_manifests", "prices_ingestion.jsonl");

    public async Task<MigrationResult> RunAsync(LegacyMigrationRequest request, IProgress<MigrationProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ChunkSymbols < 1 || request.ChunkRows < 1)
        {
            throw LakehouseException.Invalid("chunk sizes must be at least 1");
        }
        var fixedSource = request.Source is null ? null : Sources.Normalize(request.Source);
        using var file = LegacyFile.Open(request.From, request.FromDisplay ?? request.From);
        var run = new MigrationRun(file, fixedSource, request.DryRun, LakeStore.NewRunId());

        await ScanAsync(run, progress, cancellationToken).ConfigureAwait(false);
        var order = Enumerable.Range(0, run.Names.Count).Where(id => run.Counts[id] > 0).OrderBy(id => run.Names[id], StringComparer.Ordinal).ToArray();
        long done = 0;
        foreach (var chunk in Chunks(order, run.Counts, request.ChunkSymbols, request.ChunkRows))
        {
            cancellationToken.ThrowIfCancellationRequested();
            await MigrateChunkAsync(run, chunk, cancellationToken).ConfigureAwait(false);
            done += chunk.Length;
            progress?.Report(new MigrationProgress("migrate", done, order.Length, run.RowsMigrated));
        }
        var manifest = LegacyManifestCopy.Copy(request.LegacyManifest ?? DefaultManifestFor(request.From), store.Paths.ManifestDir, request.DryRun);

        var silver = run.Reports.Where(r => r.Layer == "silver").ToArray();
        return new MigrationResult
        {
            RunId = run.RunId,
            DryRun = request.DryRun,
            From = request.FromDisplay ?? request.From,
            Symbols = order.Length,
            RowsRead = file.Rows,
            RowsMigrated = run.RowsMigrated,
            Duplicates = run.Duplicates,
            Invalid = run.InvalidByReason.Values.Sum(),
            InvalidByReason = run.InvalidByReason,
            Examples = run.Examples,
            IgnoredColumns = file.Layout.Ignored,
            Inserted = silver.Sum(r => r.Inserted),
            Updated = silver.Sum(r => r.Updated),
            Unchanged = silver.Sum(r => r.Unchanged),
            Manifest = manifest,
            Verification = run.Checks,
            Reports = [.. run.Reports.Where(r => r.Layer == "bronze"), .. silver],
        };
    }

    /// <summary>Pass 1: the symbol column only. Rows whose symbol is not a valid symbol are counted invalid here, once.</summary>
    private static async Task ScanAsync(MigrationRun run, IProgress<MigrationProgress>? progress, CancellationToken cancellationToken)
    {
        var file = run.File;
        for (var rg = 0; rg < file.RowGroups; rg++)
        {
            var present = new HashSet<int>();
            await foreach (var batch in file.ReadAsync(rg, [file.Layout.Symbol], cancellationToken).ConfigureAwait(false))
            {
                using (batch)
                {
                    var column = batch.Column(0);
                    for (var i = 0; i < batch.Length; i++)
                    {
                        var raw = LegacyValues.String(column, i);
                        var id = run.SymbolId(raw, out var error);
                        if (id < 0)
                        {
                            run.Invalid("bad symbol", $"row with symbol '{raw}': {error}");
                            continue;
                        }
                        run.Counts[id]++;
                        present.Add(id);
                    }
                }
            }
            run.GroupsOf.Add(present);
            progress?.Report(new MigrationProgress("scan", rg + 1, file.RowGroups, 0));
        }
    }

    /// <summary>Symbols in order, cut at <paramref name="maxSymbols"/> or once a chunk holds <paramref name="maxRows"/>.</summary>
    private static IEnumerable<int[]> Chunks(int[] order, List<long> counts, int maxSymbols, int maxRows)
    {
        var chunk = new List<int>();
        long rows = 0;
        foreach (var id in order)
        {
            chunk.Add(id);
            rows += counts[id];
            if (chunk.Count >= maxSymbols || rows >= maxRows)
            {
                yield return chunk.ToArray();
                chunk.Clear();
                rows = 0;
            }
        }
        if (chunk.Count > 0)
        {
            yield return chunk.ToArray();
        }
    }
}
