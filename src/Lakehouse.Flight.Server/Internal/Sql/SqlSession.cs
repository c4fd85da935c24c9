using Apache.Arrow;
using DuckDB.NET.Data;
using Grpc.Core;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Server.Internal.Sql;

/// <summary>
/// One query's engine instance, pinned to one lake version (<see cref="Version"/>). Runs one statement at a time with
/// the query's limits: a row cap on the result, a timeout, and cancellation by the caller's token (which interrupts
/// the engine, not only the stream).
/// </summary>
internal sealed class SqlSession(DuckDBConnection connection, long version, string lakeRoot, SqlOptions limits, Action? released = null) : IDisposable
{
    public long Version => version;

    /// <summary>
    /// The result's schema, from the engine's DESCRIBE of the statement (bound, not run: an aggregate over billions of rows
    /// answers at once). A statement DESCRIBE does not take (SHOW, PRAGMA...) is started instead, which runs it.
    /// </summary>
    public Schema Describe(string sql, IReadOnlyList<object?> parameters, CancellationToken cancellationToken)
    {
        SqlGuard.Check(sql);
        using var describe = Command("DESCRIBE " + sql, parameters);
        try
        {
            return Run(describe, cancellationToken, () =>
            {
                using var reader = describe.ExecuteReader();
                var columns = new List<(string, string)>();
                while (reader.Read())
                {
                    columns.Add((reader.GetString(0), reader.GetString(1)));
                }
                return DuckArrow.SchemaOf(columns);
            });
        }
        catch (LakehouseException ex) when (ex.Kind == LakehouseErrorKind.InvalidArgument && ex.Message.StartsWith("Parser Error", StringComparison.Ordinal))
        {
            using var command = Command(sql, parameters);
            return Run(command, cancellationToken, () =>
            {
                using var reader = command.ExecuteReader();
                return DuckArrow.SchemaOf(reader);
            });
        }
    }

    /// <summary>How many parameters the statement has (the engine prepares it; their types are only known once bound).</summary>
    public int ParameterCount(string sql, CancellationToken cancellationToken)
    {
        SqlGuard.Check(sql);
        using var prepare = Command("PREPARE lakehouse_parameters AS " + sql, []);
        Run(prepare, cancellationToken, prepare.ExecuteNonQuery);
        using var count = Command("SELECT coalesce(len(parameter_types), 0) FROM duckdb_prepared_statements() WHERE name = 'lakehouse_parameters'", []);
        var n = Run(count, cancellationToken, () => Convert.ToInt32(count.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture));
        using var deallocate = Command("DEALLOCATE lakehouse_parameters", []);
        Run(deallocate, cancellationToken, deallocate.ExecuteNonQuery);
        return n;
    }

    /// <summary>Runs the statement and hands its rows to <paramref name="sink"/> in batches of at most <paramref name="batchRows"/> rows.</summary>
    public async Task<long> ExecuteAsync(string sql, IReadOnlyList<object?> parameters, IDoGetSink sink, int batchRows,
        CancellationToken cancellationToken)
    {
        SqlGuard.Check(sql);
        using var command = Command(sql, parameters);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(limits.TimeoutSeconds));
        var ct = timeout.Token;
        using var interrupt = Interrupter.On(command, ct);
        try
        {
            using var reader = command.ExecuteReader();
            var schema = DuckArrow.SchemaOf(reader);
            if (!await sink.StartAsync(schema, ct).ConfigureAwait(false))
            {
                return 0;
            }
            long rows = 0;
            var batch = new DuckArrow.BatchBuilder(schema);
            while (reader.Read())
            {
                if (++rows > limits.MaxResultRows)
                {
                    throw new LakehouseException(LakehouseErrorKind.ResourceExhausted,
                        $"the result has more than {limits.MaxResultRows:N0} rows (Lakehouse:Sql:MaxResultRows): add a WHERE, a LIMIT or an aggregate");
                }
                batch.Append(reader);
                if (batch.Length >= batchRows)
                {
                    ct.ThrowIfCancellationRequested();
                    if (!await sink.WriteAsync(batch.Build(), ct).ConfigureAwait(false))
                    {
                        return rows;
                    }
                }
            }
            if (batch.Length > 0)
            {
                await sink.WriteAsync(batch.Build(), ct).ConfigureAwait(false);
            }
            return rows;
        }
        catch (Exception ex) when (ex is not LakehouseException && ct.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw TimedOut();
        }
        catch (DuckDBException ex) when (!ct.IsCancellationRequested)
        {
            throw Translate(ex);
        }
        catch (InvalidOperationException ex) when (!ct.IsCancellationRequested)
        {
            throw Unbound(ex);
        }
    }

    /// <summary>The provider's check of the parameters against the statement's placeholders (its only InvalidOperationException).</summary>
    private static LakehouseException Unbound(InvalidOperationException ex) =>
        LakehouseException.Invalid($"{ex.Message.TrimEnd('.')}: bind one value per placeholder (DoPut of a one-row parameter batch on the prepared statement)");

    private T Run<T>(DuckDBCommand command, CancellationToken cancellationToken, Func<T> run)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(limits.TimeoutSeconds));
        using var interrupt = Interrupter.On(command, timeout.Token);
        try
        {
            return run();
        }
        catch (Exception) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw TimedOut();
        }
        catch (DuckDBException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw Translate(ex);
        }
        catch (InvalidOperationException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw Unbound(ex);
        }
        catch (DuckDBException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
    }

    private DuckDBCommand Command(string sql, IReadOnlyList<object?> parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.UseStreamingMode = true;
        foreach (var value in parameters)
        {
            command.Parameters.Add(new DuckDBParameter(value ?? DBNull.Value));
        }
        return command;
    }

    private RpcException TimedOut() => new(new Status(StatusCode.DeadlineExceeded,
        $"the query ran longer than {limits.TimeoutSeconds} s (Lakehouse:Sql:TimeoutSeconds) and was stopped: narrow it or raise the limit"));

    /// <summary>The engine's own message (what to fix in the SQL), with the lake's folder left out: a client never sees a server path.</summary>
    internal LakehouseException Translate(DuckDBException ex)
    {
        var message = ex.Message.Replace(lakeRoot, "<lake>", StringComparison.Ordinal).Trim();
        var kind = message.StartsWith("Permission Error", StringComparison.OrdinalIgnoreCase) ? LakehouseErrorKind.PermissionDenied
            : message.StartsWith("Out of Memory Error", StringComparison.OrdinalIgnoreCase) ? LakehouseErrorKind.ResourceExhausted
            : LakehouseErrorKind.InvalidArgument;
        if (kind == LakehouseErrorKind.PermissionDenied)
        {
            message += " (SQL reads the lake's tables only: <layer>.<table>, e.g. silver.prices_daily)";
        }
        else if (kind == LakehouseErrorKind.ResourceExhausted)
        {
            message += $" (Lakehouse:Sql:MemoryLimitMb is {limits.MemoryLimitMb})";
        }
        return new LakehouseException(kind, message, ex);
    }

    private int _disposed;

    /// <summary>Closes the engine instance and gives its slot back (once).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            connection.Dispose();
            released?.Invoke();
        }
    }

    /// <summary>
    /// Interrupts the statement once its token is cancelled, again every 50 ms until the statement has ended: the engine
    /// clears an interrupt that arrives before its query starts, so a single one could be lost.
    /// </summary>
    private sealed class Interrupter : IDisposable
    {
        private readonly CancellationTokenRegistration _registration;
        private volatile bool _ended;

        private Interrupter(DuckDBCommand command, CancellationToken token) =>
            _registration = token.Register(() => _ = Task.Run(async () =>
            {
                while (!_ended)
                {
                    try
                    {
                        command.Cancel();
                    }
                    catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException or DuckDBException)
                    {
                        return;
                    }
                    await Task.Delay(50, CancellationToken.None).ConfigureAwait(false);
                }
            }, CancellationToken.None));

        public static Interrupter On(DuckDBCommand command, CancellationToken token) => new(command, token);

        public void Dispose()
        {
            _ended = true;
            _registration.Dispose();
        }
    }
}
