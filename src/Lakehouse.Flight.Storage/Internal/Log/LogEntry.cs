using System.Text.Json;
using System.Text.Json.Serialization;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// One commit of the lake: a numbered version that changes the files of one or more tables at once (an
/// ingestion chunk writes bronze, silver and corporate actions in one entry). The entry is the commit point:
/// it exists whole or not at all (<see cref="LakeLog.TryCommit"/>), and everything else a commit does (the
/// table folders, the manifests) is derived from it and redone after a crash.
/// </summary>
internal sealed record LogEntry
{
    [JsonPropertyName("version")] public long Version { get; init; }

    [JsonPropertyName("ts")] public DateTimeOffset Ts { get; init; }

    /// <summary><c>write</c>, <c>compact</c>, <c>vacuum</c>, <c>migrate</c>.</summary>
    [JsonPropertyName("operation")] public required string Operation { get; init; }

    [JsonPropertyName("run_id")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? RunId { get; init; }

    [JsonPropertyName("tables")] public IReadOnlyList<TableChange> Tables { get; init; } = [];

    /// <summary>The manifest lines of the commit (one per table and symbol), appended to the manifests after it.</summary>
    [JsonPropertyName("reports")] public IReadOnlyList<StorageReport> Reports { get; init; } = [];

    /// <summary>
    /// Each report's JSON (<see cref="StorageReport.ToJson"/>, the manifest line), made once at the commit for the entry
    /// and the manifests both; null: made when written (<see cref="LogJson.SerializeEntry"/>).
    /// </summary>
    [JsonIgnore] public IReadOnlyList<string>? ReportLines { get; init; }

    /// <summary>Superseded files whose retention ended and that a vacuum deleted (<c>vacuum</c> entries).</summary>
    [JsonPropertyName("expired")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Expired { get; init; }
}

/// <summary>A <see cref="LogEntry"/> read without its reports (<see cref="LakeLog.ReadHead"/>): the same fields, <c>reports</c> skipped by the parser.</summary>
internal sealed record LogEntryHead
{
    [JsonPropertyName("version")] public long Version { get; init; }

    [JsonPropertyName("ts")] public DateTimeOffset Ts { get; init; }

    [JsonPropertyName("operation")] public required string Operation { get; init; }

    [JsonPropertyName("run_id")] public string? RunId { get; init; }

    [JsonPropertyName("tables")] public IReadOnlyList<TableChange> Tables { get; init; } = [];

    [JsonPropertyName("expired")] public IReadOnlyList<string>? Expired { get; init; }
}

/// <summary>What one commit does to one table: files added and removed, and the symbols whose rows changed.</summary>
internal sealed record TableChange
{
    /// <summary><c>layer/table</c>, e.g. <c>silver/prices_daily</c>.</summary>
    [JsonPropertyName("table")] public required string Table { get; init; }

    [JsonPropertyName("add")] public IReadOnlyList<DataFile> Add { get; init; } = [];

    [JsonPropertyName("remove")] public IReadOnlyList<string> Remove { get; init; } = [];

    /// <summary>Symbols whose rows changed (empty for a compaction: the rows are the same, only the files differ).</summary>
    [JsonPropertyName("symbols")] public IReadOnlyList<string> Symbols { get; init; } = [];
}

/// <summary>A superseded file kept for reads of older versions until its retention ends (then a vacuum deletes it).</summary>
internal sealed record Tombstone
{
    [JsonPropertyName("table")] public required string Table { get; init; }

    [JsonPropertyName("name")] public required string Name { get; init; }

    /// <summary>The version that removed the file from its table.</summary>
    [JsonPropertyName("removed_version")] public long RemovedVersion { get; init; }

    [JsonPropertyName("removed_ts")] public DateTimeOffset RemovedTs { get; init; }
}

/// <summary>The whole lake at one version: every table's files and the superseded files still kept. Opening reads the last one and the entries after it.</summary>
internal sealed record Checkpoint
{
    [JsonPropertyName("version")] public long Version { get; init; }

    [JsonPropertyName("ts")] public DateTimeOffset Ts { get; init; }

    [JsonPropertyName("tables")]
    public IReadOnlyDictionary<string, IReadOnlyList<DataFile>> Tables { get; init; } =
        new Dictionary<string, IReadOnlyList<DataFile>>();

    [JsonPropertyName("tombstones")] public IReadOnlyList<Tombstone> Tombstones { get; init; } = [];

    /// <summary>Per table, the last version that changed it.</summary>
    [JsonPropertyName("table_versions")]
    public IReadOnlyDictionary<string, long> TableVersions { get; init; } = new Dictionary<string, long>();
}

internal static class LogJson
{
    public static readonly JsonSerializerOptions Options = new(StorageReport.JsonOptions)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static byte[] Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Options);

    /// <summary>
    /// An entry's bytes, as <see cref="Serialize{T}"/> writes them: with its <see cref="LogEntry.ReportLines"/>, those are
    /// put in its reports' place (a report's manifest line is its JSON here: the same options) instead of each report
    /// serialized again on one core (a 20,000-symbol day's commit holds 40,000).
    /// </summary>
    public static byte[] SerializeEntry(LogEntry entry)
    {
        if (entry.ReportLines is not { } lines || lines.Count != entry.Reports.Count || lines.Count == 0)
        {
            return Serialize(entry);
        }
        var shell = Serialize(entry with { Reports = [] });
        // The member can only be the entry's own: quotes inside JSON strings are escaped, and no table change has one.
        var at = shell.AsSpan().IndexOf(EmptyReports);
        if (at < 0)
        {
            return Serialize(entry);
        }
        var split = at + EmptyReports.Length - 1;
        var size = shell.Length + lines.Count - 1;
        foreach (var line in lines)
        {
            size += System.Text.Encoding.UTF8.GetByteCount(line);
        }
        var bytes = new byte[size];
        shell.AsSpan(0, split).CopyTo(bytes);
        var pos = split;
        for (var i = 0; i < lines.Count; i++)
        {
            if (i > 0)
            {
                bytes[pos++] = (byte)',';
            }
            pos += System.Text.Encoding.UTF8.GetBytes(lines[i], bytes.AsSpan(pos));
        }
        shell.AsSpan(split).CopyTo(bytes.AsSpan(pos));
        return bytes;
    }

    private static ReadOnlySpan<byte> EmptyReports => ",\"reports\":[]"u8;

    public static T Deserialize<T>(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize<T>(json, Options) ?? throw new InvalidDataException("an empty commit log record");
}
