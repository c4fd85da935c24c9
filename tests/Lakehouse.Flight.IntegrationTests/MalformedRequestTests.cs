using System.Text;
using Apache.Arrow.Flight;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>Client garbage on every Flight method is InvalidArgument saying so, logged as one warning line without a stack trace.</summary>
public sealed class MalformedRequestTests : IAsyncLifetime
{
    private const string Hint = "send it with a Flight client (e.g. pyarrow.flight)";

    /// <summary>'t' (0x74) is field 14 with wire type 4, an end-group tag outside any group: no protobuf message starts like this.</summary>
    private static readonly byte[] Garbage = Encoding.ASCII.GetBytes("this is not protobuf \u00ff\u00fe");

    private readonly LogCapture _logs = new();
    private TestServer _server = null!;

    public static TheoryData<string, string> Methods => new()
    {
        { "Handshake", "arrow.flight.protocol.HandshakeRequest" },
        { "ListFlights", "arrow.flight.protocol.Criteria" },
        { "GetFlightInfo", "arrow.flight.protocol.FlightDescriptor" },
        { "GetSchema", "arrow.flight.protocol.FlightDescriptor" },
        { "DoGet", "arrow.flight.protocol.Ticket" },
        { "DoPut", "arrow.flight.protocol.FlightData" },
        { "DoAction", "arrow.flight.protocol.Action" },
        { "ListActions", "arrow.flight.protocol.Empty" },
        { "PollFlightInfo", "arrow.flight.protocol.FlightDescriptor" },
        { "DoExchange", "arrow.flight.protocol.FlightData" },
    };

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync(o => o.MaxReceiveMessageBytes = 1 << 20, configureServices: s => s.AddSingleton<ILoggerProvider>(_logs));
        // Start-up warnings (no credentials configured) are not the calls'.
        _logs.Entries.Clear();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [MemberData(nameof(Methods))]
    public async Task GarbageMessageBody_IsInvalidArgumentNamingTheMessage(string method, string message)
    {
        var (status, detail) = await RawGrpc.CallAsync(_server.Endpoint, method, RawGrpc.Frame(Garbage));

        Assert.Equal((int)StatusCode.InvalidArgument, status);
        Assert.Equal($"the {method} request is not a valid Flight message: gRPC message 1 does not parse as protobuf {message}; {Hint}", detail);
        AssertOneWarningAndNoStackTrace(method, detail);
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public async Task BadCompressedFlag_IsInvalidArgumentNamingTheByte(string method, string message)
    {
        _ = message;
        var (status, detail) = await RawGrpc.CallAsync(_server.Endpoint, method, RawGrpc.Frame([], flag: 0x07));

        Assert.Equal((int)StatusCode.InvalidArgument, status);
        Assert.Equal($"the {method} request is not a valid Flight message: gRPC message 1 has compressed-flag byte 0x07 " +
            $"(0 = not compressed; 1 = compressed, with a grpc-encoding header); {Hint}", detail);
        AssertOneWarningAndNoStackTrace(method, detail);
    }

    [Fact]
    public async Task CompressedFlagWithoutGrpcEncoding_IsInvalidArgument()
    {
        var (status, detail) = await RawGrpc.CallAsync(_server.Endpoint, "GetFlightInfo", RawGrpc.Frame([], flag: 1));

        Assert.Equal((int)StatusCode.InvalidArgument, status);
        Assert.Contains("compressed-flag byte 0x01", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BodyEndingInsideAMessage_IsInvalidArgument()
    {
        var (status, detail) = await RawGrpc.CallAsync(_server.Endpoint, "DoAction", RawGrpc.Frame([0x0A, 0x01], declaredLength: 10));

        Assert.Equal((int)StatusCode.InvalidArgument, status);
        Assert.Equal($"the DoAction request is not a valid Flight message: the body ends inside gRPC message 1; {Hint}", detail);
    }

    [Fact]
    public async Task GarbageInALaterDoPutMessage_IsInvalidArgumentNamingIt()
    {
        // A well-formed first message (a command descriptor), then garbage.
        var descriptor = new byte[] { 0x0A, 0x04, 0x08, 0x02, 0x12, 0x00 };
        var body = RawGrpc.Frame(descriptor).Concat(RawGrpc.Frame(Garbage)).ToArray();

        var (status, detail) = await RawGrpc.CallAsync(_server.Endpoint, "DoPut", body);

        Assert.Equal((int)StatusCode.InvalidArgument, status);
        Assert.Equal($"the DoPut request is not a valid Flight message: gRPC message 2 does not parse as protobuf arrow.flight.protocol.FlightData; {Hint}", detail);
    }

    [Fact]
    public async Task WellFormedCalls_StillWork()
    {
        using var call = _server.Raw.ListActions();
        var actions = new List<FlightActionType>();
        while (await call.ResponseStream.MoveNext().DefaultTimeout())
        {
            actions.Add(call.ResponseStream.Current);
        }
        var (status, detail) = await RawGrpc.CallAsync(_server.Endpoint, "DoExchange", RawGrpc.Frame([]));

        Assert.Contains(actions, a => a.Type == "health");
        Assert.Equal((int)StatusCode.Unimplemented, status);
        Assert.Equal("DoExchange is not served: use DoGet to read and DoPut to upload", detail);
    }

    [Fact]
    public async Task OversizedDoPutMessage_IsResourceExhaustedNamingTheLimitInMiB()
    {
        var (status, detail) = await RawGrpc.CallAsync(_server.Endpoint, "DoPut", RawGrpc.Frame(new byte[3 << 20]));

        Assert.Equal((int)StatusCode.ResourceExhausted, status);
        Assert.Equal("a DoPut message of 3 MiB is over the server's limit of 1 MiB per message (Lakehouse:MaxReceiveMessageBytes): " +
            "send smaller record batches, e.g. in pyarrow writer.write_table(table, max_chunksize=100_000) or write_batch of fewer rows", detail);
        AssertOneWarningAndNoStackTrace("DoPut", detail);
    }

    [Fact]
    public async Task OversizedRecordBatch_FromTheFlightClient_IsResourceExhausted()
    {
        var bars = Ingestion.SyntheticBars.Generate(Enumerable.Range(0, 12).Select(i => $"S{i}").ToArray(), new DateOnly(2015, 1, 1), new DateOnly(2024, 12, 31));
        var batch = Core.PriceBarBatches.ToBatch(bars);
        using var call = await _server.Raw.StartPut(FlightDescriptor.CreateCommandDescriptor("""{"table":"prices_daily","source":"vendor_x"}"""),
            batch.Schema).DefaultTimeout();

        try
        {
            await call.RequestStream.WriteAsync(batch).DefaultTimeout();
            await call.RequestStream.CompleteAsync().DefaultTimeout();
        }
        catch (RpcException)
        {
            // The server ends the call mid-write; as pyarrow does, the status is read from the response.
        }
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(default)).DefaultTimeout();

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.StartsWith("a DoPut message of ", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("over the server's limit of 1 MiB per message (Lakehouse:MaxReceiveMessageBytes): send smaller record batches", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(0, _server.Server.Store.Read(Core.TableQuery.Create(symbols: ["S0"])).Sum(b => b.Length));
    }

    [Fact]
    public async Task GetFlightInfo_CommandOver1MiB_IsInvalidArgumentNamingTheLimit()
    {
        var command = new byte[10_800_000];

        var ex = await Assert.ThrowsAsync<RpcException>(() => _server.Raw.GetInfo(FlightDescriptor.CreateCommandDescriptor(command)).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        // The message is the command plus 7 bytes of protobuf: type (2), tag and 4-byte length of cmd (5).
        Assert.Equal("the GetFlightInfo request is 10,800,007 bytes, over the 1 MiB limit for descriptor commands and tickets: " +
            "a query names symbols, dates and columns; split a very long symbol list into several queries", ex.Status.Detail);
    }

    [Fact]
    public async Task GetSchema_CommandJustOver1MiB_IsInvalidArgumentNamingTheLimit()
    {
        var command = new byte[(1 << 20) + 10];

        var ex = await Assert.ThrowsAsync<RpcException>(() => _server.Raw.GetSchema(FlightDescriptor.CreateCommandDescriptor(command)).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal("the descriptor command is 1,048,586 bytes, over the 1 MiB limit for descriptor commands and tickets: " +
            "a query names symbols, dates and columns; split a very long symbol list into several queries", ex.Status.Detail);
    }

    [Fact]
    public async Task DoGet_TicketOver1MiB_IsInvalidArgumentNamingTheSameLimit()
    {
        using var call = _server.Raw.GetStream(new FlightTicket(Google.Protobuf.ByteString.CopyFrom(new byte[(1 << 20) + 10])));

        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext()).DefaultTimeout();

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal("the DoGet ticket is 1,048,586 bytes, over the 1 MiB limit for descriptor commands and tickets: " +
            "a query names symbols, dates and columns; split a very long symbol list into several queries", ex.Status.Detail);
    }

    private void AssertOneWarningAndNoStackTrace(string method, string detail)
    {
        var entries = _logs.Entries.ToArray();
        Assert.Equal([$"{method} refused: {detail}"], entries.Select(e => e.Message));
        Assert.All(entries, e =>
        {
            Assert.Equal(LogLevel.Warning, e.Level);
            Assert.Null(e.Exception);
        });
    }
}
