using System.Text.Json.Serialization;

namespace Lakehouse.Flight.Core.Wire;

// Request bodies as the SDK writes them. The server reads the same names through the protobuf messages in
// protos/lakehouse.proto (proto3 JSON mapping), which also accept binary protobuf.

/// <summary>The DoPut descriptor command (<c>UploadCommand</c>).</summary>
public sealed record UploadCommandBody(
    [property: JsonPropertyName("table")] string Table,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("promote")] bool Promote,
    [property: JsonPropertyName("wait")] bool Wait);

/// <summary>The <c>upload-status</c> body.</summary>
public sealed record UploadStatusBody(
    [property: JsonPropertyName("run_id")] string RunId,
    [property: JsonPropertyName("wait")] bool Wait);

/// <summary>The <c>ingest</c> body (<c>IngestRequest</c>); an empty <c>path</c> means none.</summary>
public sealed record IngestBody(
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("symbols")] IReadOnlyList<string> Symbols,
    [property: JsonPropertyName("date_from")] string DateFrom,
    [property: JsonPropertyName("date_to")] string DateTo,
    [property: JsonPropertyName("promote")] bool Promote,
    [property: JsonPropertyName("seed")] long Seed,
    [property: JsonPropertyName("path")] string Path);

/// <summary>The <c>promote</c> body (<c>PromoteRequest</c>): an empty source or symbol list means all.</summary>
public sealed record PromoteBody(
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("symbols")] IReadOnlyList<string> Symbols);

/// <summary>The <c>manifest</c> body (<c>ManifestRequest</c>).</summary>
public sealed record ManifestBody(
    [property: JsonPropertyName("layer")] string Layer,
    [property: JsonPropertyName("table")] string Table,
    [property: JsonPropertyName("limit")] int Limit);
