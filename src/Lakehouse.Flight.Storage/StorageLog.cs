using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Storage;

internal static partial class StorageLog
{
    [LoggerMessage(1, LogLevel.Warning, "Recovery: finished {Commits} commit(s) of writers that died after their commit point and removed {Files} stale file(s)")]
    public static partial void Recovered(ILogger logger, int commits, int files);

    [LoggerMessage(2, LogLevel.Information, "Followed {Entries} commit(s) of other processes; the lake is at version {Version}")]
    public static partial void FollowedCommits(ILogger logger, int entries, long version);

    [LoggerMessage(3, LogLevel.Debug, "{Tables}: {Reports} report(s), {Files} new file(s), version {Version} in {Ms} ms")]
    public static partial void Committed(ILogger logger, string tables, int reports, int files, long version, long ms);

    [LoggerMessage(4, LogLevel.Warning, "A write is committed, but its manifest lines could not be appended yet ({Reason}); the next repair appends them from the log")]
    public static partial void ApplyPending(ILogger logger, string reason);

    [LoggerMessage(5, LogLevel.Warning, "The data dir is read-only: repair skipped, the lake is served read-only")]
    public static partial void ReadOnlyLake(ILogger logger);

    [LoggerMessage(6, LogLevel.Information, "Upload {RunId}: {Rows} row(s) durable in the write-ahead log, applied in the background")]
    public static partial void UploadLogged(ILogger logger, string runId, long rows);

    [LoggerMessage(7, LogLevel.Information, "Upload {RunId}: {Rows} row(s) applied")]
    public static partial void UploadApplied(ILogger logger, string runId, long rows);

    [LoggerMessage(8, LogLevel.Warning, "Applying acknowledged uploads failed ({Reason}); retrying in {DelayMs} ms")]
    public static partial void UploadApplyFailed(ILogger logger, string reason, long delayMs);

    [LoggerMessage(9, LogLevel.Warning, "{Table}: version {Version} is committed but its folder could not be published yet ({Reason}); the next repair publishes it")]
    public static partial void PublishPending(ILogger logger, string table, long version, string reason);

    [LoggerMessage(10, LogLevel.Warning, "Checkpoint of version {Version} not written ({Reason}); opening reads the entries since the previous one")]
    public static partial void CheckpointFailed(ILogger logger, long version, string reason);

    [LoggerMessage(11, LogLevel.Warning, "Splicing a commit into the read cache failed ({Reason}); its symbols are dropped from the cache instead")]
    public static partial void CacheSpliceFailed(ILogger logger, string reason);

    [LoggerMessage(21, LogLevel.Information, "Compaction of {Table}: {FilesIn} file(s) into {FilesOut} ({Rows} rows, {Bytes} bytes) in {Ms} ms")]
    public static partial void Compacted(ILogger logger, string table, int filesIn, int filesOut, long rows, long bytes, long ms);

    [LoggerMessage(22, LogLevel.Information, "Lake open: {Files} data file(s) indexed at version {Version} in {Ms} ms")]
    public static partial void IndexLoaded(ILogger logger, long files, long version, long ms);

    [LoggerMessage(23, LogLevel.Error, "Loading the lake's file directories failed: reads and writes fail until a restart")]
    public static partial void IndexFailed(ILogger logger, Exception error);

    [LoggerMessage(24, LogLevel.Warning, "Repair or sweep of stale files failed ({Reason}); the next open or maintenance pass tries again")]
    public static partial void TempSweepFailed(ILogger logger, string reason);

    [LoggerMessage(25, LogLevel.Information, "Vacuum: {Files} superseded file(s) past retention deleted ({Bytes} bytes)")]
    public static partial void Vacuumed(ILogger logger, int files, long bytes);

    [LoggerMessage(26, LogLevel.Information, "{Table}: folder republished at version {Version} (a writer died before publishing it)")]
    public static partial void Republished(ILogger logger, string table, long version);

    [LoggerMessage(27, LogLevel.Information, "Snapshot '{Name}' created at version {Version}")]
    public static partial void SnapshotCreated(ILogger logger, string name, long version);
}
