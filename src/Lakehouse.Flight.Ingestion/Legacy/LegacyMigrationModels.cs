using System.Text.Json.Serialization;
using Lakehouse.Flight.Core;

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

/// <summary>One symbol, legacy against silver: rows and value checksums over the legacy keys.</summary>
public sealed record SymbolCheck(
    [property: JsonPropertyName("symbol")] string Symbol,
    [property: JsonPropertyName("legacy_rows")] long LegacyRows,
    [property: JsonPropertyName("legacy_checksum")] string LegacyChecksum,
    [property: JsonPropertyName("silver_rows")] long SilverRows,
    [property: JsonPropertyName("silver_checksum")] string SilverChecksum)
{
    [JsonPropertyName("ok")]
    public bool Ok => LegacyRows == SilverRows && LegacyChecksum == SilverChecksum;
}

/// <summary>The legacy manifest lines copied (or, in a dry run, that would be).</summary>
public sealed record ManifestCopyResult(
    [property: JsonPropertyName("from")] string? From,
    [property: JsonPropertyName("to")] string To,
    [property: JsonPropertyName("copied")] int Copied,
    [property: JsonPropertyName("already_there")] int AlreadyThere,
    [property: JsonPropertyName("bad_lines")] int BadLines,
    [property: JsonPropertyName("torn_last_line")] bool TornLastLine);

/// <summary>What a migration did (or would do), row by row accounted: read = migrated + duplicates + invalid.</summary>
public sealed record MigrationResult
{
    [JsonPropertyName("run_id")] public required string RunId { get; init; }
    [JsonPropertyName("dry_run")] public bool DryRun { get; init; }
    [JsonPropertyName("from")] public required string From { get; init; }
    [JsonPropertyName("symbols")] public int Symbols { get; init; }
    [JsonPropertyName("rows_read")] public long RowsRead { get; init; }
    [JsonPropertyName("rows_migrated")] public long RowsMigrated { get; init; }
    [JsonPropertyName("duplicates")] public long Duplicates { get; init; }
    [JsonPropertyName("invalid")] public long Invalid { get; init; }
    [JsonPropertyName("invalid_by_reason")] public IReadOnlyDictionary<string, long> InvalidByReason { get; init; } = new Dictionary<string, long>();
    [JsonPropertyName("examples")] public IReadOnlyList<string> Examples { get; init; } = [];
    [JsonPropertyName("ignored_columns")] public IReadOnlyList<string> IgnoredColumns { get; init; } = [];
    [JsonPropertyName("inserted")] public long Inserted { get; init; }
    [JsonPropertyName("updated")] public long Updated { get; init; }
    [JsonPropertyName("unchanged")] public long Unchanged { get; init; }
    [JsonPropertyName("manifest")] public required ManifestCopyResult Manifest { get; init; }
    [JsonPropertyName("verified")] public bool Verified => Verification.All(v => v.Ok);
    [JsonPropertyName("verification")] public IReadOnlyList<SymbolCheck> Verification { get; init; } = [];

    /// <summary>Bronze then silver reports of the commits (in a dry run: silver reports of what would change, not written).</summary>
    [JsonIgnore] public IReadOnlyList<StorageReport> Reports { get; init; } = [];
}
