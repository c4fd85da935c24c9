using System.Text;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Protocol.Sql;

namespace Lakehouse.Flight.Server.Internal.Sql;

/// <summary>
/// Flight SQL on the Flight port. Commands arrive as <c>google.protobuf.Any</c> (type URL
/// <c>type.googleapis.com/arrow.flight.protocol.sql.&lt;Message&gt;</c>) in descriptors, tickets and action bodies; the
/// Flight service hands them here before its own JSON/protobuf tickets (<see cref="TryUnpack"/>). A statement's ticket
/// carries its SQL (or the prepared statement's handle), so DoGet is stateless; each DoGet opens an engine instance at the
/// lake version current then, so a query sees one version whatever commits meanwhile. Each GetFlightInfo issues a ticket
/// with its own run id (<see cref="SqlTickets"/>), so a CancelFlightInfo reaches that FlightInfo's runs only.
/// </summary>
internal sealed class FlightSqlService(SqlEngine engine, SqlRunner runner, PreparedStatements prepared, LakehouseServerOptions options)
{
    public const string TypeUrlPrefix = "type.googleapis.com/arrow.flight.protocol.sql.";

    /// <summary>Flight SQL's own action names (not kebab-case: the protocol fixes them).</summary>
    public static readonly IReadOnlyList<(string Name, string Description)> Actions =
    [
        ("CreatePreparedStatement", "Flight SQL: body ActionCreatePreparedStatementRequest (Any); answers ActionCreatePreparedStatementResult"),
        ("ClosePreparedStatement", "Flight SQL: body ActionClosePreparedStatementRequest (Any); answers nothing"),
        ("CancelFlightInfo", "Flight: body CancelFlightInfoRequest; stops the running DoGets of the FlightInfo's tickets"),
        ("CancelQuery", "Flight SQL (deprecated): body ActionCancelQueryRequest (Any); answers ActionCancelQueryResult"),
    ];

    private readonly SqlRuns _runs = new(TimeProvider.System);

    public bool Enabled => options.Sql.Enabled;

    /// <summary>The Flight SQL command in <paramref name="bytes"/>, or null for anything else (our own JSON or protobuf queries).</summary>
    public Any? TryUnpack(ReadOnlySpan<byte> bytes)
    {
        // An Any starts with field 1 (type_url, length-delimited): 0x0A. JSON starts with '{'; our TableQuery's field 1 is a layer name.
        if (!Enabled || bytes.Length < 2 || bytes[0] != 0x0A)
        {
            return null;
        }
        try
        {
            var any = Any.Parser.ParseFrom(bytes);
            return any.TypeUrl.StartsWith(TypeUrlPrefix, StringComparison.Ordinal) ? any : null;
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }
    }

    public static bool IsAction(string type) => Actions.Any(a => a.Name == type);

    public async Task<FlightInfo> GetFlightInfoAsync(Any command, FlightDescriptor descriptor, CancellationToken cancellationToken)
    {
        var (schema, ticket) = command switch
        {
            _ when command.Is(CommandStatementQuery.Descriptor) => await StatementAsync(command.Unpack<CommandStatementQuery>(), cancellationToken).ConfigureAwait(false),
            _ when command.Is(CommandPreparedStatementQuery.Descriptor) => await PreparedAsync(command.Unpack<CommandPreparedStatementQuery>(), cancellationToken).ConfigureAwait(false),
            _ => (MetadataSchema(command), command.ToByteString()),
        };
        return new FlightInfo(schema, descriptor, [new FlightEndpoint(new FlightTicket(ticket), [])], -1, -1);
    }

    public async Task<Schema> GetSchemaAsync(Any command, CancellationToken cancellationToken) => command switch
    {
        _ when command.Is(CommandStatementQuery.Descriptor) => (await StatementAsync(command.Unpack<CommandStatementQuery>(), cancellationToken).ConfigureAwait(false)).Schema,
        _ when command.Is(CommandPreparedStatementQuery.Descriptor) =>
            await PreparedSchemaAsync(Prepared(command.Unpack<CommandPreparedStatementQuery>().PreparedStatementHandle), cancellationToken).ConfigureAwait(false),
        _ => MetadataSchema(command),
    };

    /// <summary>Streams a Flight SQL ticket's rows; a CancelFlightInfo naming the same ticket stops it.</summary>
    public async Task DoGetAsync(Any ticket, ReadOnlyMemory<byte> ticketBytes, IDoGetSink sink, CancellationToken cancellationToken)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var run = ticket.Is(TicketStatementQuery.Descriptor) ? SqlTickets.Parse(ticket.Unpack<TicketStatementQuery>().StatementHandle) : default;
        try
        {
            using (_runs.Register(ticketBytes.Span, run.HasRunId, cancel))
            {
                await StreamAsync(ticket, run, sink, cancel.Token).ConfigureAwait(false);
            }
        }
        catch (Exception) when (cancel.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Cancelled, "the query was cancelled (CancelFlightInfo)"));
        }
    }

    private async Task StreamAsync(Any ticket, SqlTickets.Run run, IDoGetSink sink, CancellationToken cancellationToken)
    {
        if (ticket.Is(TicketStatementQuery.Descriptor))
        {
            if (run.PreparedHandle is { } handle)
            {
                var prepared = Prepared(handle);
                await ExecuteAsync(prepared.Sql, prepared.Parameters, sink, cancellationToken).ConfigureAwait(false);
                return;
            }
            await ExecuteAsync(RequireSql(run.Sql!), [], sink, cancellationToken).ConfigureAwait(false);
            return;
        }
        if (ticket.Is(CommandPreparedStatementQuery.Descriptor))
        {
            var statement = Prepared(ticket.Unpack<CommandPreparedStatementQuery>().PreparedStatementHandle);
            await ExecuteAsync(statement.Sql, statement.Parameters, sink, cancellationToken).ConfigureAwait(false);
            return;
        }
        var batch = MetadataBatch(ticket);
        if (await sink.StartAsync(batch.Schema, cancellationToken).ConfigureAwait(false) && batch.Length > 0)
        {
            await sink.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
        }
    }

    private Task ExecuteAsync(string sql, IReadOnlyList<object?> parameters, IDoGetSink sink, CancellationToken cancellationToken) =>
        runner.RunAsync(sql, parameters, _ => new SizedSink(sink, options.MaxSendMessageBytes), cancellationToken);

    private async Task<(Schema Schema, ByteString Ticket)> StatementAsync(CommandStatementQuery command, CancellationToken cancellationToken)
    {
        var sql = RequireSql(command.Query);
        var moment = SqlAsOf.Of(sql);
        // A selection the fast path reads has the schema the engine would describe (decisions D47): no instance is opened for it.
        var schema = engine.FastPlan(sql, [], moment) is { } plan ? engine.FastSchema(plan) : null;
        if (schema is null)
        {
            using var session = await engine.OpenAsync(moment, cancellationToken).ConfigureAwait(false);
            schema = session.Describe(sql, [], cancellationToken);
        }
        var ticket = Any.Pack(new TicketStatementQuery { StatementHandle = SqlTickets.Statement(sql) }).ToByteString();
        return (schema, ticket);
    }

    /// <summary>A prepared statement's schema and a ticket of its own run (DoGet of the command itself is also served).</summary>
    private async Task<(Schema Schema, ByteString Ticket)> PreparedAsync(CommandPreparedStatementQuery command, CancellationToken cancellationToken)
    {
        var schema = await PreparedSchemaAsync(Prepared(command.PreparedStatementHandle), cancellationToken).ConfigureAwait(false);
        return (schema, Any.Pack(new TicketStatementQuery { StatementHandle = SqlTickets.Prepared(command.PreparedStatementHandle) }).ToByteString());
    }

    private async Task<Schema> PreparedSchemaAsync(PreparedStatements.Entry statement, CancellationToken cancellationToken)
    {
        var moment = SqlAsOf.Of(statement.Sql);
        if (engine.FastPlan(statement.Sql, statement.Parameters, moment) is { } plan)
        {
            return engine.FastSchema(plan);
        }
        using var session = await engine.OpenAsync(moment, cancellationToken).ConfigureAwait(false);
        return session.Describe(statement.Sql, statement.Parameters, cancellationToken);
    }

    // ---- actions ----

    public async Task DoActionAsync(FlightAction action, IAsyncStreamWriter<FlightResult> results, CancellationToken cancellationToken)
    {
        switch (action.Type)
        {
            case "CreatePreparedStatement":
                {
                    var request = Unpack<ActionCreatePreparedStatementRequest>(action.Body, action.Type);
                    var sql = RequireSql(request.Query);
                    var result = new ActionCreatePreparedStatementResult();
                    using (var session = await engine.OpenAsync(SqlAsOf.Of(sql), cancellationToken).ConfigureAwait(false))
                    {
                        // Each parameter typed where the engine infers it from its use (symbol = ? is utf8), Arrow null ("any type") elsewhere.
                        var parameters = session.ParameterTypes(sql, cancellationToken);
                        result.DatasetSchema = ByteString.CopyFrom(FlightSqlMetadata.SerializeSchema(session.Describe(sql, [], cancellationToken)));
                        if (parameters.Count > 0)
                        {
                            var schema = new Schema.Builder();
                            for (var i = 0; i < parameters.Count; i++)
                            {
                                schema.Field(new Apache.Arrow.Field($"${i + 1}", parameters[i], true));
                            }
                            result.ParameterSchema = ByteString.CopyFrom(FlightSqlMetadata.SerializeSchema(schema.Build()));
                        }
                    }
                    result.PreparedStatementHandle = ByteString.CopyFrom(prepared.Create(sql));
                    await results.WriteAsync(new FlightResult(Any.Pack(result).ToByteString()), CancellationToken.None).ConfigureAwait(false);
                    break;
                }
            case "ClosePreparedStatement":
                prepared.Close(Unpack<ActionClosePreparedStatementRequest>(action.Body, action.Type).PreparedStatementHandle.Span);
                break;
            case "CancelFlightInfo":
                {
                    // CancelFlightInfoRequest { FlightInfo info = 1; } answered by CancelFlightInfoResult { CancelStatus status = 1; }
                    // (Flight.proto), read and written by hand: the Flight library's wrappers of them do not serialise.
                    _runs.Cancel(FlightInfoWire.TicketsOf(FlightInfoWire.Field(action.Body, 1)));
                    await results.WriteAsync(new FlightResult(FlightInfoWire.Status(1)), CancellationToken.None).ConfigureAwait(false);
                    break;
                }
            case "CancelQuery":
                {
                    _runs.Cancel(FlightInfoWire.TicketsOf(Unpack<ActionCancelQueryRequest>(action.Body, action.Type).Info));
                    var result = new ActionCancelQueryResult { Result = ActionCancelQueryResult.Types.CancelResult.Cancelled };
                    await results.WriteAsync(new FlightResult(Any.Pack(result).ToByteString()), CancellationToken.None).ConfigureAwait(false);
                    break;
                }
            default:
                throw LakehouseException.Invalid($"unknown Flight SQL action '{action.Type}'");
        }
    }

    // ---- DoPut ----

    /// <summary>
    /// A Flight SQL DoPut: parameters for a prepared statement (the first row of the batches is bound), or an update,
    /// which is refused: the lake is written by ingest and uploads, never by SQL.
    /// </summary>
    public async Task DoPutAsync(Any command, FlightPutReader reader, IAsyncStreamWriter<FlightPutResult> results, CancellationToken cancellationToken)
    {
        if (command.Is(CommandPreparedStatementQuery.Descriptor))
        {
            var statement = Prepared(command.Unpack<CommandPreparedStatementQuery>().PreparedStatementHandle);
            object?[]? row = null;
            long rows = 0;
            await ReadParameters(() => reader.ReadSchemaAsync(cancellationToken)).ConfigureAwait(false);
            while (await ReadParameters(() => reader.MoveNext(cancellationToken)).ConfigureAwait(false))
            {
                var batch = reader.Current;
                if (batch.Length > 0 && row is null)
                {
                    row = SqlParameters.Row(batch, 0);
                }
                rows += batch.Length;
            }
            if (rows > 1)
            {
                throw LakehouseException.Invalid($"a prepared query binds one row of parameters at a time (got {rows}): execute it once per row");
            }
            statement.Parameters = row ?? [];
            await results.WriteAsync(new FlightPutResult(ByteString.Empty), CancellationToken.None).ConfigureAwait(false);
            return;
        }
        if (command.Is(CommandStatementUpdate.Descriptor) || command.Is(CommandPreparedStatementUpdate.Descriptor))
        {
            throw new LakehouseException(LakehouseErrorKind.Unimplemented,
                "SQL updates (INSERT, UPDATE, DELETE, DDL) are not served: the lake is written by uploads (DoPut with {\"table\":...,\"source\":...}) "
                + "and ingestion (the ingest action), which validate and version every row");
        }
        throw new LakehouseException(LakehouseErrorKind.Unimplemented, $"DoPut of Flight SQL {TypeName(command)} is not served");
    }

    // ---- helpers ----

    /// <summary>A parameter batch the Arrow reader cannot decode (e.g. values under a schema that says otherwise) is the client's error.</summary>
    private static async Task<T> ReadParameters<T>(Func<Task<T>> read)
    {
        try
        {
            return await read().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidDataException or IndexOutOfRangeException or InvalidOperationException)
        {
            throw LakehouseException.InvalidData($"the parameter batch cannot be read ({ex.Message}): send one row whose schema matches its columns "
                + "(the prepared statement's parameter schema declares Arrow null where the SQL does not tell a parameter's type: give it one, e.g. CAST(? AS BIGINT))", ex);
        }
    }

    private Schema MetadataSchema(Any command) => MetadataBatch(command).Schema;

    private RecordBatch MetadataBatch(Any command)
    {
        var catalog = engine.Store.Catalog;
        if (command.Is(CommandGetCatalogs.Descriptor))
        {
            return FlightSqlMetadata.Catalogs();
        }
        if (command.Is(CommandGetDbSchemas.Descriptor))
        {
            return FlightSqlMetadata.DbSchemas(catalog, command.Unpack<CommandGetDbSchemas>());
        }
        if (command.Is(CommandGetTables.Descriptor))
        {
            return FlightSqlMetadata.Tables(catalog, command.Unpack<CommandGetTables>());
        }
        if (command.Is(CommandGetTableTypes.Descriptor))
        {
            return FlightSqlMetadata.TableTypes();
        }
        if (command.Is(CommandGetPrimaryKeys.Descriptor))
        {
            return FlightSqlMetadata.PrimaryKeys(catalog, command.Unpack<CommandGetPrimaryKeys>());
        }
        if (command.Is(CommandGetSqlInfo.Descriptor))
        {
            return FlightSqlInfo.SqlInfo([.. command.Unpack<CommandGetSqlInfo>().Info], options.Sql.PreparedStatementSeconds * 1000);
        }
        if (command.Is(CommandGetXdbcTypeInfo.Descriptor))
        {
            var request = command.Unpack<CommandGetXdbcTypeInfo>();
            return FlightSqlInfo.XdbcTypeInfo(request.HasDataType ? request.DataType : null);
        }
        if (command.Is(CommandStatementUpdate.Descriptor) || command.Is(CommandPreparedStatementUpdate.Descriptor))
        {
            throw new LakehouseException(LakehouseErrorKind.Unimplemented, "SQL updates are sent by DoPut, and are not served: the lake is written by uploads and ingestion");
        }
        throw new LakehouseException(LakehouseErrorKind.Unimplemented,
            $"Flight SQL {TypeName(command)} is not served: statements, prepared statements and the catalog, schema, table, table type, primary key, SQL info and XDBC type info metadata are");
    }

    private PreparedStatements.Entry Prepared(ByteString handle) => prepared.Find(handle.Span) ?? throw new LakehouseException(LakehouseErrorKind.NotFound,
        $"no prepared statement with this handle: it was closed, or unused for more than {options.Sql.PreparedStatementSeconds} s (Lakehouse:Sql:PreparedStatementSeconds); prepare it again");

    internal static string RequireSql(string sql)
    {
        if (string.IsNullOrWhiteSpace(sql))
        {
            throw LakehouseException.Invalid("the query is empty: send SQL such as SELECT * FROM silver.prices_daily LIMIT 10");
        }
        if (Encoding.UTF8.GetByteCount(sql) > FlightRequestGuard.MaxCommandBytes)
        {
            throw LakehouseException.Invalid($"the query is longer than {FlightRequestGuard.MaxCommandBytes:N0} bytes");
        }
        return sql;
    }

    private static T Unpack<T>(ByteString body, string action) where T : IMessage<T>, new()
    {
        try
        {
            var any = Any.Parser.ParseFrom(body);
            var descriptor = new T().Descriptor;
            return any.Is(descriptor) ? any.Unpack<T>()
                : throw LakehouseException.Invalid($"the {action} action's body is a {TypeName(any)}, not a google.protobuf.Any of {descriptor.FullName}");
        }
        catch (InvalidProtocolBufferException)
        {
            throw LakehouseException.Invalid($"the {action} action's body is not a google.protobuf.Any (Flight SQL packs its action bodies in Any)");
        }
    }

    private static string TypeName(Any any) => any.TypeUrl[(any.TypeUrl.LastIndexOf('/') + 1)..];

    /// <summary>
    /// Cuts batches the engine made to at most one gRPC message each, as DoGet does for the store's. The Flight writer
    /// serialises each batch into its message before WriteAsync completes, so the engine's batches need no copy.
    /// </summary>
    private sealed class SizedSink(IDoGetSink inner, int maxBytes) : IDoGetSink, SqlSession.IWritesThrough
    {
        private int _rows;

        public ValueTask<bool> StartAsync(Schema schema, CancellationToken cancellationToken)
        {
            _rows = DoGetStreamer.RowsPerMessage(schema, maxBytes);
            return inner.StartAsync(schema, cancellationToken);
        }

        public async ValueTask<bool> WriteAsync(RecordBatch batch, CancellationToken cancellationToken)
        {
            for (var offset = 0; offset < batch.Length; offset += _rows)
            {
                var length = Math.Min(_rows, batch.Length - offset);
                if (!await inner.WriteAsync(offset == 0 && length == batch.Length ? batch : batch.Slice(offset, length), cancellationToken).ConfigureAwait(false))
                {
                    return false;
                }
            }
            return true;
        }
    }
}
