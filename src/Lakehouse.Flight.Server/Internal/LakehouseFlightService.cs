using System.Diagnostics;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Server;
using Apache.Arrow.Types;
using Grpc.Core;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Storage;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Server.Internal;

/// <summary>
/// The Flight service. Registered scoped by <c>AddFlightServer</c> (one instance per call), so all
/// state lives in the injected singletons. Every RPC is overridden: the base class throws
/// NotImplementedException, which would reach clients as Unknown.
/// </summary>
internal sealed partial class LakehouseFlightService : FlightServer
{
    private readonly PriceStore _store;
    private readonly LakehouseServerOptions _options;
    private readonly TokenService _tokens;
    private readonly FlightMetrics _metrics;
    private readonly ILogger<LakehouseFlightService> _logger;

    public LakehouseFlightService(PriceStore store, LakehouseServerOptions options, TokenService tokens, FlightMetrics metrics,
        ILogger<LakehouseFlightService> logger)
    {
        _store = store;
        _options = options;
        _tokens = tokens;
        _metrics = metrics;
        _logger = logger;
    }

    public override async Task ListFlights(FlightCriteria request, IAsyncStreamWriter<FlightInfo> responseStream, ServerCallContext context)
    {
        var filter = request.Expression.IsEmpty ? "" : request.Expression.ToStringUtf8().Trim().ToLowerInvariant();
        foreach (var (layer, table) in PriceQuery.Datasets)
        {
            var name = $"{Layers.Name(layer)}/{table}";
            if (filter.Length > 0 && !name.StartsWith(filter, StringComparison.Ordinal) && filter != table)
            {
                continue;
            }
            var query = PriceQuery.Create(Layers.Name(layer), table);
            var stats = _store.Stats(layer, table, context.CancellationToken);
            var endpoint = new FlightEndpoint(new FlightTicket(QueryCodec.Encode(query)), []);
            var descriptor = FlightDescriptor.CreatePathDescriptor(Layers.Name(layer), table);
            await responseStream.WriteAsync(new FlightInfo(PriceStore.SchemaOf(query), descriptor, [endpoint], stats.Rows, -1))
                .ConfigureAwait(false);
        }
    }

    public override Task<FlightInfo> GetFlightInfo(FlightDescriptor request, ServerCallContext context)
    {
        var query = QueryOf(request);
        var plans = _store.Plan(query, context.CancellationToken);
        // A limit spans symbols, so a limited query is one endpoint; otherwise one per symbol, for parallel reads.
        var endpoints = query.Limit > 0 && plans.Count > 0
            ? [new FlightEndpoint(new FlightTicket(QueryCodec.Encode(query)), [])]
            : plans.Select(p => new FlightEndpoint(new FlightTicket(QueryCodec.Encode(query.ForSymbol(p.Symbol))), [])).ToList();
        var total = plans.Sum(p => p.Rows);
        if (query.Limit > 0)
        {
            total = Math.Min(total, query.Limit);
        }
        return Task.FromResult(new FlightInfo(PriceStore.SchemaOf(query), request, endpoints, total, -1, ordered: true, Google.Protobuf.ByteString.Empty));
    }

    public override Task<Schema> GetSchema(FlightDescriptor request, ServerCallContext context) =>
        Task.FromResult(PriceStore.SchemaOf(QueryOf(request)));

    public override async Task DoGet(FlightTicket ticket, FlightServerRecordBatchStreamWriter responseStream, ServerCallContext context)
    {
        var query = QueryCodec.ParseQuery(ticket.Ticket.Span);
        var schema = PriceStore.SchemaOf(query);
        var ct = context.CancellationToken;
        var maxRows = RowsPerMessage(schema, _options.MaxSendMessageBytes);
        var sw = Stopwatch.StartNew();
        long rows = 0, messages = 0;
        _metrics.StreamStarted();
        try
        {
            // The schema goes first, so an empty result is a valid schema-only stream.
            await responseStream.SetupStream(schema).ConfigureAwait(false);
            foreach (var slice in MessageSlices(_store.Read(query, ct), maxRows, _metrics, ct))
            {
                await responseStream.WriteAsync(slice).ConfigureAwait(false);
                _metrics.MessageSent();
                rows += slice.Length;
                messages++;
            }
        }
        finally
        {
            _metrics.StreamEnded();
        }
        ServerLog.Served(_logger, query.Symbols.Count, rows, messages, sw.ElapsedMilliseconds);
    }

    /// <summary>
    /// The batches of a read cut to at most <paramref name="maxRows"/> rows each (zero-copy slices), with
    /// the token checked before each: Flight writers neither split batches nor watch cancellation.
    /// </summary>
    internal static IEnumerable<RecordBatch> MessageSlices(IEnumerable<RecordBatch> batches, int maxRows, FlightMetrics metrics, CancellationToken ct)
    {
        foreach (var batch in batches)
        {
            metrics.BatchRead();
            for (var offset = 0; offset < batch.Length; offset += maxRows)
            {
                ct.ThrowIfCancellationRequested();
                var length = Math.Min(maxRows, batch.Length - offset);
                yield return offset == 0 && length == batch.Length ? batch : batch.Slice(offset, length);
            }
        }
    }

    public override Task DoExchange(FlightServerRecordBatchStreamReader requestStream, FlightServerRecordBatchStreamWriter responseStream,
        ServerCallContext context) =>
        throw new RpcException(new Status(StatusCode.Unimplemented, "DoExchange is not served: use DoGet to read and DoPut to upload"));

    /// <summary>A path descriptor <c>[layer, table]</c> or a query command (JSON or protobuf).</summary>
    private static PriceQuery QueryOf(FlightDescriptor descriptor)
    {
        if (descriptor.Type == FlightDescriptorType.Path)
        {
            var path = descriptor.Paths.ToArray();
            return path.Length switch
            {
                1 => PriceQuery.Create(path[0]),
                2 => PriceQuery.Create(path[0], path[1]),
                _ => throw LakehouseException.Invalid(
                    $"path descriptor [{string.Join(", ", path)}] is not a dataset: use [\"silver\", \"prices_daily\"] or a query command"),
            };
        }
        return QueryCodec.ParseQuery(descriptor.Command.Span);
    }

    /// <summary>Rows per message so a message stays under <paramref name="maxBytes"/> (strings counted at their longest usual size).</summary>
    internal static int RowsPerMessage(Schema schema, int maxBytes)
    {
        var perRow = 0;
        foreach (var f in schema.FieldsList)
        {
            perRow += f.DataType switch
            {
                FixedWidthType fw => Math.Max(1, fw.BitWidth / 8),
                _ => 4 + 64,
            };
            if (f.IsNullable)
            {
                perRow += 1;
            }
        }
        return Math.Max(1, maxBytes / Math.Max(1, perRow));
    }
}
