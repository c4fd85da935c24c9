using System.Text.Json.Serialization;

namespace Lakehouse.Flight.Core;

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
