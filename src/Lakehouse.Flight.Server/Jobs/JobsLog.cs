using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Server.Jobs;

internal static partial class JobsLog
{
    [LoggerMessage(101, LogLevel.Information, "Job {Job} ({Kind}) {State} in {Ms} ms")]
    public static partial void Finished(ILogger logger, string job, string kind, string state, long ms);

    [LoggerMessage(102, LogLevel.Warning, "Job {Job} failed: {Message}")]
    public static partial void Failed(ILogger logger, string job, string message);

    [LoggerMessage(109, LogLevel.Error, "Job {Job} failed on an unexpected error")]
    public static partial void FailedUnexpectedly(ILogger logger, Exception exception, string job);

    [LoggerMessage(103, LogLevel.Warning, "Job {Job} was left {State} by a server that stopped; marked failed")]
    public static partial void Interrupted(ILogger logger, string job, string state);

    [LoggerMessage(104, LogLevel.Error, "Job record {Job} could not be written")]
    public static partial void RecordNotWritten(ILogger logger, Exception exception, string job);

    [LoggerMessage(105, LogLevel.Information, "Daily flow scheduled: next run at {Next} ({Cron} in {Zone})")]
    public static partial void NextRun(ILogger logger, DateTimeOffset next, string cron, string zone);

    [LoggerMessage(106, LogLevel.Information, "Daily flow for {Date} queued as job {Job}")]
    public static partial void FlowQueued(ILogger logger, string date, string job);

    [LoggerMessage(107, LogLevel.Warning, "Daily flow for {Date} not queued: {Message}")]
    public static partial void FlowNotQueued(ILogger logger, string date, string message);

    [LoggerMessage(108, LogLevel.Error, "Daily flow scheduler stopped: {Message}")]
    public static partial void SchedulerStopped(ILogger logger, string message);
}
