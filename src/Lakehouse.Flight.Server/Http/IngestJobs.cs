using System.Collections.Concurrent;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Server.Http;

/// <summary>One ingestion job as the HTTP API shows it.</summary>
internal sealed class IngestJob
{
    [JsonPropertyName("job_id")] public required string Id { get; init; }
    [JsonPropertyName("state")] public string State { get; set; } = "queued";
    [JsonPropertyName("source")] public required string Source { get; init; }
    [JsonPropertyName("symbols")] public required IReadOnlyList<string> Symbols { get; init; }
    [JsonPropertyName("date_from")] public required string DateFrom { get; init; }
    [JsonPropertyName("date_to")] public required string DateTo { get; init; }
    [JsonPropertyName("created_at")] public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;
    [JsonPropertyName("started_at")] public DateTimeOffset? StartedAt { get; set; }
    [JsonPropertyName("finished_at")] public DateTimeOffset? FinishedAt { get; set; }
    [JsonPropertyName("error")] public string? Error { get; set; }
    [JsonPropertyName("reports")] public IReadOnlyList<StorageReport>? Reports { get; set; }
    [JsonPropertyName("failed")] public IReadOnlyList<SymbolFailure>? Failed { get; set; }

    [JsonIgnore] internal IngestRequest Request { get; init; } = null!;
}

/// <summary>
/// The queue behind <c>POST /prices/jobs/daily/range</c>: jobs run one at a time in the background
/// (ingestion writes are serialised per symbol anyway); the last 1,000 stay visible.
/// </summary>
internal sealed class IngestJobs : BackgroundService
{
    private const int Kept = 1000;

    private readonly Channel<IngestJob> _queue = Channel.CreateUnbounded<IngestJob>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<string, IngestJob> _jobs = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();
    private readonly IngestionRunner _runner;
    private readonly ILogger<IngestJobs> _logger;

    public IngestJobs(IngestionRunner runner, ILogger<IngestJobs> logger)
    {
        _runner = runner;
        _logger = logger;
    }

    public IngestJob Enqueue(IngestRequest request)
    {
        var job = new IngestJob
        {
            Id = Guid.NewGuid().ToString("N"),
            Source = request.Source,
            Symbols = request.Symbols,
            DateFrom = request.From?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) ?? "",
            DateTo = request.To?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) ?? "",
            Request = request,
        };
        _jobs[job.Id] = job;
        _order.Enqueue(job.Id);
        while (_order.Count > Kept && _order.TryDequeue(out var old))
        {
            _jobs.TryRemove(old, out _);
        }
        _queue.Writer.TryWrite(job);
        return job;
    }

    public IngestJob? Find(string id) => _jobs.TryGetValue(id, out var job) ? job : null;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var job in _queue.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
        {
            job.State = "running";
            job.StartedAt = DateTimeOffset.UtcNow;
            try
            {
                var result = await _runner.RunAsync(job.Request, cancellationToken: stoppingToken).ConfigureAwait(false);
                job.Reports = result.Reports;
                job.Failed = result.Failures.Count == 0 ? null : result.Failures;
                job.State = result.Failures.Count > 0 && result.Reports.Count == 0 ? "failed" : "succeeded";
                job.Error = result.Failures.Count == 0 ? null : $"{result.Failures.Count} symbol(s) failed: see 'failed'";
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                job.State = "cancelled";
                job.Error = "the server stopped before the job finished; commits made before that are kept";
            }
            catch (Exception ex)
            {
                // A job's failure is the job's, never the host's: the queue goes on with the next one.
                job.State = "failed";
                job.Error = ex is LakehouseException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";
                ServerLog.JobFailed(_logger, job.Id, job.Error);
            }
            job.FinishedAt = DateTimeOffset.UtcNow;
        }
    }
}
