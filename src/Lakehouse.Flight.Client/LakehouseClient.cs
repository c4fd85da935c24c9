using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Client;
using Grpc.Core;
using Grpc.Net.Client;
using Lakehouse.Flight.Client.Internal;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Wire;

namespace Lakehouse.Flight.Client;

/// <summary>
/// The .NET client of a Lakehouse.Flight server: queries stream as Arrow record batches or typed
/// bars, uploads land in bronze, actions run ingestion. Failures surface as <see cref="RpcException"/>
/// whose status (InvalidArgument, Unauthenticated, PermissionDenied, ...) and detail say what to fix.
/// </summary>
/// <example>
/// <code>
/// using var client = new LakehouseClient(new Uri("grpc://localhost:8815"));
/// await foreach (var batch in client.GetPricesAsync(TableQuery.Create(symbols: ["AAPL"])))
/// {
///     Console.WriteLine(batch.Length);
/// }
/// </code>
/// </example>
public sealed partial class LakehouseClient : IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly FlightClient _flight;
    private readonly LakehouseClientOptions _options;
    private readonly Apache.Arrow.Ipc.CompressionCodecType? _compression;

    /// <summary>Connects to <paramref name="address"/> (<c>grpc://host:port</c>, <c>grpc+tls://host:port</c>, or http(s)://).</summary>
    /// <param name="address">The server's Flight endpoint.</param>
    /// <param name="options">Token and limits; defaults when null.</param>
    public LakehouseClient(Uri address, LakehouseClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        _options = options ?? new LakehouseClientOptions();
        Token = _options.Token;
        var scheme = address.Scheme switch
        {
            "grpc" or "grpc+tcp" or "http" => "http",
            "grpc+tls" or "https" => "https",
            _ => throw new ArgumentException($"unsupported scheme '{address.Scheme}': use grpc:// or grpc+tls://", nameof(address)),
        };
        _channel = GrpcChannel.ForAddress($"{scheme}://{address.Host}:{address.Port}", new GrpcChannelOptions
        {
            MaxReceiveMessageSize = _options.MaxReceiveMessageBytes,
            HttpHandler = _options.HttpHandler,
            DisposeHttpClient = _options.HttpHandler is null,
        });
        _flight = new FlightClient(_channel);
        _compression = IpcCompression.Parse(_options.Compression);
    }

    /// <summary>The Bearer token sent on every call (from the options or <see cref="AuthenticateAsync"/>); null when none.</summary>
    public string? Token { get; private set; }

    /// <summary>Exchanges a user name and password for a Bearer token (Flight Handshake, Basic auth) used by later calls.</summary>
    /// <param name="user">The user name.</param>
    /// <param name="password">The password.</param>
    /// <param name="cancellationToken">Cancels the handshake.</param>
    /// <returns>The token.</returns>
    public async Task<string> AuthenticateAsync(string user, string password, CancellationToken cancellationToken = default)
    {
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));
        using var call = _flight.Handshake(new Metadata { { "authorization", "Basic " + basic } }, null, cancellationToken);
        await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        while (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
        {
        }
        var headers = await call.ResponseHeadersAsync.ConfigureAwait(false);
        var value = headers.GetValue("authorization");
        if (value is null || !value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, "the server answered the handshake without a Bearer token"));
        }
        Token = value[7..].Trim();
        return Token;
    }

    /// <summary>Streams the rows of a query as Arrow record batches, ordered by symbol then date; nothing is buffered beyond a batch.</summary>
    /// <param name="query">What to read; build it with <see cref="TableQuery.Create"/>.</param>
    /// <param name="cancellationToken">Stops the stream (the server stops reading too).</param>
    public IAsyncEnumerable<RecordBatch> GetPricesAsync(TableQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        return _compression is null
            ? ReadTicketAsync(QueryCodec.Encode(query), cancellationToken)
            : CompressedDoGet.ReadAsync(_channel, QueryCodec.Encode(query, _compression), Headers(), cancellationToken);
    }

    /// <summary>Streams the rows of a query as typed <see cref="PriceBar"/>s (all columns are read whatever the projection).</summary>
    /// <param name="query">What to read.</param>
    /// <param name="cancellationToken">Stops the stream.</param>
    public async IAsyncEnumerable<PriceBar> ReadBarsAsync(TableQuery query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        await foreach (var batch in GetPricesAsync(QueryText.AllColumns(query), cancellationToken).ConfigureAwait(false))
        {
            foreach (var bar in PriceBarBatches.ToBars(batch))
            {
                yield return bar;
            }
        }
    }

    /// <summary>The schema a query returns (its projection applied).</summary>
    /// <param name="query">The query.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<Schema> GetSchemaAsync(TableQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        using var call = _flight.GetSchema(FlightDescriptor.CreateCommandDescriptor(QueryCodec.Encode(query)), Headers(), null, cancellationToken);
        return await call.ResponseAsync.ConfigureAwait(false);
    }

    /// <summary>Plans a query: exact row count and the symbols it covers (Flight GetFlightInfo).</summary>
    /// <param name="query">The query.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<QueryPlan> PlanAsync(TableQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        using var call = _flight.GetInfo(FlightDescriptor.CreateCommandDescriptor(QueryCodec.Encode(query)), Headers(), null, cancellationToken);
        var info = await call.ResponseAsync.ConfigureAwait(false);
        return new QueryPlan(info.Schema, info.TotalRecords, PlanSymbols(info));
    }

    /// <summary>The datasets the server serves (Flight ListFlights).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<IReadOnlyList<DatasetInfo>> ListDatasetsAsync(CancellationToken cancellationToken = default)
    {
        using var call = _flight.ListFlights(new FlightCriteria(), Headers(), null, cancellationToken);
        var list = new List<DatasetInfo>();
        while (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            var info = call.ResponseStream.Current;
            var path = info.Descriptor.Paths.ToArray();
            list.Add(new DatasetInfo(path[0], path[1], info.Schema, info.TotalRecords));
        }
        return list;
    }

    /// <inheritdoc />
    public void Dispose() => _channel.Dispose();

    private async IAsyncEnumerable<RecordBatch> ReadTicketAsync(byte[] ticket, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Disposing the call (early break, exception or cancellation) cancels it on the server.
        using var call = _flight.GetStream(new FlightTicket(ticket), Headers(), null, cancellationToken);
        while (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            yield return call.ResponseStream.Current;
        }
    }

    /// <summary>
    /// The planned symbols from the FlightInfo's app_metadata (a JSON array of {symbol, rows, files}):
    /// endpoint tickets cannot say, since a query with a limit is one endpoint over every symbol.
    /// </summary>
    private static string[] PlanSymbols(FlightInfo info)
    {
        if (!info.AppMetadata.IsEmpty)
        {
            var plan = JsonSerializer.Deserialize(info.AppMetadata.Span, WireJson.Default.IReadOnlyListPlanEntry) ?? [];
            return plan.Select(e => e.Symbol).ToArray();
        }
        // A server without the plan metadata: one endpoint per symbol.
        return info.Endpoints.SelectMany(e => QueryCodec.ParseQuery(e.Ticket.Ticket.Span).Symbols).Distinct().ToArray();
    }

    private Metadata Headers()
    {
        var headers = new Metadata();
        if (Token is { Length: > 0 } token)
        {
            headers.Add("authorization", "Bearer " + token);
        }
        return headers;
    }

    private static IReadOnlyList<StorageReport> Reports(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize(json, WireJson.Default.IReadOnlyListStorageReport) ?? [];

    /// <summary>A JSON object (a progress or failure result), not an array of reports.</summary>
    private static bool IsObject(ReadOnlySpan<byte> json) => json.TrimStart(" \t\r\n"u8) is [(byte)'{', ..];
}
