using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Server;
using Grpc.Core;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Wire;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Storage;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Server.Internal;

/// <summary>
/// The Flight service over whatever the store's table catalogue holds. Registered scoped by
/// <c>AddFlightServer</c> (one instance per call), so all state lives in the injected singletons. Every
/// RPC is overridden: the base class throws NotImplementedException, which would reach clients as Unknown.
/// </summary>
internal sealed partial class LakehouseFlightService(
    LakeStore store, LakeWriter writer, Actions.FlightActions actions, DoGetStreamer streamer, LakehouseServerOptions options, TokenService tokens,
    FlightMetrics metrics, Sql.FlightSqlService sql, ILogger<LakehouseFlightService> logger) : FlightServer
{
    private readonly LakeStore _store = store;
    private readonly LakehouseServerOptions _options = options;
    private readonly TokenService _tokens = tokens;
    private readonly FlightMetrics _metrics = metrics;
    private readonly ILogger<LakehouseFlightService> _logger = logger;

    public override async Task ListFlights(FlightCriteria request, IAsyncStreamWriter<FlightInfo> responseStream, ServerCallContext context)
    {
        var filter = request.Expression.IsEmpty ? "" : request.Expression.ToStringUtf8().Trim().ToLowerInvariant();
        foreach (var table in _store.Catalog.Tables)
        {
            if (filter.Length > 0 && !table.Id.StartsWith(filter, StringComparison.Ordinal) && filter != table.Name)
            {
                continue;
            }
            var query = TableQuery.Create(Layers.Name(table.Layer), table.Name);
            var stats = _store.Stats(table, context.CancellationToken);
            var endpoint = new FlightEndpoint(new FlightTicket(QueryCodec.Encode(query)), []);
            var descriptor = FlightDescriptor.CreatePathDescriptor(Layers.Name(table.Layer), table.Name);
            await responseStream.WriteAsync(new FlightInfo(table.Schema, descriptor, [endpoint], stats.Rows, -1)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// One endpoint per symbol (parallel reads), or one endpoint for a query with a limit (a limit
    /// spans symbols). app_metadata carries the plan per symbol as JSON, so a client knows the symbols
    /// and their row counts whatever the endpoints look like.
    /// </summary>
    public override Task<FlightInfo> GetFlightInfo(FlightDescriptor request, ServerCallContext context)
    {
        if (SqlCommandOf(request) is { } command)
        {
            return sql.GetFlightInfoAsync(command, request, context.CancellationToken);
        }
        var query = QueryOf(request);
        var schema = _store.SchemaOf(query);
        var plans = _store.Plan(query, context.CancellationToken);
        var endpoints = query.Limit > 0 && plans.Count > 0
            ? [new FlightEndpoint(new FlightTicket(QueryCodec.Encode(query)), [])]
            : plans.Select(p => new FlightEndpoint(new FlightTicket(QueryCodec.Encode(query.ForSymbol(p.Symbol))), [])).ToList();
        var total = plans.Sum(p => p.Rows);
        if (query.Limit > 0)
        {
            total = Math.Min(total, query.Limit);
        }
        var plan = JsonSerializer.SerializeToUtf8Bytes(plans.Select(p => new PlanEntry(p.Symbol, p.Rows, p.Files)).ToArray(), WireJson.Default.IReadOnlyListPlanEntry);
        return Task.FromResult(new FlightInfo(schema, request, endpoints, total, -1, ordered: true, Google.Protobuf.ByteString.CopyFrom(plan)));
    }

    public override Task<Schema> GetSchema(FlightDescriptor request, ServerCallContext context) =>
        SqlCommandOf(request) is { } command
            ? sql.GetSchemaAsync(command, context.CancellationToken)
            : Task.FromResult(_store.SchemaOf(QueryOf(request)));

    /// <summary>The stock-writer DoGet (<c>Lakehouse:FastDoGet=false</c>); the same loop as FastDoGet.</summary>
    public override Task DoGet(FlightTicket ticket, FlightServerRecordBatchStreamWriter responseStream, ServerCallContext context)
    {
        if (ticket.Ticket.Length > FlightRequestGuard.MaxCommandBytes)
        {
            throw FlightRequestGuard.CommandTooLarge("DoGet ticket", ticket.Ticket.Length);
        }
        if (sql.TryUnpack(ticket.Ticket.Span) is { } sqlTicket)
        {
            return sql.DoGetAsync(sqlTicket, ticket.Ticket.Memory, new StockSink(responseStream), context.CancellationToken);
        }
        var (query, compression) = QueryCodec.ParseTicket(ticket.Ticket.Span);
        if (compression is not null)
        {
            // The stock writer takes no IpcOptions, so it cannot compress.
            throw new RpcException(new Status(StatusCode.Unimplemented,
                "compressed DoGet needs the fast DoGet path (Lakehouse:FastDoGet=true); remove \"compression\" from the ticket"));
        }
        return streamer.StreamAsync(query, new StockSink(responseStream), context.CancellationToken);
    }

    /// <summary>
    /// Not served. The first message is read first (waiting briefly) so that a malformed request is
    /// refused as such by <see cref="FlightRequestGuard"/> rather than hidden behind Unimplemented.
    /// </summary>
    public override async Task DoExchange(FlightServerRecordBatchStreamReader requestStream, FlightServerRecordBatchStreamWriter responseStream,
        ServerCallContext context)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        wait.CancelAfter(TimeSpan.FromSeconds(1));
        try
        {
            await requestStream.MoveNext(wait.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not MalformedRequestException)
        {
            // No message within the wait, or a well-formed message that is not Arrow IPC: not served either way.
        }
        throw new RpcException(new Status(StatusCode.Unimplemented, "DoExchange is not served: use DoGet to read and DoPut to upload"));
    }

    /// <summary>A Flight SQL command (google.protobuf.Any), or null for our own descriptors.</summary>
    private Google.Protobuf.WellKnownTypes.Any? SqlCommandOf(FlightDescriptor descriptor) =>
        descriptor.Type == FlightDescriptorType.Command && descriptor.Command.Length <= FlightRequestGuard.MaxCommandBytes
            ? sql.TryUnpack(descriptor.Command.Span)
            : null;

    /// <summary>A path descriptor <c>[layer, table]</c> or a query command (JSON or protobuf).</summary>
    private static TableQuery QueryOf(FlightDescriptor descriptor)
    {
        if (descriptor.Type == FlightDescriptorType.Path)
        {
            var path = descriptor.Paths.ToArray();
            return path.Length switch
            {
                1 => TableQuery.Create(path[0]),
                2 => TableQuery.Create(path[0], path[1]),
                _ => throw LakehouseException.Invalid(
                    $"path descriptor [{string.Join(", ", path)}] is not a dataset: use [\"silver\", \"prices_daily\"] or a query command"),
            };
        }
        if (descriptor.Command.Length > FlightRequestGuard.MaxCommandBytes)
        {
            throw FlightRequestGuard.CommandTooLarge("descriptor command", descriptor.Command.Length);
        }
        return QueryCodec.ParseQuery(descriptor.Command.Span);
    }

    private sealed class StockSink(FlightServerRecordBatchStreamWriter writer) : IDoGetSink
    {
        public async ValueTask<bool> StartAsync(Schema schema, CancellationToken cancellationToken)
        {
            await writer.SetupStream(schema).ConfigureAwait(false);
            return true;
        }

        public async ValueTask<bool> WriteAsync(RecordBatch batch, CancellationToken cancellationToken)
        {
            await writer.WriteAsync(batch).ConfigureAwait(false);
            return true;
        }
    }
}
