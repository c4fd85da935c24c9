using System.Text.Json.Serialization;

namespace Lakehouse.Flight.Core.Wire;

/// <summary>A progress result a long action streams before its last result: <c>{"progress":{...}}</c>.</summary>
/// <param name="Progress">Where the run stands.</param>
public sealed record ProgressMessage([property: JsonPropertyName("progress")] ActionProgress? Progress);

/// <summary>
/// Where a long action stands. Each action fills its own fields; the others are left out of the JSON:
/// <c>ingest</c> (job_id, symbols_done, symbols_total, rows, failed), <c>build-gold</c> (symbols_done,
/// symbols_total), <c>migrate-legacy</c> (phase, done, total, rows).
/// </summary>
public sealed record ActionProgress
{
    /// <summary>The action reporting, e.g. <c>ingest</c>.</summary>
    [JsonPropertyName("action")] public string Action { get; init; } = "";

    /// <summary>The job an <c>ingest</c> call runs as (<c>GET /prices/jobs/{id}</c> shows it too).</summary>
    [JsonPropertyName("job_id")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? JobId { get; init; }

    /// <summary><c>scan</c> or <c>migrate</c> (migrate-legacy).</summary>
    [JsonPropertyName("phase")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Phase { get; init; }

    [JsonPropertyName("symbols_done")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? SymbolsDone { get; init; }
    [JsonPropertyName("symbols_total")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? SymbolsTotal { get; init; }

    /// <summary>Units of the phase finished (migrate-legacy: row groups scanned, symbols committed).</summary>
    [JsonPropertyName("done")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public long? Done { get; init; }
    [JsonPropertyName("total")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public long? Total { get; init; }

    /// <summary>Rows written (or read, while scanning) so far.</summary>
    [JsonPropertyName("rows")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public long? Rows { get; init; }

    /// <summary>Symbols that failed so far (ingest).</summary>
    [JsonPropertyName("failed")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? Failed { get; init; }
}

/// <summary>The symbols an <c>ingest</c> could not land, sent before its reports: <c>{"failed":[{"symbol","error"}]}</c>.</summary>
public sealed record FailedSymbols([property: JsonPropertyName("failed")] IReadOnlyList<FailedSymbol> Failed);

/// <summary>
/// One symbol that failed, and why: in the <c>ingest</c> action's results, a job's <c>failed</c> list and the
/// daily flow's log (<c>_metadata/flows/daily.jsonl</c>).
/// </summary>
public sealed record FailedSymbol(
    [property: JsonPropertyName("symbol")] string Symbol,
    [property: JsonPropertyName("error")] string Error);

/// <summary>The <c>upload-status</c> result: where an upload acknowledged with <c>"wait": false</c> stands.</summary>
/// <param name="RunId">The run the upload is applied under.</param>
/// <param name="State"><c>pending</c>, <c>applying</c>, <c>applied</c> or <c>failed</c>.</param>
/// <param name="Rows">Rows the upload holds.</param>
/// <param name="Error">Why it failed (null otherwise; written as null).</param>
/// <param name="Reports">The StorageReports committed so far.</param>
public sealed record UploadStatusResult(
    [property: JsonPropertyName("run_id")] string RunId,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("rows")] long Rows,
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("reports")] IReadOnlyList<StorageReport> Reports)
{
    public const string Failed = "failed";
}

/// <summary>One table of the <c>stats</c> result (a JSON array of these); dates are ISO (null for an empty table, written as null).</summary>
public sealed record TableStats(
    [property: JsonPropertyName("layer")] string Layer,
    [property: JsonPropertyName("table")] string Table,
    [property: JsonPropertyName("symbols")] int Symbols,
    [property: JsonPropertyName("files")] int Files,
    [property: JsonPropertyName("rows")] long Rows,
    [property: JsonPropertyName("first_date")] string? FirstDate,
    [property: JsonPropertyName("last_date")] string? LastDate,
    [property: JsonPropertyName("bytes")] long Bytes,
    [property: JsonPropertyName("version")] long Version);

/// <summary>The last result of <c>migrate-legacy</c>: the commits' reports and the migration's own account.</summary>
public sealed record MigrateLegacyResult(
    [property: JsonPropertyName("reports")] IReadOnlyList<StorageReport> Reports,
    [property: JsonPropertyName("migration")] MigrationResult Migration);
