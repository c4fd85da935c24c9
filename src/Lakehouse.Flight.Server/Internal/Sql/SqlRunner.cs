using System.Diagnostics;
using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Storage;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Server.Internal.Sql;

/// <summary>What one statement read: the lake version it was pinned to and the rows it answered.</summary>
internal readonly record struct SqlRun(long Version, long Rows);

/// <summary>
/// The one way a SQL statement runs for a caller, whatever the door: Flight SQL's DoGet, HTTP <c>POST /sql</c> and
/// <c>lakehouse sql</c> (decisions D41). The statement is checked (not empty, not longer than a Flight command), then run
/// on an engine instance opened at the lake version current now, under the engine's guard, limits and concurrency slots;
/// the rows go to the sink the caller makes once it knows that version.
/// </summary>
internal sealed class SqlRunner(SqlEngine engine, ILogger<SqlRunner> logger)
{
    /// <summary>Rows per batch the engine hands over (a door may cut them smaller).</summary>
    public const int BatchRows = 64 * 1024;

    public SqlOptions Options => engine.Options;

    /// <param name="sql">The statement.</param>
    /// <param name="parameters">Positional values for <c>?</c> or <c>$1</c>...</param>
    /// <param name="sinkAt">The sink for the rows, given the lake version the statement reads.</param>
    /// <param name="cancellationToken">Stops the statement (the engine is interrupted, not only the stream).</param>
    /// <param name="asOf">The moment to read given beside the statement (an HTTP body's or a command line's fields); the
    /// statement's own <c>-- lakehouse:</c> hint is the other way (<see cref="SqlAsOf"/>), and only one may be given.</param>
    public async Task<SqlRun> RunAsync(string sql, IReadOnlyList<object?> parameters, Func<long, IDoGetSink> sinkAt, CancellationToken cancellationToken,
        ReadAsOf? asOf = null)
    {
        FlightSqlService.RequireSql(sql);
        var sw = Stopwatch.StartNew();
        var moment = SqlAsOf.Of(sql, asOf, "the request's as_of, version or snapshot");
        if (engine.FastPlan(sql, parameters, moment) is { } plan && await engine.ReadFastAsync(plan, cancellationToken).ConfigureAwait(false) is { } read)
        {
            var served = await StreamAsync(plan, read, sinkAt(read.Version), cancellationToken).ConfigureAwait(false);
            ServerLog.SqlServedFast(logger, read.Version, served, sw.ElapsedMilliseconds);
            return new SqlRun(read.Version, served);
        }
        using var session = await engine.OpenAsync(moment, cancellationToken).ConfigureAwait(false);
        var rows = await session.ExecuteAsync(sql, parameters, sinkAt(session.Version), BatchRows, cancellationToken).ConfigureAwait(false);
        ServerLog.SqlServed(logger, session.Version, rows, sw.ElapsedMilliseconds);
        return new SqlRun(session.Version, rows);
    }

    /// <summary>
    /// Streams a fast-path read (decisions D47) under the engine path's limits: the row cap (checked before the first row:
    /// the read is resolved), the timeout and the caller's cancellation. Batches carry the schema the engine would give.
    /// </summary>
    private async Task<long> StreamAsync(SqlFastPath.Plan plan, OneVersionRead read, IDoGetSink sink, CancellationToken cancellationToken)
    {
        var options = engine.Options;
        // Resolved reads (the current version) are checked before the first row; reads as of a moment as they stream.
        var limit = plan.Query.Limit > 0 ? Math.Min(plan.Query.Limit, read.PinnedRows) : read.PinnedRows;
        if (limit > options.MaxResultRows)
        {
            throw SqlSession.TooManyRows(options);
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(options.TimeoutSeconds));
        var ct = timeout.Token;
        try
        {
            if (!await sink.StartAsync(plan.Schema, ct).ConfigureAwait(false))
            {
                return 0;
            }
            long rows = 0;
            foreach (var batch in read.Batches)
            {
                ct.ThrowIfCancellationRequested();
                if (rows + batch.Length > options.MaxResultRows)
                {
                    throw SqlSession.TooManyRows(options);
                }
                if (!await sink.WriteAsync(new RecordBatch(plan.Schema, batch.Arrays, batch.Length), ct).ConfigureAwait(false))
                {
                    return rows;
                }
                rows += batch.Length;
            }
            return rows;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw SqlSession.TimedOut(options);
        }
    }
}
