using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Server.Jobs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lakehouse.Flight.Server.Http;

/// <summary>The job endpoints over <see cref="JobService"/>: queue an ingestion, list, read and cancel jobs.</summary>
internal static class JobsApi
{
    public const int DefaultListLimit = 50;

    public static void MapJobsApi(this RouteGroupBuilder api)
    {
        api.MapPost("/prices/jobs/daily/range", PostRangeJob)
            .WithName("QueueDailyRangeJob")
            .WithSummary("Queues an ingestion job (bronze, then silver) for symbols and a date range; 202 with the job and its Location; 429 when the queue is full.");
        api.MapGet("/prices/jobs", ListJobs)
            .WithName("ListJobs")
            .WithSummary("Recent jobs (ingestion and the daily flow), newest first; `limit` (default 50).");
        api.MapGet("/prices/jobs/{id}", GetJob)
            .WithName("GetJob")
            .WithSummary("A job's state (queued, running, succeeded, failed, cancelled), timestamps, request and, when done, its StorageReports and failures.");
        api.MapDelete("/prices/jobs/{id}", DeleteJob)
            .WithName("CancelJob")
            .WithSummary("Cancels a queued job (200, cancelled) or asks a running one to stop at its next commit (202); a finished job is 409.");
    }

    private static IResult PostRangeJob(JobService jobs, IngestionRunner runner, string? symbol, string? symbols, string? date_from, string? date_to,
        string? source)
    {
        var list = Symbols.NormalizeAll(new[] { symbol, symbols }.Where(s => !string.IsNullOrWhiteSpace(s))!);
        if (list.Count == 0)
        {
            throw LakehouseException.Invalid("query parameter 'symbol' (or 'symbols=A,B') is required");
        }
        var from = PriceQuery.ParseDate(date_from, "date_from") ?? throw LakehouseException.Invalid("query parameter 'date_from' is required (YYYY-MM-DD)");
        var to = PriceQuery.ParseDate(date_to, "date_to") ?? throw LakehouseException.Invalid("query parameter 'date_to' is required (YYYY-MM-DD)");
        if (from > to)
        {
            throw LakehouseException.Invalid($"date_from {from:yyyy-MM-dd} is after date_to {to:yyyy-MM-dd}");
        }
        var src = runner.Source(string.IsNullOrWhiteSpace(source) ? SyntheticSource.Name : source).Name;
        var ticket = jobs.EnqueueIngest(new IngestRequest(src, list, from, to));
        return Results.Accepted($"/prices/jobs/{ticket.Record.Id}", Snapshot(ticket.Record));
    }

    private static IResult ListJobs(JobService jobs, int? limit)
    {
        var n = limit ?? DefaultListLimit;
        if (n is < 1 or > 10_000)
        {
            throw LakehouseException.Invalid($"limit must be between 1 and 10000 (got {n})");
        }
        return Results.Ok(jobs.List(n).Select(Snapshot).ToArray());
    }

    private static IResult GetJob(JobService jobs, string id) =>
        jobs.Find(id) is { } job ? Results.Ok(Snapshot(job)) : NotFound(id);

    private static IResult DeleteJob(JobService jobs, string id)
    {
        var before = jobs.Find(id)?.State;
        if (before is null)
        {
            return NotFound(id);
        }
        if (JobStates.IsFinished(before))
        {
            throw new LakehouseException(LakehouseErrorKind.Conflict, $"job '{id}' already finished ({before}): there is nothing to cancel");
        }
        var job = jobs.Cancel(id) ?? throw new LakehouseException(LakehouseErrorKind.NotFound, $"no job '{id}'");
        var snapshot = Snapshot(job);
        // A running job stops at its next commit boundary: 202 and its Location to poll; a queued one is cancelled now.
        return before == JobStates.Running ? Results.Accepted($"/prices/jobs/{id}", snapshot) : Results.Ok(snapshot);
    }

    private static IResult NotFound(string id) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not Found",
            detail: $"no job '{id}': GET /prices/jobs lists recent jobs; records are kept under _metadata/jobs/");

    /// <summary>A copy a worker does not mutate while the response is serialised.</summary>
    private static JobRecord Snapshot(JobRecord record) => JobRecord.FromJson(record.ToJson())!;
}
