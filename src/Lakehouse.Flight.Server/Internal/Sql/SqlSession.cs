using System.Text.RegularExpressions;
using Apache.Arrow;
using Apache.Arrow.Types;
using DuckDB.NET.Data;
using DuckDB.NET.Native;
using Grpc.Core;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Server.Internal.Sql;

/// <summary>
/// One query's connection to the engine instance of one lake version (<see cref="Version"/>), shared with the other queries
/// at that version (docs/decisions.md D40). Runs one statement at a time with the query's limits: only queries (no
/// statement that changes the instance others share), a row cap on the result, a timeout, and cancellation by the caller's
/// token (which interrupts this connection's statement, not only the stream, and no other query's).
/// </summary>
internal sealed partial class SqlSession(DuckDBConnection connection, long version, string lakeRoot, SqlOptions limits, Action? released = null,
    IReadOnlySet<string>? files = null, IReadOnlyList<LakehouseException>? unreadable = null) : IDisposable
{
    public long Version => version;

    /// <summary>
    /// The result's schema, from the prepared statement (bound, not run: an aggregate over billions of rows answers at once).
    /// Columns whose type only the bound parameters decide are described with them, by starting the statement.
    /// </summary>
    public Schema Describe(string sql, IReadOnlyList<object?> parameters, CancellationToken cancellationToken)
    {
        using var query = Prepare(sql, cancellationToken);
        var columns = query.Columns;
        if (parameters.Count == 0 || !columns.Any(c => c.Type is DuckDBType.Invalid or DuckDBType.SqlNull or DuckDBType.Any))
        {
            return DuckArrow.SchemaOf(columns);
        }
        return Run(cancellationToken, () =>
        {
            query.Bind(parameters);
            using var result = query.Execute();
            return DuckArrow.SchemaOf(result.Columns);
        });
    }

    /// <summary>An engine setting as this query's connection sees it (tests: the limits are the instance's; no guard, never served).</summary>
    internal string Setting(string name)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT current_setting($1)::VARCHAR";
        command.Parameters.Add(new DuckDBParameter(name));
        return (string)command.ExecuteScalar()!;
    }

    /// <summary>How many parameters the statement has.</summary>
    public int ParameterCount(string sql, CancellationToken cancellationToken) => ParameterTypes(sql, cancellationToken).Count;

    /// <summary>
    /// Each parameter's Arrow type where the engine infers it from the statement (<c>symbol = ?</c> is utf8, <c>date &gt;= ?</c>
    /// date32), Arrow null ("any type") where nothing tells; a bound value of another type is cast by the engine where it can be.
    /// </summary>
    public IReadOnlyList<IArrowType> ParameterTypes(string sql, CancellationToken cancellationToken)
    {
        using var query = Prepare(sql, cancellationToken);
        return query.ParameterTypes.Select(DuckArrow.ParameterTypeOf).ToArray();
    }

    /// <summary>
    /// Runs the statement and hands its rows to <paramref name="sink"/> as the engine produces them (chunks of at most 2,048
    /// rows, far below one message; <paramref name="batchRows"/> is not used).
    /// </summary>
    public async Task<long> ExecuteAsync(string sql, IReadOnlyList<object?> parameters, IDoGetSink sink, int batchRows,
        CancellationToken cancellationToken)
    {
        _ = batchRows;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(limits.TimeoutSeconds));
        var ct = timeout.Token;
        using var interrupt = Interrupter.On(connection, ct);
        try
        {
            using var query = Prepare(sql, ct);
            query.Bind(parameters);
            using var result = query.Execute();
            var schema = DuckArrow.SchemaOf(result.Columns);
            if (!await sink.StartAsync(schema, ct).ConfigureAwait(false))
            {
                return 0;
            }
            long rows = 0;
            while (result.Next() is { } exported)
            {
                using (exported)
                {
                    rows += exported.Length;
                    if (rows > limits.MaxResultRows)
                    {
                        throw TooManyRows(limits);
                    }
                    ct.ThrowIfCancellationRequested();
                    // The exported chunk's native buffers are released when it is disposed, right after the write: a sink that
                    // serialises the batch within WriteAsync (the Flight and IPC writers) takes it as it is; any other gets a copy.
                    if (!await sink.WriteAsync(DuckArrow.Serve(schema, exported, owned: sink is not IWritesThrough), ct).ConfigureAwait(false))
                    {
                        return rows;
                    }
                }
            }
            return rows;
        }
        catch (Exception ex) when (ex is not LakehouseException && ct.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw TimedOut(limits);
        }
        catch (EngineError ex) when (!ct.IsCancellationRequested)
        {
            throw Translate(ex.Message, ex);
        }
    }

    /// <summary>
    /// Prepares one statement, refused unless it is a query: the instance is shared by the version's queries, so a statement
    /// that would change it (CREATE, DROP, ATTACH, DETACH, SET, USE...) never runs. Columns the engine would export in a type
    /// served as text (TIME, INTERVAL, ENUM...) are cast to VARCHAR by the engine itself.
    /// </summary>
    private PreparedQuery Prepare(string sql, CancellationToken cancellationToken)
    {
        SqlGuard.Check(sql);
        var query = Run(cancellationToken, () => PreparedQuery.Prepare(connection, sql));
        try
        {
            if (!query.IsQuery)
            {
                throw new LakehouseException(LakehouseErrorKind.PermissionDenied,
                    "only queries are served (SELECT, WITH, VALUES, FROM, DESCRIBE, SHOW, SUMMARIZE): the lake is written by uploads and ingestion, "
                    + "and the engine's settings, catalogue and attachments are fixed");
            }
            var columns = query.Columns;
            if (!columns.Any(c => DuckArrow.ServedAsText(c.Type)))
            {
                return query;
            }
            var wrapped = AsText(sql, columns);
            query.Dispose();
            return Run(cancellationToken, () => PreparedQuery.Prepare(connection, wrapped));
        }
        catch
        {
            query.Dispose();
            throw;
        }
    }

    [GeneratedRegex(@"[\s;]+$")]
    private static partial Regex TrailingSemicolons();

    private static string AsText(string sql, IReadOnlyList<(string Name, DuckDBType Type)> columns)
    {
        var casts = columns.Where(c => DuckArrow.ServedAsText(c.Type)).Select(c => $"CAST(q.{SqlEngine.Quote(c.Name)} AS VARCHAR) AS {SqlEngine.Quote(c.Name)}");
        return $"SELECT * REPLACE ({string.Join(", ", casts)}) FROM (\n{TrailingSemicolons().Replace(sql, "")}\n) AS q";
    }

    private T Run<T>(CancellationToken cancellationToken, Func<T> run)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(limits.TimeoutSeconds));
        using var interrupt = Interrupter.On(connection, timeout.Token);
        try
        {
            return run();
        }
        catch (Exception ex) when (ex is not LakehouseException && timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw TimedOut(limits);
        }
        catch (EngineError ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw Translate(ex.Message, ex);
        }
        catch (EngineError) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
    }

    /// <summary>A query stopped by <see cref="SqlOptions.TimeoutSeconds"/>, whichever path ran it (the engine's, the fast path's).</summary>
    internal static RpcException TimedOut(SqlOptions limits) => new(new Status(StatusCode.DeadlineExceeded,
        $"the query ran longer than {limits.TimeoutSeconds} s (Lakehouse:Sql:TimeoutSeconds) and was stopped: narrow it or raise the limit"));

    /// <summary>A result past <see cref="SqlOptions.MaxResultRows"/>, whichever path ran it.</summary>
    internal static LakehouseException TooManyRows(SqlOptions limits) => new(LakehouseErrorKind.ResourceExhausted,
        $"the result has more than {limits.MaxResultRows:N0} rows (Lakehouse:Sql:MaxResultRows): add a WHERE, a LIMIT or an aggregate");

    [GeneratedRegex(@"(?<![\w<])/(?:[^\s'""/]+/)*[^\s'"",)]+")]
    private static partial Regex AbsolutePath();

    /// <summary>
    /// The engine's own message (what to fix in the SQL) with the lake's folder shown as <c>&lt;lake&gt;</c>, mapped by the
    /// kind of error: the engine's I/O errors, and a data file of the version gone, are Unavailable (retry), its internal
    /// errors Internal, and in both every other absolute path is left out too; a client never sees a server path.
    /// </summary>
    internal Exception Translate(string engineMessage, Exception? inner = null)
    {
        if (engineMessage.Contains(SqlEngine.RefusalMarker, StringComparison.Ordinal) && unreadable is not null
            && unreadable.FirstOrDefault(u => engineMessage.Contains(u.Message, StringComparison.Ordinal)) is { } refused)
        {
            // A table the query's as-of cannot read (a snapshot that does not pin it, a vacuumed version): its own error.
            return new LakehouseException(refused.Kind, refused.Message, inner);
        }
        if (engineMessage.StartsWith("Permission Error", StringComparison.OrdinalIgnoreCase) && files is not null
            && files.Any(f => engineMessage.Contains(f, StringComparison.Ordinal)))
        {
            // The engine refuses a path it may read only when the file is gone (it then globs it as a folder).
            return new LakehouseException(LakehouseErrorKind.Unavailable,
                $"a data file of lake version {version} is no longer there (the version's superseded files are vacuumed after Lakehouse:Retention): "
                + "run the query again to read the current version", inner);
        }
        var message = engineMessage.Replace(lakeRoot, "<lake>", StringComparison.Ordinal).Trim();
        if (message.StartsWith("IO Error", StringComparison.OrdinalIgnoreCase))
        {
            return new LakehouseException(LakehouseErrorKind.Unavailable,
                AbsolutePath().Replace(engineMessage.Trim(), "<path>") + " (the engine could not read a file of the lake version the query reads: retry; "
                + "if it persists, the version's files may have been vacuumed or the disk may be failing)", inner);
        }
        if (message.StartsWith("INTERNAL Error", StringComparison.OrdinalIgnoreCase) || message.StartsWith("FATAL Error", StringComparison.OrdinalIgnoreCase))
        {
            return new RpcException(new Status(StatusCode.Internal,
                AbsolutePath().Replace(engineMessage.Trim(), "<path>") + " (an error inside the SQL engine: retry, and report it with the query if it persists)"));
        }
        var kind = message.StartsWith("Permission Error", StringComparison.OrdinalIgnoreCase) ? LakehouseErrorKind.PermissionDenied
            : message.StartsWith("Out of Memory Error", StringComparison.OrdinalIgnoreCase) ? LakehouseErrorKind.ResourceExhausted
            : LakehouseErrorKind.InvalidArgument;
        if (kind == LakehouseErrorKind.PermissionDenied)
        {
            message += " (SQL reads the lake's tables only: <layer>.<table>, e.g. silver.prices_daily)";
        }
        else if (kind == LakehouseErrorKind.ResourceExhausted)
        {
            message += $" (Lakehouse:Sql:MemoryLimitMb is {limits.MemoryLimitMb}, shared by the queries at one lake version)";
        }
        return new LakehouseException(kind, message, inner);
    }

    /// <summary>A sink that has written (serialised) each batch by the time its WriteAsync completes and keeps no reference to it.</summary>
    internal interface IWritesThrough;

    private int _disposed;

    /// <summary>Closes the query's connection and gives its slot and its hold on the instance back (once).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            connection.Dispose();
            released?.Invoke();
        }
    }

    /// <summary>
    /// Interrupts the connection's statement once its token is cancelled, again every 50 ms until the statement has ended: the engine
    /// clears an interrupt that arrives before its query starts, so a single one could be lost.
    /// </summary>
    private sealed class Interrupter : IDisposable
    {
        private readonly CancellationTokenRegistration _registration;
        private volatile bool _ended;

        private Interrupter(DuckDBConnection connection, CancellationToken token) =>
            _registration = token.Register(() => _ = Task.Run(async () =>
            {
                while (!_ended)
                {
                    try
                    {
                        NativeMethods.Startup.DuckDBInterrupt(connection.NativeConnection);
                    }
                    catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException or DuckDBException)
                    {
                        return;
                    }
                    await Task.Delay(50, CancellationToken.None).ConfigureAwait(false);
                }
            }, CancellationToken.None));

        public static Interrupter On(DuckDBConnection connection, CancellationToken token) => new(connection, token);

        public void Dispose()
        {
            _ended = true;
            _registration.Dispose();
        }
    }
}
