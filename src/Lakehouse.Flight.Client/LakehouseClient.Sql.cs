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
    /// <param name="sql">One statement, e.g. <c>SELECT symbol, avg(close) FROM silver.prices_daily GROUP BY symbol</c>.</param>
    /// <param name="cancellationToken">Stops the statement (the server interrupts the engine).</param>
    /// <returns>The result's batches, in order; an empty result yields none.</returns>
    /// <exception cref="Grpc.Core.RpcException">InvalidArgument with the engine's message for bad SQL; PermissionDenied for what SQL may not reach.</exception>
    /// <example>
    /// <code>
    /// await foreach (var batch in client.QueryAsync("SELECT symbol, max(close) AS top FROM silver.prices_daily GROUP BY symbol"))
    /// {
    ///     Console.WriteLine(batch.Length);
    /// }
    /// </code>
    /// </example>
    public async IAsyncEnumerable<RecordBatch> QueryAsync(string sql, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sql);
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
