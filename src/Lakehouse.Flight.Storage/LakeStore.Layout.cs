using System.Text.Json.Serialization;
using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lakehouse.Flight.Storage;

/// <summary>Progress of an export or a layout migration: <c>export</c>, <c>commit</c> and <c>verify</c> count symbols of one table.</summary>
public sealed record LayoutProgress(string Phase, string Table, long Done, long Total, long Rows);

/// <summary>One table written in the seed layout: its symbols, partition files, rows and bytes.</summary>
public sealed record SeedTableExport(
    [property: JsonPropertyName("table")] string Table,
    [property: JsonPropertyName("symbols")] int Symbols,
    [property: JsonPropertyName("partitions")] long Partitions,
    [property: JsonPropertyName("rows")] long Rows,
    [property: JsonPropertyName("bytes")] long Bytes);

/// <summary>What <see cref="LakeStore.ExportSeedAsync"/> wrote: the lake's version, per table what it holds, and the metadata copied.</summary>
public sealed record SeedExportResult(
    [property: JsonPropertyName("out")] string OutDir,
    [property: JsonPropertyName("version")] long Version,
    [property: JsonPropertyName("tables")] IReadOnlyList<SeedTableExport> Tables,
    [property: JsonPropertyName("manifest_files")] int ManifestFiles,
    [property: JsonPropertyName("report_files")] int ReportFiles,
    [property: JsonPropertyName("duration_ms")] long DurationMs)
{
    [JsonPropertyName("partitions")] public long Partitions => Tables.Sum(t => t.Partitions);

    [JsonPropertyName("rows")] public long Rows => Tables.Sum(t => t.Rows);

    [JsonPropertyName("bytes")] public long Bytes => Tables.Sum(t => t.Bytes);
}

/// <summary>How <see cref="LakeStore.MigrateSeedAsync"/> runs.</summary>
public sealed record SeedMigrationOptions
{
    /// <summary>A commit closes after the symbol that brings it to this many rows (memory stays bounded; a re-run redoes at most one).</summary>
    public int CommitRows { get; init; } = 1 << 20;
}

/// <summary>One table of a layout migration: symbols, the seed's files and rows against what the lake reads, as row counts and checksums.</summary>
public sealed record SeedTableMigration(
    [property: JsonPropertyName("table")] string Table,
    [property: JsonPropertyName("symbols")] int Symbols,
    [property: JsonPropertyName("seed_files")] long SeedFiles,
    [property: JsonPropertyName("seed_rows")] long SeedRows,
    [property: JsonPropertyName("lake_rows")] long LakeRows,
    [property: JsonPropertyName("seed_checksum")] string SeedChecksum,
    [property: JsonPropertyName("lake_checksum")] string LakeChecksum,
    [property: JsonPropertyName("migrated_rows")] long MigratedRows,
    [property: JsonPropertyName("mismatches")] IReadOnlyList<string> Mismatches)
{
    /// <summary>Every symbol has the same rows (count and checksum of every value, lineage included) in the lake as in the seed's files.</summary>
    [JsonPropertyName("verified")] public bool Verified => Mismatches.Count == 0 && SeedRows == LakeRows && SeedChecksum == LakeChecksum;
}

/// <summary>What <see cref="LakeStore.MigrateSeedAsync"/> did.</summary>
public sealed record SeedMigrationResult(
    [property: JsonPropertyName("data_dir")] string DataDir,
    [property: JsonPropertyName("version")] long Version,
    [property: JsonPropertyName("resumed")] bool Resumed,
    [property: JsonPropertyName("tables")] IReadOnlyList<SeedTableMigration> Tables,
    [property: JsonPropertyName("unrecognised_dir")] string? UnrecognisedDir,
    [property: JsonPropertyName("unrecognised_kept")] int UnrecognisedKept,
    [property: JsonPropertyName("duration_ms")] long DurationMs)
{
    [JsonPropertyName("layout")] public string Layout => "lake";

    /// <summary>Every table verified; only then are the views published and the seed's files removed.</summary>
    [JsonPropertyName("verified")] public bool Verified => Tables.All(t => t.Verified);
}

public sealed partial class LakeStore
{
    /// <summary>
    /// Writes every table of the current version into <paramref name="outDir"/> in the seed layout, exactly as the
    /// earlier engine stored them: one Parquet file per partition (<c>symbol=S/year=Y/month=M/data.parquet</c> as
    /// <see cref="TableDefinition.Partitioning"/> says, per-source tables under <c>source=X/</c>), rows in key order;
    /// then copies the manifests and gold reports, so the folder is a complete seed lake. Symbol by symbol (bounded
    /// memory), at one version whatever commits follow. Crash-safe: written into a temp folder beside
    /// <paramref name="outDir"/> and renamed into place at the end. Uploads acknowledged but not applied yet are not in it.
    /// </summary>
    /// <exception cref="LakehouseException">InvalidArgument: <paramref name="outDir"/> is a file, is not empty, or is the data dir or inside it.</exception>
    public async Task<SeedExportResult> ExportSeedAsync(string outDir, IProgress<LayoutProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        await Ready.WaitAsync(cancellationToken).ConfigureAwait(false);
        return await Task.Run(() => new SeedExport(this, progress).Run(outDir, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Moves a data dir in the seed layout (written by earlier versions: month files, no commit log) to the current
    /// layout in place: every partition file of every table is committed as it is (lineage included) in commits of
    /// about <see cref="SeedMigrationOptions.CommitRows"/> rows, every table and symbol is verified (row counts and a
    /// checksum of every value, seed files against what the lake reads), and only then are the table folders published
    /// and the seed's files removed (a file the seed engine did not write is kept aside, and reported). Crash-safe: a migration cut short at any point is finished by
    /// running it again, and until then the store refuses to open the data dir. Manifests and pending uploads stay.
    /// </summary>
    /// <exception cref="LakehouseException">InvalidArgument: the data dir is already in the current layout, or holds no seed lake; InvalidData: a damaged partition file.</exception>
    public static async Task<SeedMigrationResult> MigrateSeedAsync(StoreOptions options, SeedMigrationOptions? migration = null,
        IProgress<LayoutProgress>? progress = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var paths = new LakePaths(options.DataDir);
        var marker = MigrationMarker.Read(paths);
        var resumed = marker is not null;
        if (marker is null)
        {
            SeedMigration.CheckStartable(paths, options.Catalog);
            Directory.CreateDirectory(paths.MetadataDir);
            marker = MigrationMarker.Create(paths);
        }
        var store = new LakeStore(options, logger ?? NullLogger.Instance, layoutMigration: true);
        store.Recover();
        await store.Ready.WaitAsync(cancellationToken).ConfigureAwait(false);
        return await new SeedMigration(store, migration ?? new SeedMigrationOptions(), progress)
            .RunAsync(resumed, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Commits rows already in the table's shape (lineage kept) as inserts of symbols the table does not hold yet (operation <c>migrate</c>, no manifest lines).</summary>
    internal Task<IReadOnlyList<StorageReport>> CommitMigratedAsync(TableDefinition table, IReadOnlyList<(string? Source, string Symbol, RecordBatch Rows)> rows,
        string runId, CancellationToken cancellationToken) =>
        _committer.WriteAsync([table], "migrate", runId, staging =>
        {
            foreach (var (source, symbol, batch) in rows)
            {
                cancellationToken.ThrowIfCancellationRequested();
                staging.StageRows(new TableId(table, source), symbol, batch);
            }
            return [];
        }, cancellationToken);

    /// <summary>Every row of one symbol of a table (every source) at <paramref name="state"/>, in key order.</summary>
    internal RecordBatch ReadSymbolAt(LakeState state, TableDefinition table, string symbol, CancellationToken cancellationToken) =>
        _cache.LoadRuns(table, state.Table(table).RunsOf(symbol), null, null, null, cancellationToken);

    internal LakeLocks Locks => _locks;

    /// <summary>Publishes every table folder that does not show its current files (the last step of a layout migration).</summary>
    internal void PublishViews(CancellationToken cancellationToken) => RepublishViews(cancellationToken);
}
