using System.Runtime.CompilerServices;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Lakehouse.Flight.Protocol.Sql;
using static Lakehouse.Flight.Protocol.Sql.CommandStatementIngest.Types.TableDefinitionOptions.Types;

namespace Lakehouse.Flight.Client;

public sealed partial class LakehouseClient
{
    /// <summary>
    /// Runs a SQL statement over the lake (Flight SQL: <c>CommandStatementQuery</c>, then DoGet of each endpoint) and
    /// streams its rows as Arrow record batches. The engine is DuckDB; tables are <c>&lt;layer&gt;.&lt;table&gt;</c>
    /// (<c>silver.prices_daily</c>, <c>gold.daily_metrics</c>...); the statement reads one committed version of the lake.
    /// </summary>
    /// <param name="sql">One statement, e.g. <c>SELECT symbol, avg(close) FROM silver.prices_daily WHERE date &gt;= ? GROUP BY symbol</c>.</param>
    /// <param name="parameters">
    /// Values for its <c>?</c> or <c>$1</c>... placeholders, in order (string, bool, int, long, double, <see cref="DateOnly"/>,
    /// <see cref="DateTimeOffset"/> or null); with any, the statement runs as a Flight SQL prepared statement: created,
    /// bound by a DoPut of one row, streamed, then closed (also when the caller stops early).
    /// </param>
    /// <param name="cancellationToken">Stops the statement (the server interrupts the engine).</param>
    /// <returns>The result's batches, in order; an empty result yields none.</returns>
    /// <exception cref="Grpc.Core.RpcException">InvalidArgument with the engine's message for bad SQL; PermissionDenied for what SQL may not reach.</exception>
    /// <exception cref="ArgumentException">A parameter of a type SQL parameters cannot carry.</exception>
    /// <example>
    /// <code>
    /// await foreach (var batch in client.QueryAsync("SELECT symbol, max(close) AS top FROM silver.prices_daily GROUP BY symbol"))
    /// {
    ///     Console.WriteLine(batch.Length);
    /// }
    /// </code>
    /// </example>
    public IAsyncEnumerable<RecordBatch> QueryAsync(string sql, IReadOnlyList<object?>? parameters = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sql);
        return parameters is { Count: > 0 } ? PreparedQueryAsync(sql, ParameterRow(parameters), cancellationToken) : StatementAsync(sql, cancellationToken);
    }

    /// <summary>The schema a statement's result has, without running it (Flight SQL's GetSchema of the statement): the columns
    /// of a result that has no rows, for which <see cref="QueryAsync"/> yields no batch.</summary>
    /// <param name="sql">One statement (parameters are described as untyped; bind them with <see cref="QueryAsync"/>).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="Grpc.Core.RpcException">InvalidArgument with the engine's message for bad SQL.</exception>
    public async Task<Schema> QuerySchemaAsync(string sql, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sql);
        var command = Any.Pack(new CommandStatementQuery { Query = sql }).ToByteArray();
        using var call = _flight.GetSchema(FlightDescriptor.CreateCommandDescriptor(command), Headers(), null, cancellationToken);
        return await call.ResponseAsync.ConfigureAwait(false);
    }

    private async IAsyncEnumerable<RecordBatch> StatementAsync(string sql, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var command = Any.Pack(new CommandStatementQuery { Query = sql }).ToByteArray();
        using var call = _flight.GetInfo(FlightDescriptor.CreateCommandDescriptor(command), Headers(), null, cancellationToken);
        var info = await call.ResponseAsync.ConfigureAwait(false);
        foreach (var endpoint in info.Endpoints)
        {
            await foreach (var batch in ReadTicketAsync(endpoint.Ticket.Ticket.ToByteArray(), cancellationToken).ConfigureAwait(false))
            {
                yield return batch;
            }
        }
    }

    private async IAsyncEnumerable<RecordBatch> PreparedQueryAsync(string sql, RecordBatch row, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ByteString? handle = null;
        await foreach (var result in ActionAsync("CreatePreparedStatement", Any.Pack(new ActionCreatePreparedStatementRequest { Query = sql }).ToByteArray(),
            cancellationToken).ConfigureAwait(false))
        {
            handle = Any.Parser.ParseFrom(result).Unpack<ActionCreatePreparedStatementResult>().PreparedStatementHandle;
        }
        if (handle is null)
        {
            throw new InvalidOperationException("the server answered CreatePreparedStatement without a handle");
        }
        try
        {
            var command = Any.Pack(new CommandPreparedStatementQuery { PreparedStatementHandle = handle }).ToByteArray();
            await PutAsync(FlightDescriptor.CreateCommandDescriptor(command), row.Schema, [row], cancellationToken).ConfigureAwait(false);
            using var call = _flight.GetInfo(FlightDescriptor.CreateCommandDescriptor(command), Headers(), null, cancellationToken);
            var info = await call.ResponseAsync.ConfigureAwait(false);
            foreach (var endpoint in info.Endpoints)
            {
                await foreach (var batch in ReadTicketAsync(endpoint.Ticket.Ticket.ToByteArray(), cancellationToken).ConfigureAwait(false))
                {
                    yield return batch;
                }
            }
        }
        finally
        {
            // Best effort: an unclosed statement expires on the server (Lakehouse:Sql:PreparedStatementSeconds).
            var close = Any.Pack(new ActionClosePreparedStatementRequest { PreparedStatementHandle = handle }).ToByteArray();
            try
            {
                await foreach (var _ in ActionAsync("ClosePreparedStatement", close, CancellationToken.None).ConfigureAwait(false))
                {
                }
            }
            catch (Grpc.Core.RpcException)
            {
            }
        }
    }

    /// <summary>The parameters as a one-row batch (columns <c>$1</c>, <c>$2</c>...).</summary>
    private static RecordBatch ParameterRow(IReadOnlyList<object?> parameters)
    {
        var fields = new List<Apache.Arrow.Field>();
        var arrays = new List<IArrowArray>();
        for (var i = 0; i < parameters.Count; i++)
        {
            IArrowArray array = parameters[i] switch
            {
                null => new NullArray(1),
                string s => new StringArray.Builder().Append(s).Build(),
                bool b => new BooleanArray.Builder().Append(b).Build(),
                int n => new Int64Array.Builder().Append(n).Build(),
                long n => new Int64Array.Builder().Append(n).Build(),
                double d => new DoubleArray.Builder().Append(d).Build(),
                DateOnly d => new Date32Array.Builder().Append(d).Build(),
                DateTimeOffset t => new TimestampArray.Builder(new Apache.Arrow.Types.TimestampType(Apache.Arrow.Types.TimeUnit.Microsecond, "UTC")).Append(t).Build(),
                var other => throw new ArgumentException(
                    $"parameter {i + 1} is a {other.GetType().Name}: pass string, bool, int, long, double, DateOnly, DateTimeOffset or null", nameof(parameters)),
            };
            fields.Add(new Apache.Arrow.Field($"${i + 1}", array.Data.DataType, nullable: true));
            arrays.Add(array);
        }
        return new RecordBatch(new Schema(fields, null), arrays, 1);
    }

    /// <summary>
    /// Loads record batches into a table of the lake (Flight SQL bulk ingest: <c>CommandStatementIngest</c>, appending):
    /// the rows take the path of an upload (checked, converted, all or nothing), and the call returns once they are applied,
    /// so the next query sees them. Writer role.
    /// </summary>
    /// <param name="table">The table as SQL names it: <c>bronze.prices_daily</c> (or <c>silver.corporate_actions</c>).</param>
    /// <param name="schema">The batches' schema (the table's columns; lineage columns optional).</param>
    /// <param name="batches">The rows, sent one message per batch.</param>
    /// <param name="source">The bronze source the rows land under (the server's default, <c>flight_sql</c>, when null).</param>
    /// <param name="promote">Also upsert the rows into silver (bronze tables with a silver table above them).</param>
    /// <param name="cancellationToken">Cancels the ingest (nothing is written when cancelled before the last batch).</param>
    /// <returns>The number of rows ingested.</returns>
    public async Task<long> BulkIngestAsync(string table, Schema schema, IEnumerable<RecordBatch> batches, string? source = null, bool promote = false,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(table);
        var command = new CommandStatementIngest
        {
            Table = table,
            TableDefinitionOptions = new() { IfNotExist = TableNotExistOption.Fail, IfExists = TableExistsOption.Append },
        };
        if (source is not null)
        {
            command.Options["source"] = source;
        }
        if (promote)
        {
            command.Options["promote"] = "true";
        }
        var results = await PutAsync(FlightDescriptor.CreateCommandDescriptor(Any.Pack(command).ToByteArray()), schema, batches, cancellationToken)
            .ConfigureAwait(false);
        return results.Count == 0 ? 0 : DoPutUpdateResult.Parser.ParseFrom(results[^1]).RecordCount;
    }
}
