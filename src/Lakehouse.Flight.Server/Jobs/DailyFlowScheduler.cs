using System.Globalization;
using Cronos;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion.Flow;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Server.Jobs;

/// <summary>
/// Runs the daily flow on <c>Lakehouse:Flow:Cron</c> in <c>Lakehouse:Flow:TimeZone</c>, through the job
/// service (so it queues behind, and never overlaps, other jobs on the same symbols). The flow's date is
/// the occurrence's date in that zone. Occurrences missed while the server was down are not replayed:
/// the lookback of the next run fetches those days again.
/// </summary>
internal sealed class DailyFlowScheduler : BackgroundService
{
    private readonly DailyFlowOptions _options;
    private readonly JobService _jobs;
    private readonly TimeProvider _time;
    private readonly ILogger<DailyFlowScheduler> _logger;
    private long _nextTicks = -1;

    public DailyFlowScheduler(DailyFlowOptions options, JobService jobs, TimeProvider time, ILogger<DailyFlowScheduler> logger)
    {
        _options = options;
        _jobs = jobs;
        _time = time;
        _logger = logger;
    }

    /// <summary>When the scheduler fires next (UTC); null while it is not waiting (off, or between runs).</summary>
    public DateTimeOffset? NextRunUtc
    {
        get
        {
            var ticks = Interlocked.Read(ref _nextTicks);
            return ticks < 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }

    /// <summary>Parses a cron expression (five fields), or InvalidArgument naming the setting.</summary>
    public static CronExpression ParseCron(string cron)
    {
        try
        {
            return CronExpression.Parse(cron, CronFormat.Standard);
        }
        catch (CronFormatException ex)
        {
            throw LakehouseException.Invalid($"Lakehouse:Flow:Cron '{cron}' is not a cron expression ({ex.Message}): use five fields, e.g. 30 22 * * 1-5");
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
        {
            return;
        }
        try
        {
            await LoopAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // A scheduler bug must not stop the server (BackgroundService failures stop the host by default).
            JobsLog.SchedulerStopped(_logger, $"{ex.GetType().Name}: {ex.Message}");
        }
    }

    private async Task LoopAsync(CancellationToken stoppingToken)
    {
        var cron = ParseCron(_options.Cron);
        var zone = _options.Zone();
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = _time.GetUtcNow();
            if (cron.GetNextOccurrence(now, zone) is not { } next)
            {
                return;
            }
            // The timer exists before the next run is published: whoever reads NextRunUtc and moves the
            // clock past it (a test's fake time) cannot do so before there is a timer to fire.
            var wait = Task.Delay(next - now, _time, stoppingToken);
            Interlocked.Exchange(ref _nextTicks, next.UtcTicks);
            JobsLog.NextRun(_logger, next, _options.Cron, _options.TimeZone);
            await wait.ConfigureAwait(false);
            Interlocked.Exchange(ref _nextTicks, -1);
            var date = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(next, zone).DateTime);
            var day = date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            try
            {
                var ticket = _jobs.EnqueueFlow(date);
                JobsLog.FlowQueued(_logger, day, ticket.Record.Id);
            }
            catch (LakehouseException ex)
            {
                // A full queue or a stopping server: this occurrence is skipped; the next one's lookback covers it.
                JobsLog.FlowNotQueued(_logger, day, ex.Message);
            }
        }
    }
}
