using System.Diagnostics;
using System.Globalization;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Wire;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Ingestion.Flow;
using Lakehouse.Flight.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Server.Jobs;

/// <summary>A queued job and what an in-process caller may wait on: the job's end, with the exception that failed it (null otherwise).</summary>
internal sealed record JobTicket(JobRecord Record, Task<Exception?> Completion);

/// <summary>
/// The one job service behind <c>POST /prices/jobs/daily/range</c>, the Flight <c>ingest</c> action and the
/// daily-flow scheduler: a bounded queue (full = ResourceExhausted, never unbounded memory), a fixed
/// number of workers, and a scheduling rule that never starts a job while another one holds any of its
/// symbols (jobs with no symbol list, a CSV folder, run alone). Every state change is persisted to
/// <c>_metadata/jobs/{id}.json</c>; a job a dead server left queued or running is marked failed at start.
/// A job's exception is the job's: it is recorded and the workers go on.
/// </summary>
internal sealed partial class JobService : BackgroundService
{
    public const string InterruptedRunning = "interrupted: the server stopped before the job finished; commits made before that are kept";
    public const string InterruptedQueued = "interrupted: the server stopped before the job started; nothing was written";
    public const string CancelledRunning = "cancelled on request: the job stopped between commits; commits made before that are kept";
    public const string CancelledQueued = "cancelled on request before the job started; nothing was written";

    private readonly Lock _gate = new();
    private readonly LinkedList<Job> _queue = new();
    private readonly Dictionary<string, Job> _running = new(StringComparer.Ordinal);
    private readonly HashSet<string> _busySymbols = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JobRecord> _recent = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _signal = new(0);
    private readonly JobOptions _options;
    private readonly IngestionRunner _runner;
    private readonly DailyFlow _flow;
    private readonly JobFiles _files;
    private readonly TimeProvider _time;
    private readonly ILogger<JobService> _logger;
    private int _reserved;
    private bool _exclusiveRunning;
    private bool _stopping;

    public JobService(JobOptions options, IngestionRunner runner, DailyFlow flow, JobFiles files, TimeProvider time, ILogger<JobService> logger)
    {
        _options = options;
        _runner = runner;
        _flow = flow;
        _files = files;
        _time = time;
        _logger = logger;
    }

    /// <summary>Jobs waiting for a worker.</summary>
    public int QueuedCount
    {
        get
        {
            lock (_gate)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>Queues an ingestion; <paramref name="listener"/> hears its progress after each commit.</summary>
    public JobTicket EnqueueIngest(IngestRequest request, IProgress<IngestionProgress>? listener = null)
    {
        // Refused now, not as a failed job later: what the caller can fix leaves no record behind.
        _runner.Source(request.Source);
        // An ingestion range is checked at the door: a far date_to would make a source loop or overflow (LakeDates).
        LakeDates.CheckRange(request.From, request.To);
        var record = new JobRecord(new JobStatus
        {
            Id = NewId(), Kind = JobRecord.IngestKind, State = JobStates.Queued, Source = _runner.Source(request.Source).Name, Symbols = request.Symbols,
            DateFrom = Day(request.From), DateTo = Day(request.To), Promote = request.Promote, Path = request.Path, Seed = request.Seed,
            CreatedAt = _time.GetUtcNow(),
        });
        return Enqueue(record, request.Symbols, (job, ct) => RunIngestAsync(job, request, ct), listener);
    }

    /// <summary>Queues the daily flow for <paramref name="date"/> over the watchlist.</summary>
    public JobTicket EnqueueFlow(DateOnly date)
    {
        var symbols = _flow.Symbols;
        var record = new JobRecord(new JobStatus
        {
            Id = NewId(), Kind = JobRecord.FlowKind, State = JobStates.Queued, Source = "", Symbols = symbols, FlowDate = Day(date), CreatedAt = _time.GetUtcNow(),
        });
        return Enqueue(record, symbols, (job, ct) => RunFlowAsync(job, date, ct), null);
    }

    /// <summary>A job by id: from memory, else from its record on disk; null when there is none.</summary>
    public JobRecord? Find(string id)
    {
        lock (_gate)
        {
            if (_recent.TryGetValue(id, out var record))
            {
                return record;
            }
        }
        return _files.Read(id);
    }

    /// <summary>The most recent jobs as they stand, newest first.</summary>
    public IReadOnlyList<JobStatus> List(int limit)
    {
        lock (_gate)
        {
            return _recent.Values.Select(r => r.Status).OrderByDescending(s => s.CreatedAt).ThenByDescending(s => s.Id, StringComparer.Ordinal).Take(limit).ToArray();
        }
    }

    /// <summary>
    /// Cancels a queued job at once, or asks a running one to stop at its next commit boundary; what it found is
    /// decided under the queue's lock, so a job that starts or finishes meanwhile is answered as it was.
    /// </summary>
    public (JobRecord? Record, CancelOutcome Outcome) Cancel(string id)
    {
        Job? queued = null;
        Job? running = null;
        lock (_gate)
        {
            if (_queue.FirstOrDefault(j => j.Record.Id == id) is { } q)
            {
                _queue.Remove(q);
                queued = q;
            }
            else if (_running.TryGetValue(id, out var r))
            {
                running = r;
                r.CancelRequested = true;
            }
        }
        if (queued is not null)
        {
            Finish(queued, JobStates.Cancelled, CancelledQueued);
            return (queued.Record, CancelOutcome.Cancelled);
        }
        if (running is not null)
        {
            running.Cancellation.Cancel();
            return (running.Record, CancelOutcome.Stopping);
        }
        // Neither queued nor running: finished (or about to record that it finished), or unknown.
        return Find(id) is { } record ? (record, CancelOutcome.Finished) : (null, CancelOutcome.NotFound);
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        Recover();
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _stopping = true;
        }
        // Running jobs see the stopping token at their next commit boundary; then the queue is closed out.
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        List<Job> left;
        lock (_gate)
        {
            left = [.. _queue];
            _queue.Clear();
        }
        foreach (var job in left)
        {
            Finish(job, JobStates.Failed, InterruptedQueued);
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, _options.Workers).Select(_ => Task.Run(() => WorkAsync(stoppingToken), CancellationToken.None)));

    public override void Dispose()
    {
        _signal.Dispose();
        base.Dispose();
    }

    private JobTicket Enqueue(JobRecord record, IReadOnlyList<string> symbols, Func<Job, CancellationToken, Task> run, IProgress<IngestionProgress>? listener)
    {
        lock (_gate)
        {
            if (_stopping)
            {
                throw new LakehouseException(LakehouseErrorKind.Unavailable, "the server is stopping: submit the job again once it is back");
            }
            if (_queue.Count + _reserved >= _options.QueueCapacity)
            {
                throw new LakehouseException(LakehouseErrorKind.ResourceExhausted,
                    $"the job queue is full ({_options.QueueCapacity} jobs waiting): retry later, or raise Lakehouse:Jobs:QueueCapacity");
            }
            _reserved++;
        }
        var job = new Job(record, symbols, run, listener);
        try
        {
            // On disk before any worker can see it, so a record never goes back from running to queued.
            _files.Write(record);
        }
        catch (Exception ex) when (LakeFaults.Translate(ex, "the job record") is { } fault)
        {
            lock (_gate)
            {
                _reserved--;
            }
            // The file system's own text names the record's temp path: the fault says what happened in the lake's words.
            throw new LakehouseException(fault.Kind, $"the job was not queued (its record could not be written): {fault.Message}", ex);
        }
        lock (_gate)
        {
            _reserved--;
            _queue.AddLast(job);
            Remember(record);
        }
        _signal.Release();
        return new JobTicket(record, job.Done.Task);
    }

    private async Task WorkAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var job = TakeRunnable();
            if (job is null)
            {
                try
                {
                    await _signal.WaitAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                continue;
            }
            await RunAsync(job, stoppingToken).ConfigureAwait(false);
            // The symbols it held are free: another worker may now start a job that waited for them.
            _signal.Release();
        }
    }

    /// <summary>The oldest queued job none of whose symbols is held by a running job.</summary>
    private Job? TakeRunnable()
    {
        lock (_gate)
        {
            if (_exclusiveRunning || _stopping)
            {
                return null;
            }
            for (var node = _queue.First; node is not null; node = node.Next)
            {
                var job = node.Value;
                var free = job.Exclusive ? _running.Count == 0 : !job.Symbols.Any(_busySymbols.Contains);
                if (!free)
                {
                    continue;
                }
                _queue.Remove(node);
                _running[job.Record.Id] = job;
                _busySymbols.UnionWith(job.Symbols);
                _exclusiveRunning = job.Exclusive;
                return job;
            }
            return null;
        }
    }

    private async Task RunAsync(Job job, CancellationToken stoppingToken)
    {
        var sw = Stopwatch.StartNew();
        var record = job.Record;
        record.Update(s => s with { State = JobStates.Running, StartedAt = _time.GetUtcNow() });
        Persist(record);
        string state;
        string? error = null;
        Exception? failure = null;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(job.Cancellation.Token, stoppingToken);
        try
        {
            await job.Run(job, linked.Token).ConfigureAwait(false);
            var done = record.Status;
            state = done.State == JobStates.Running ? JobStates.Succeeded : done.State;
            error = done.Error;
        }
        catch (OperationCanceledException) when (job.CancelRequested)
        {
            (state, error) = (JobStates.Cancelled, CancelledRunning);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            (state, error) = (JobStates.Failed, InterruptedRunning);
        }
        catch (Exception ex)
        {
            // Whatever a job throws stays in its record, in words a client may read (no exception text, no
            // server path); the worker and the host go on.
            (state, error, failure) = (JobStates.Failed, ErrorOf(ex, record.Id), ex);
            if (LakeFaults.Translate(ex) is { Kind: not LakehouseErrorKind.Unavailable })
            {
                JobsLog.Failed(_logger, record.Id, error);
            }
            else
            {
                JobsLog.FailedUnexpectedly(_logger, ex, record.Id);
            }
        }
        lock (_gate)
        {
            _running.Remove(record.Id);
            _busySymbols.ExceptWith(job.Symbols);
            if (job.Exclusive)
            {
                _exclusiveRunning = false;
            }
        }
        Finish(job, state, error, failure);
        JobsLog.Finished(_logger, record.Id, record.Status.Kind, state, sw.ElapsedMilliseconds);
    }

    private async Task RunIngestAsync(Job job, IngestRequest request, CancellationToken cancellationToken)
    {
        var record = job.Record;
        var progress = new InlineProgress(p =>
        {
            record.Update(s => s with { Progress = new JobProgress(p.SymbolsDone, p.SymbolsTotal, p.Rows, p.Failed) });
            job.Listener?.Report(p);
        });
        var result = await _runner.RunAsync(request, progress, cancellationToken).ConfigureAwait(false);
        var none = result.Failures.Count > 0 && result.Reports.Count == 0;
        record.Update(s => s with
        {
            Reports = result.Reports,
            Failed = result.Failures.Count == 0 ? null : result.Failures,
            State = none ? JobStates.Failed : JobStates.Running,
            Error = result.Failures.Count == 0 ? null
                : none ? "no symbol could be ingested: " + string.Join("; ", result.Failures.Take(10).Select(f => $"{f.Symbol}: {f.Error}"))
                : $"{result.Failures.Count} symbol(s) failed: see 'failed'",
        });
    }

    private async Task RunFlowAsync(Job job, DateOnly date, CancellationToken cancellationToken)
    {
        var run = await _flow.RunAsync(date, cancellationToken: cancellationToken).ConfigureAwait(false);
        var symbols = _flow.Symbols.Count;
        var none = symbols > 0 && run.Failures.Select(f => f.Symbol).Distinct(StringComparer.Ordinal).Count() >= symbols;
        job.Record.Update(s => s with
        {
            Reports = run.Reports,
            Failed = run.Failures.Count == 0 ? null : run.Failures,
            State = none ? JobStates.Failed : JobStates.Running,
            Note = run.AlreadyCompleted ? $"nothing to do: the daily flow for {Day(date)} already completed (see _metadata/flows/daily.jsonl)" : null,
            Error = run.Steps.LastOrDefault()?.Error is { } stepError ? stepError
                : run.Failures.Count == 0 ? null
                : $"{run.Failures.Count} symbol failure(s): see 'failed'",
        });
    }

    /// <summary>A failed job's error as its record keeps it: the lake's own message, or a generic one that points to the log.</summary>
    private static string ErrorOf(Exception exception, string id) => LakeFaults.Translate(exception, "a file of the job") is { } fault
        ? fault.Message
        : $"the job failed on an unexpected server error (logged with job id {id}); commits made before it are kept";

    private void Finish(Job job, string state, string? error, Exception? failure = null)
    {
        var record = job.Record;
        record.Update(s => s with { State = state, Error = error, FinishedAt = _time.GetUtcNow() });
        Persist(record);
        job.Done.TrySetResult(failure);
    }

    private void Persist(JobRecord record)
    {
        try
        {
            // Under the gate: a write of an older status never lands after a newer one.
            lock (record.Gate)
            {
                _files.Write(record);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or LakehouseException)
        {
            // The job itself went on; the record in memory stays right and the next state change tries again.
            JobsLog.RecordNotWritten(_logger, ex, record.Id);
        }
    }

    /// <summary>Records a dead server left queued or running become failed: nothing is running them any more.</summary>
    private void Recover()
    {
        var all = new List<JobRecord>();
        foreach (var record in _files.ReadAll())
        {
            if (record.Status.State is var state and (JobStates.Queued or JobStates.Running))
            {
                JobsLog.Interrupted(_logger, record.Id, state);
                record.Update(s => s with
                {
                    State = JobStates.Failed,
                    Error = s.State == JobStates.Running ? InterruptedRunning : InterruptedQueued,
                    FinishedAt = _time.GetUtcNow(),
                });
                Persist(record);
            }
            all.Add(record);
        }
        lock (_gate)
        {
            foreach (var record in all.OrderBy(r => r.Status.CreatedAt).TakeLast(_options.Kept))
            {
                Remember(record);
            }
        }
    }

    /// <summary>Keeps the newest <see cref="JobOptions.Kept"/> records in memory (caller holds the gate); older ones stay on disk.</summary>
    private void Remember(JobRecord record)
    {
        _recent[record.Id] = record;
        if (_recent.Count <= _options.Kept)
        {
            return;
        }
        var oldest = _recent.Values.Select(r => r.Status).Where(s => JobStates.IsFinished(s.State)).MinBy(s => s.CreatedAt);
        if (oldest is not null)
        {
            _recent.Remove(oldest.Id);
        }
    }

    /// <summary>Time-ordered ids, so a listing of the folder reads oldest first.</summary>
    private string NewId() =>
        _time.GetUtcNow().ToString("yyyyMMddHHmmssfff", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..8];

    private static string? Day(DateOnly? date) => date?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private sealed class Job(JobRecord record, IReadOnlyList<string> symbols, Func<Job, CancellationToken, Task> run, IProgress<IngestionProgress>? listener)
    {
        public JobRecord Record { get; } = record;

        public IReadOnlyList<string> Symbols { get; } = symbols;

        /// <summary>No symbol list (a CSV folder): it may touch any symbol, so it runs alone.</summary>
        public bool Exclusive => Symbols.Count == 0;

        public Func<Job, CancellationToken, Task> Run { get; } = run;

        public IProgress<IngestionProgress>? Listener { get; } = listener;

        public CancellationTokenSource Cancellation { get; } = new();

        public TaskCompletionSource<Exception?> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Set under the service's gate before the token is cancelled, so the worker can tell a DELETE from a shutdown.</summary>
        public bool CancelRequested { get; set; }
    }

    /// <summary>IProgress without a SynchronizationContext hop: reported on the runner's thread, in order.</summary>
    private sealed class InlineProgress(Action<IngestionProgress> report) : IProgress<IngestionProgress>
    {
        public void Report(IngestionProgress value) => report(value);
    }
}

/// <summary>What <see cref="JobService.Cancel"/> found.</summary>
internal enum CancelOutcome
{
    /// <summary>The job was queued and is cancelled now.</summary>
    Cancelled,

    /// <summary>The job is running and stops at its next commit boundary.</summary>
    Stopping,

    /// <summary>The job had already finished: nothing to cancel.</summary>
    Finished,

    /// <summary>No job has that id.</summary>
    NotFound,
}
