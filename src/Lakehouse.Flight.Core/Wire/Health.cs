using System.Text.Json.Serialization;

namespace Lakehouse.Flight.Core.Wire;

/// <summary>
/// The body of <c>GET /health</c> and of the <c>health</c> action. Liveness (<c>status</c>) and readiness
/// (<c>state</c>, with <c>loading</c> while warming) are always there; the rest only where the answer carries
/// it (the lake's figures for authenticated callers; <c>datasets</c> over HTTP once the index is listed; the
/// data dir, auth and upload figures in the action). Absent fields are left out of the JSON.
/// </summary>
public sealed record HealthReport
{
    /// <summary><c>ok</c> whenever the server answers (empty in a body that is not a health report).</summary>
    [JsonPropertyName("status")] public string Status { get; init; } = "";

    /// <summary><c>ok</c>, <c>warming</c> or <c>failed</c>.</summary>
    [JsonPropertyName("state")] public string State { get; init; } = "";

    /// <summary>What is still loading: <c>index</c>, <c>cache</c>, <c>code</c>, <c>gold</c>.</summary>
    [JsonPropertyName("loading")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? Loading { get; init; }

    /// <summary>The lake's version.</summary>
    [JsonPropertyName("version")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public long? Version { get; init; }

    /// <summary>Data files the lake's current version names.</summary>
    [JsonPropertyName("files")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public long? Files { get; init; }

    [JsonPropertyName("datasets")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<DatasetHealth>? Datasets { get; init; }

    /// <summary>The data dir as the server shows it (never resolved further than its configuration).</summary>
    [JsonPropertyName("data_dir")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? DataDir { get; init; }

    /// <summary>Whether the server asks for credentials.</summary>
    [JsonPropertyName("auth")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public bool? Auth { get; init; }

    /// <summary>Uploads acknowledged and not yet applied.</summary>
    [JsonPropertyName("uploads_pending")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? UploadsPending { get; init; }

    [JsonPropertyName("uploads_buffered_bytes")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public long? UploadsBufferedBytes { get; init; }
}

/// <summary>One dataset of <c>/health</c>: how many symbols it holds.</summary>
public sealed record DatasetHealth(
    [property: JsonPropertyName("layer")] string Layer,
    [property: JsonPropertyName("table")] string Table,
    [property: JsonPropertyName("symbols")] int Symbols);
