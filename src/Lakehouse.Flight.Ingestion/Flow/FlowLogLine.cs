using System.Text.Json.Serialization;
using Lakehouse.Flight.Core.Wire;

namespace Lakehouse.Flight.Ingestion.Flow;

/// <summary>
/// One line of <c>_metadata/flows/daily.jsonl</c>: a step of one run of the flow. The run ends with a
/// <see cref="DoneStep"/> line; a day whose <c>done</c> line has no failures is not run again.
/// </summary>
public sealed record FlowLogLine
{
    /// <summary>The step that closes a run.</summary>
    public const string DoneStep = "done";

    /// <summary>The ingestion step (bronze, then silver).</summary>
    public const string IngestStep = "ingest";

    [JsonPropertyName("ts")] public DateTimeOffset Ts { get; init; }
    [JsonPropertyName("flow")] public string Flow { get; init; } = "daily";
    [JsonPropertyName("run_id")] public string RunId { get; init; } = "";
    [JsonPropertyName("date")] public string Date { get; init; } = "";
    [JsonPropertyName("step")] public string Step { get; init; } = "";
    [JsonPropertyName("symbols")] public IReadOnlyList<string> Symbols { get; init; } = [];
    [JsonPropertyName("rows")] public long Rows { get; init; }
    [JsonPropertyName("failures")] public IReadOnlyList<FailedSymbol> Failures { get; init; } = [];
    [JsonPropertyName("duration_ms")] public long DurationMs { get; init; }

    [JsonPropertyName("error")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Error { get; init; }
}

/// <summary>What one call of <see cref="DailyFlow.RunAsync"/> did.</summary>
/// <param name="Date">The flow's date.</param>
/// <param name="AlreadyCompleted">True when the day had completed before: nothing ran.</param>
/// <param name="Steps">The lines written, one per step, the <c>done</c> line last.</param>
/// <param name="Reports">The ingestion's StorageReports.</param>
/// <param name="Failures">Symbols that failed in any step.</param>
public sealed record FlowRun(DateOnly Date, bool AlreadyCompleted, IReadOnlyList<FlowLogLine> Steps, IReadOnlyList<Core.StorageReport> Reports,
    IReadOnlyList<FailedSymbol> Failures);
