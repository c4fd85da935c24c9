using System.Text.Json;
using System.Text.Json.Serialization;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion;

namespace Lakehouse.Flight.Server.Jobs;

/// <summary>Job states as the API and the records on disk spell them.</summary>
internal static class JobStates
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static bool IsFinished(string state) => state is Succeeded or Failed or Cancelled;
}

/// <summary>
/// One job as <c>GET /prices/jobs/{id}</c> shows it and <c>_metadata/jobs/{id}.json</c> keeps it: the request
/// (kind, source, symbols, range or flow date), state and timestamps, and when done the StorageReports,
/// the symbols that failed and the error. Mutated only under <see cref="Gate"/>.
/// </summary>
internal sealed class JobRecord
{
    public const string IngestKind = "ingest";
    public const string FlowKind = "flow";

    internal static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    [JsonPropertyName("job_id")] public required string Id { get; init; }
    [JsonPropertyName("kind")] public string Kind { get; init; } = IngestKind;
    [JsonPropertyName("state")] public string State { get; set; } = JobStates.Queued;
    [JsonPropertyName("source")] public string Source { get; init; } = "";
    [JsonPropertyName("symbols")] public IReadOnlyList<string> Symbols { get; init; } = [];
    [JsonPropertyName("date_from")] public string? DateFrom { get; init; }
    [JsonPropertyName("date_to")] public string? DateTo { get; init; }
    [JsonPropertyName("flow_date")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? FlowDate { get; init; }
    [JsonPropertyName("promote")] public bool Promote { get; init; } = true;
    [JsonPropertyName("path")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Path { get; init; }
    [JsonPropertyName("seed")] public long Seed { get; init; } = 42;
    [JsonPropertyName("created_at")] public DateTimeOffset CreatedAt { get; init; }
    [JsonPropertyName("started_at")] public DateTimeOffset? StartedAt { get; set; }
    [JsonPropertyName("finished_at")] public DateTimeOffset? FinishedAt { get; set; }
    [JsonPropertyName("error")] public string? Error { get; set; }

    /// <summary>Why a job that succeeded did nothing (a daily flow whose day had already completed).</summary>
    [JsonPropertyName("note")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Note { get; set; }
    [JsonPropertyName("reports")] public IReadOnlyList<StorageReport>? Reports { get; set; }
    [JsonPropertyName("failed")] public IReadOnlyList<SymbolFailure>? Failed { get; set; }

    /// <summary>Symbols committed and rows written so far (a running job's progress).</summary>
    [JsonPropertyName("progress")] public JobProgress? Progress { get; set; }

    [JsonIgnore] internal Lock Gate { get; } = new();

    /// <summary>The ingestion this job runs (null for a flow job).</summary>
    public IngestRequest? ToIngestRequest() => Kind == IngestKind
        ? new IngestRequest(Source, Symbols, PriceQuery.ParseDate(DateFrom, "date_from"), PriceQuery.ParseDate(DateTo, "date_to"), Promote, Path, Seed)
        : null;

    public byte[] ToJson()
    {
        lock (Gate)
        {
            return JsonSerializer.SerializeToUtf8Bytes(this, JsonOptions);
        }
    }

    public static JobRecord? FromJson(ReadOnlySpan<byte> json) => JsonSerializer.Deserialize<JobRecord>(json, JsonOptions);
}

/// <summary>A running job's progress.</summary>
internal sealed record JobProgress(
    [property: JsonPropertyName("symbols_done")] int SymbolsDone,
    [property: JsonPropertyName("symbols_total")] int SymbolsTotal,
    [property: JsonPropertyName("rows")] long Rows,
    [property: JsonPropertyName("failed")] int Failed);
