using System.Text.Json;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Wire;
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

    /// <summary>Job files are indented, for people reading <c>_metadata/jobs/</c>.</summary>
    private static readonly WireJson FileJson = new(new JsonSerializerOptions { WriteIndented = true });

    public required string Id { get; init; }
    public string Kind { get; init; } = IngestKind;
    public string State { get; set; } = JobStates.Queued;
    public string Source { get; init; } = "";
    public IReadOnlyList<string> Symbols { get; init; } = [];
    public string? DateFrom { get; init; }
    public string? DateTo { get; init; }
    public string? FlowDate { get; init; }
    public bool Promote { get; init; } = true;
    public string? Path { get; init; }
    public long Seed { get; init; } = 42;
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public string? Error { get; set; }

    /// <summary>Why a job that succeeded did nothing (a daily flow whose day had already completed).</summary>
    public string? Note { get; set; }
    public IReadOnlyList<StorageReport>? Reports { get; set; }
    public IReadOnlyList<SymbolFailure>? Failed { get; set; }

    /// <summary>Symbols committed and rows written so far (a running job's progress).</summary>
    public JobProgress? Progress { get; set; }

    internal Lock Gate { get; } = new();

    /// <summary>The ingestion this job runs (null for a flow job).</summary>
    public IngestRequest? ToIngestRequest() => Kind == IngestKind
        ? new IngestRequest(Source, Symbols, TableQuery.ParseDate(DateFrom, "date_from"), TableQuery.ParseDate(DateTo, "date_to"), Promote, Path, Seed)
        : null;

    /// <summary>A copy a worker does not mutate while it is serialised: what the API answers and the file holds.</summary>
    public JobStatus ToStatus()
    {
        lock (Gate)
        {
            return new JobStatus
            {
                Id = Id, Kind = Kind, State = State, Source = Source, Symbols = Symbols, DateFrom = DateFrom, DateTo = DateTo, FlowDate = FlowDate,
                Promote = Promote, Path = Path, Seed = Seed, CreatedAt = CreatedAt, StartedAt = StartedAt, FinishedAt = FinishedAt, Error = Error,
                Note = Note, Reports = Reports, Failed = Failed?.Select(f => new FailedSymbol(f.Symbol, f.Error)).ToArray(), Progress = Progress,
            };
        }
    }

    public static JobRecord From(JobStatus s) => new()
    {
        Id = s.Id, Kind = s.Kind, State = s.State, Source = s.Source, Symbols = s.Symbols, DateFrom = s.DateFrom, DateTo = s.DateTo, FlowDate = s.FlowDate,
        Promote = s.Promote, Path = s.Path, Seed = s.Seed, CreatedAt = s.CreatedAt, StartedAt = s.StartedAt, FinishedAt = s.FinishedAt, Error = s.Error,
        Note = s.Note, Reports = s.Reports, Failed = s.Failed?.Select(f => new SymbolFailure(f.Symbol, f.Error)).ToArray(), Progress = s.Progress,
    };

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(ToStatus(), FileJson.JobStatus);

    public static JobRecord? FromJson(ReadOnlySpan<byte> json) => JsonSerializer.Deserialize(json, FileJson.JobStatus) is { } s ? From(s) : null;
}
