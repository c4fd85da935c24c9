using System.Text.Json.Serialization;

namespace Lakehouse.Flight.Core.Wire;

/// <summary>
/// One job as <c>GET /prices/jobs/{id}</c> shows it and <c>_metadata/jobs/{id}.json</c> keeps it: the request
/// (kind, source, symbols, range or flow date), state and timestamps, and when done the StorageReports, the
/// symbols that failed and the error.
/// </summary>
public sealed record JobStatus
{
    [JsonPropertyName("job_id")] public required string Id { get; init; }

    /// <summary><c>ingest</c> or <c>flow</c>.</summary>
    [JsonPropertyName("kind")] public string Kind { get; init; } = "ingest";

    /// <summary><c>queued</c>, <c>running</c>, <c>succeeded</c>, <c>failed</c> or <c>cancelled</c>.</summary>
    [JsonPropertyName("state")] public string State { get; init; } = "queued";
    [JsonPropertyName("source")] public string Source { get; init; } = "";
    [JsonPropertyName("symbols")] public IReadOnlyList<string> Symbols { get; init; } = [];
    [JsonPropertyName("date_from")] public string? DateFrom { get; init; }
    [JsonPropertyName("date_to")] public string? DateTo { get; init; }
    [JsonPropertyName("flow_date")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? FlowDate { get; init; }
    [JsonPropertyName("promote")] public bool Promote { get; init; } = true;
    [JsonPropertyName("path")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Path { get; init; }
    [JsonPropertyName("seed")] public long Seed { get; init; } = 42;
    [JsonPropertyName("created_at")] public DateTimeOffset CreatedAt { get; init; }
    [JsonPropertyName("started_at")] public DateTimeOffset? StartedAt { get; init; }
    [JsonPropertyName("finished_at")] public DateTimeOffset? FinishedAt { get; init; }
    [JsonPropertyName("error")] public string? Error { get; init; }

    /// <summary>Why a job that succeeded did nothing (a daily flow whose day had already completed).</summary>
    [JsonPropertyName("note")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Note { get; init; }
    [JsonPropertyName("reports")] public IReadOnlyList<StorageReport>? Reports { get; init; }
    [JsonPropertyName("failed")] public IReadOnlyList<FailedSymbol>? Failed { get; init; }

    /// <summary>Symbols committed and rows written so far (a running job's progress).</summary>
    [JsonPropertyName("progress")] public JobProgress? Progress { get; init; }
}

/// <summary>A running job's progress.</summary>
public sealed record JobProgress(
    [property: JsonPropertyName("symbols_done")] int SymbolsDone,
    [property: JsonPropertyName("symbols_total")] int SymbolsTotal,
    [property: JsonPropertyName("rows")] long Rows,
    [property: JsonPropertyName("failed")] int Failed);
