using System.Text.Json.Serialization;

namespace Lakehouse.Flight.Core.Wire;

/// <summary>
/// One version of a table (the <c>list-versions</c> action, <c>GET /tables/{layer}/{table}/versions</c>): the lake
/// version that changed it, when, how (<c>write</c>, <c>compact</c>, <c>migrate</c>), the run, and what it changed.
/// Row counts are the sums of the version's StorageReports for the table (a compaction has none: its rows are the same).
/// </summary>
public sealed record TableVersionInfo
{
    [JsonPropertyName("version")] public long Version { get; init; }

    [JsonPropertyName("ts")][JsonConverter(typeof(UtcMillisecondsConverter))] public DateTimeOffset Ts { get; init; }

    [JsonPropertyName("operation")] public string Operation { get; init; } = "";

    [JsonPropertyName("run_id")] public string? RunId { get; init; }

    /// <summary>The sources of the version's StorageReports (e.g. <c>yfinance</c>, <c>vendor_x</c>).</summary>
    [JsonPropertyName("sources")] public IReadOnlyList<string> Sources { get; init; } = [];

    [JsonPropertyName("inserted")] public long Inserted { get; init; }

    [JsonPropertyName("updated")] public long Updated { get; init; }

    [JsonPropertyName("unchanged")] public long Unchanged { get; init; }

    [JsonPropertyName("rejected")] public long Rejected { get; init; }

    [JsonPropertyName("files_added")] public int FilesAdded { get; init; }

    [JsonPropertyName("files_removed")] public int FilesRemoved { get; init; }

    /// <summary>Symbols whose rows the version changed.</summary>
    [JsonPropertyName("symbols")] public IReadOnlyList<string> Symbols { get; init; } = [];

    /// <summary>False once a vacuum deleted files this version needs (and no snapshot pins it).</summary>
    [JsonPropertyName("readable")] public bool Readable { get; init; }
}

/// <summary>A named snapshot: per table, the version a read of the snapshot sees; the files of those versions are kept by vacuum.</summary>
public sealed record SnapshotInfo
{
    [JsonPropertyName("name")] public string Name { get; init; } = "";

    [JsonPropertyName("created")][JsonConverter(typeof(UtcMillisecondsConverter))] public DateTimeOffset Created { get; init; }

    /// <summary>The lake version it was taken at.</summary>
    [JsonPropertyName("version")] public long Version { get; init; }

    /// <summary>Table id (<c>silver/prices_daily</c>) → the version a read of the snapshot sees.</summary>
    [JsonPropertyName("tables")] public IReadOnlyDictionary<string, long> Tables { get; init; } = new Dictionary<string, long>();
}

/// <summary>What a vacuum freed (the <c>vacuum</c> action, <c>lakehouse vacuum</c>).</summary>
public sealed record VacuumReport
{
    /// <summary>Superseded data files deleted.</summary>
    [JsonPropertyName("files")] public int Files { get; init; }

    [JsonPropertyName("bytes")] public long Bytes { get; init; }

    /// <summary>The <c>vacuum</c> version that expired them (the current version when nothing expired).</summary>
    [JsonPropertyName("version")] public long Version { get; init; }

    /// <summary>Superseded files past their retention kept because a snapshot pins a version that needs them.</summary>
    [JsonPropertyName("pinned")] public int Pinned { get; init; }
}

/// <summary>The <c>delete-snapshot</c> result.</summary>
public sealed record SnapshotDeleted([property: JsonPropertyName("deleted")] string Deleted);
