using System.Text.Json.Serialization;

namespace Lakehouse.Flight.Ingestion.Legacy;

/// <summary>What to migrate: the prototype's single file, its manifest, and how.</summary>
/// <param name="From">The legacy file, e.g. <c>data/prices_daily.parquet</c>.</param>
/// <param name="LegacyManifest">The legacy manifest; null looks for <c>_manifests/prices_ingestion.jsonl</c> beside <paramref name="From"/>.</param>
/// <param name="Source">The bronze source for every row; null uses the file's <c>source</c> column, else <c>legacy</c>.</param>
/// <param name="DryRun">Read and report what would happen; write nothing.</param>
public sealed record LegacyMigrationRequest(string From, string? LegacyManifest = null, string? Source = null, bool DryRun = false)
{
    public const string DefaultSource = "legacy";

    /// <summary>
    /// How messages and the result name the legacy file (default <see cref="From"/>): the server passes the
    /// name the caller gave, so no answer carries the resolved server path.
    /// </summary>
    public string? FromDisplay { get; init; }

    /// <summary>Symbols per commit (each commit is atomic; a rerun after a crash redoes at most one chunk's work).</summary>
    public int ChunkSymbols { get; init; } = 50;

    /// <summary>A chunk also closes at this many rows, so memory stays bounded whatever a symbol holds.</summary>
    public int ChunkRows { get; init; } = 500_000;
}

/// <summary>Progress: <c>scan</c> counts row groups, <c>migrate</c> counts symbols committed (or compared, in a dry run).</summary>
public sealed record MigrationProgress(
    [property: JsonPropertyName("phase")] string Phase,
    [property: JsonPropertyName("done")] long Done,
    [property: JsonPropertyName("total")] long Total,
    [property: JsonPropertyName("rows")] long Rows);
