using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lakehouse.Flight.Core;

/// <summary>One manifest line and the result of every write: one JSON shape for the manifests, the CLI's <c>--json</c> and every answer.</summary>
public sealed record StorageReport
{
    [JsonPropertyName("run_id")] public string RunId { get; init; } = "";
    [JsonPropertyName("ts")][JsonConverter(typeof(Wire.UtcMillisecondsConverter))] public DateTimeOffset Ts { get; init; }
    [JsonPropertyName("engine")] public string Engine { get; init; } = "parquet";
    [JsonPropertyName("source")] public string Source { get; init; } = "";
    [JsonPropertyName("layer")] public string Layer { get; init; } = "";
    [JsonPropertyName("table")] public string Table { get; init; } = "";
    [JsonPropertyName("location")] public string Location { get; init; } = "";
    [JsonPropertyName("symbol")] public string Symbol { get; init; } = "";
    [JsonPropertyName("date_from")] public string? DateFrom { get; init; }
    [JsonPropertyName("date_to")] public string? DateTo { get; init; }
    [JsonPropertyName("rows")] public long Rows { get; init; }
    [JsonPropertyName("inserted")] public long Inserted { get; init; }
    [JsonPropertyName("updated")] public long Updated { get; init; }
    [JsonPropertyName("unchanged")] public long Unchanged { get; init; }
    [JsonPropertyName("rejected")] public long Rejected { get; init; }
    [JsonPropertyName("duration_ms")] public long DurationMs { get; init; }

    /// <summary>The lake version that committed this report (null in reports written before versions existed).</summary>
    [JsonPropertyName("version")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? Version { get; init; }

    /// <summary>Why rows were rejected (first few), so a user can fix the source.</summary>
    [JsonPropertyName("reject_reasons")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? RejectReasons { get; init; }

    /// <summary>
    /// The options of every JSON file the lake keeps (manifests, the commit log, the flow log, markers) and of the CLI's
    /// <c>--json</c>: any <see cref="DateTimeOffset"/> is written in UTC with milliseconds (<c>2026-11-26T16:00:00.000Z</c>).
    /// </summary>
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = false,
        Converters = { new Wire.UtcMillisecondsConverter() },
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static StorageReport? FromJson(string line) => JsonSerializer.Deserialize<StorageReport>(line, JsonOptions);
}
