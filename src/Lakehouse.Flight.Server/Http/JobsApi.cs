using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Wire;
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
            .WithSummary("Queues an ingestion job (bronze, then silver) for symbols (symbol=A,B, repeatable, or symbols=) and a date range; 202 with the job and its Location; 429 when the queue is full.")
            .WithQueryParameters(RangeParameters);
        api.MapGet("/prices/jobs", ListJobs)
            .WithName("ListJobs")
            .WithSummary("Recent jobs (ingestion and the daily flow), newest first; `limit` (1..10000, default 50).")
            .WithQueryParameters(ListParameters);
        api.MapGet("/prices/jobs/{id}", GetJob)
            .WithName("GetJob")
            .WithSummary("A job's state (queued, running, succeeded, failed, cancelled), timestamps, request and, when done, its StorageReports and failures.");
        api.MapDelete("/prices/jobs/{id}", DeleteJob)
            .WithName("CancelJob")
            .WithSummary("Cancels a queued job (200, cancelled) or asks a running one to stop at its next commit (202); a finished job is 409.");
    }

    private static readonly HttpParameter[] RangeParameters =
    [
        new("symbol", "Ticker(s): AAPL, or AAPL,MSFT; repeatable (symbols= is the same)", Required: true),
        new("symbols", "Same as symbol"),
        new("date_from", "First date, YYYY-MM-DD", Required: true),
        new("date_to", "Last date, YYYY-MM-DD", Required: true),
        new("source", "synthetic (default), yahoo or csv"),
    ];

    private static readonly HttpParameter[] ListParameters = [new("limit", "Jobs to list, newest first (1..10000, default 50)")];

    private static IResult PostRangeJob(HttpContext http, JobService jobs, IngestionRunner runner)
    {
        var q = HttpQuery.Of(http, RangeParameters.Names());
        var list = q.Symbols();
        if (list.Count == 0)
        {
            throw LakehouseException.Invalid("query parameter 'symbol' (or 'symbols=A,B') is required");
        }
        var from = TableQuery.ParseDate(q.Text("date_from"), "date_from") ?? throw LakehouseException.Invalid("query parameter 'date_from' is required (YYYY-MM-DD)");
        var to = TableQuery.ParseDate(q.Text("date_to"), "date_to") ?? throw LakehouseException.Invalid("query parameter 'date_to' is required (YYYY-MM-DD)");
        LakeDates.CheckRange(from, to);
        var src = runner.Source(q.Text("source") ?? SyntheticBars.Name).Name;
        var ticket = jobs.EnqueueIngest(new IngestRequest(src, list, from, to));
        return Status(http, ticket.Record, accepted: true);
    }

    private static IResult ListJobs(HttpContext http, JobService jobs)
    {
        var n = HttpQuery.Of(http, ListParameters.Names()).Int("limit", DefaultListLimit, 1, 10_000);
        return Results.Json(jobs.List(n), WireJson.Default.IReadOnlyListJobStatus);
    }

    private static IResult GetJob(HttpContext http, JobService jobs, string id)
    {
        _ = HttpQuery.Of(http);
        return jobs.Find(id) is { } job ? Status(http, job, accepted: false) : NotFound(id);
    }

    private static IResult DeleteJob(HttpContext http, JobService jobs, string id)
    {
        _ = HttpQuery.Of(http);
        var (job, outcome) = jobs.Cancel(id);
        return outcome switch
        {
            _ when job is null => NotFound(id),
            CancelOutcome.Finished => throw new LakehouseException(LakehouseErrorKind.Conflict,
                $"job '{id}' already finished ({job.Status.State}): there is nothing to cancel"),
            // A running job stops at its next commit boundary: 202 and its Location to poll; a queued one is cancelled now.
            _ => Status(http, job, accepted: outcome == CancelOutcome.Stopping),
        };
    }

    private static IResult NotFound(string id) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not Found",
            detail: $"no job '{id}': GET /prices/jobs lists recent jobs; records are kept under _metadata/jobs/");

    /// <summary>The job's status: 200, or 202 with its Location to poll.</summary>
    private static IResult Status(HttpContext http, JobRecord job, bool accepted)
    {
        var status = job.Status;
        if (!accepted)
        {
            return Results.Json(status, WireJson.Default.JobStatus);
        }
        http.Response.Headers.Location = $"/prices/jobs/{status.Id}";
        return Results.Json(status, WireJson.Default.JobStatus, statusCode: StatusCodes.Status202Accepted);
    }
}
