using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Server;

internal static partial class ServerLog
{
    [LoggerMessage(1, LogLevel.Information, "Flight listening on {Endpoint} (data dir {DataDir})")]
    public static partial void Listening(ILogger logger, string endpoint, string dataDir);

    [LoggerMessage(2, LogLevel.Warning, "No credentials configured: authentication is off and the server listens on loopback only ({Host}); configure Lakehouse:Auth:Users or Lakehouse:Auth:Tokens to serve other hosts")]
    public static partial void NoAuthLoopbackOnly(ILogger logger, string host);

    [LoggerMessage(3, LogLevel.Warning, "{Method} refused: {Message}")]
    public static partial void Refused(ILogger logger, string method, string message);

    [LoggerMessage(4, LogLevel.Error, "{Method} failed")]
    public static partial void Failed(ILogger logger, Exception exception, string method);

    [LoggerMessage(5, LogLevel.Debug, "DoGet {Symbols} symbol(s): {Rows} row(s) in {Batches} message(s), {Ms} ms")]
    public static partial void Served(ILogger logger, int symbols, long rows, long batches, long ms);

    [LoggerMessage(6, LogLevel.Information, "DoPut landed {Rows} row(s) from source {Source} (promote {Promote})")]
    public static partial void Uploaded(ILogger logger, long rows, string source, bool promote);

    [LoggerMessage(7, LogLevel.Information, "Action {Action} by {User} done in {Ms} ms")]
    public static partial void ActionDone(ILogger logger, string action, string user, long ms);

    [LoggerMessage(8, LogLevel.Debug, "{User} authenticated as {Role}")]
    public static partial void Authenticated(ILogger logger, string user, Role role);

    [LoggerMessage(9, LogLevel.Debug, "{Method} cancelled by the client")]
    public static partial void Cancelled(ILogger logger, string method);

    [LoggerMessage(10, LogLevel.Warning, "Ingestion job {Job} failed: {Message}")]
    public static partial void JobFailed(ILogger logger, string job, string message);

    [LoggerMessage(11, LogLevel.Information, "HTTP listening on {Endpoint}")]
    public static partial void HttpListening(ILogger logger, string endpoint);

    [LoggerMessage(12, LogLevel.Information, "Cache warmed: {Rows} row(s) loaded in {Ms} ms")]
    public static partial void Warmed(ILogger logger, long rows, long ms);

    [LoggerMessage(14, LogLevel.Information, "Gold rebuilt after crash recovery: {Symbols} symbol(s), {Reports} report(s)")]
    public static partial void RecoveredGold(ILogger logger, int symbols, int reports);

    [LoggerMessage(13, LogLevel.Information, "Serving code warmed: {Calls} read(s) in the process, {LoopbackCalls} DoGet call(s) to its own port, {Methods} method(s) compiled, {Bytes} byte(s) serialised in {Ms} ms ({CpuMs} ms of CPU)")]
    public static partial void ServingWarmed(ILogger logger, int calls, int loopbackCalls, long methods, long bytes, long ms, long cpuMs);

    [LoggerMessage(40, LogLevel.Debug, "SQL query served at lake version {Version}: {Rows} row(s) in {Ms} ms")]
    public static partial void SqlServed(ILogger logger, long version, long rows, long ms);

    [LoggerMessage(42, LogLevel.Debug, "SQL query served by the lake's read path (fast path) at lake version {Version}: {Rows} row(s) in {Ms} ms")]
    public static partial void SqlServedFast(ILogger logger, long version, long rows, long ms);

    [LoggerMessage(41, LogLevel.Information, "SQL engine instance opened for lake version {Version}: {Files} data file(s) in {Ms} ms")]
    public static partial void SqlInstanceOpened(ILogger logger, long version, int files, long ms);
}
