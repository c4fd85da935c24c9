using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Storage;

internal static partial class StorageLog
{
    [LoggerMessage(1, LogLevel.Warning, "Recovery: rolled forward {Journals} committed write(s) and removed {Temps} stale temp file(s)")]
    public static partial void Recovered(ILogger logger, int journals, int temps);

    [LoggerMessage(2, LogLevel.Information, "Another process changed {Table} {Symbol}: index and cache refreshed")]
    public static partial void ExternalChange(ILogger logger, string table, string symbol);

    [LoggerMessage(3, LogLevel.Debug, "{Table}: {Symbols} symbol(s) written, {Files} file(s) in {Ms} ms")]
    public static partial void Committed(ILogger logger, string table, int symbols, int files, long ms);

    [LoggerMessage(4, LogLevel.Warning, "A write is committed and its files are in place, but its manifest lines could not be appended yet ({Reason}); they follow with the next commit or start")]
    public static partial void ApplyPending(ILogger logger, string reason);

    [LoggerMessage(5, LogLevel.Warning, "The data dir is read-only: recovery skipped, the lake is served read-only")]
    public static partial void ReadOnlyLake(ILogger logger);

    [LoggerMessage(6, LogLevel.Information, "Upload {RunId}: {Rows} row(s) durable in the write-ahead log, applied in the background")]
    public static partial void UploadLogged(ILogger logger, string runId, long rows);

    [LoggerMessage(7, LogLevel.Information, "Upload {RunId}: {Rows} row(s) applied")]
    public static partial void UploadApplied(ILogger logger, string runId, long rows);

    [LoggerMessage(8, LogLevel.Warning, "Applying acknowledged uploads failed ({Reason}); retrying in {DelayMs} ms")]
    public static partial void UploadApplyFailed(ILogger logger, string reason, long delayMs);
    [LoggerMessage(20, LogLevel.Warning, "A compacted copy was damaged and is deleted (it is rebuilt; reads use the month files meanwhile): {Reason}")]
    public static partial void CompactCopyRejected(ILogger logger, string reason);

    [LoggerMessage(21, LogLevel.Information, "Compaction: {Checked} symbol(s) checked, {Rebuilt} copy file(s) written ({Rows} rows, {Bytes} bytes) in {Ms} ms")]
    public static partial void Compacted(ILogger logger, int @checked, int rebuilt, long rows, long bytes, long ms);

    [LoggerMessage(22, LogLevel.Information, "Partition index ready: {Partitions} partition(s) listed in {Ms} ms")]
    public static partial void IndexLoaded(ILogger logger, long partitions, long ms);

    [LoggerMessage(23, LogLevel.Error, "Listing the lake failed: reads and writes fail until a restart")]
    public static partial void IndexFailed(ILogger logger, Exception error);

    [LoggerMessage(24, LogLevel.Warning, "Sweeping stale temp files failed ({Reason}); the next start sweeps again")]
    public static partial void TempSweepFailed(ILogger logger, string reason);
}
