using System.Collections.Concurrent;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Server.Http;

/// <summary>What a queued ingestion job asks for.</summary>
internal sealed record IngestJobRequest(string Source, IReadOnlyList<string> Symbols, DateOnly From, DateOnly To);

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

    [JsonIgnore] internal IngestJobRequest Request { get; init; } = null!;
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
    private readonly PriceStore _store;
    private readonly ILogger<IngestJobs> _logger;

    public IngestJobs(PriceStore store, ILogger<IngestJobs> logger)
    {
        _store = store;
        _logger = logger;
    }

    public IngestJob Enqueue(IngestJobRequest request)
    {
        var job = new IngestJob
        {
            Id = Guid.NewGuid().ToString("N"),
            Source = request.Source,
            Symbols = request.Symbols,
            DateFrom = request.From.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            DateTo = request.To.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
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
                var r = job.Request;
                var bars = SyntheticSource.Generate(r.Symbols, r.From, r.To);
                job.Reports = await _store.LandAsync(bars, r.Source, promote: true, cancellationToken: stoppingToken).ConfigureAwait(false);
                job.State = "succeeded";
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                job.State = "cancelled";
                job.Error = "the server stopped before the job finished; nothing of it was committed";
            }
            catch (Exception ex) when (ex is LakehouseException or IOException or TimeoutException)
            {
                job.State = "failed";
                job.Error = ex.Message;
                ServerLog.JobFailed(_logger, job.Id, ex.Message);
            }
            job.FinishedAt = DateTimeOffset.UtcNow;
        }
    }
}
