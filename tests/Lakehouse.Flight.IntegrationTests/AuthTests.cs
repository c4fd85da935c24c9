using Apache.Arrow.Flight;
using Grpc.Core;
using Lakehouse.Flight.Client;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Ingestion;

namespace Lakehouse.Flight.IntegrationTests;

public sealed class AuthTests : IAsyncLifetime
{
    private static readonly IReadOnlyList<PriceBar> Bars = SyntheticBars.Generate(["AAPL"], new DateOnly(2024, 1, 1), new DateOnly(2024, 1, 31));
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync(TestServer.WithAuth);
        using var writer = _server.Client(TestServer.WriterToken);
        await writer.UploadAsync(Bars, "vendor_x", promote: true).DefaultTimeout();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public static TheoryData<string> Rpcs => new()
    {
        "ListFlights", "GetFlightInfo", "GetSchema", "DoGet", "DoPut", "DoAction", "ListActions", "DoExchange",
    };

    [Theory]
    [MemberData(nameof(Rpcs))]
    public async Task NoToken_EveryRpcButHandshake_IsUnauthenticated(string rpc)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => Call(rpc, headers: null));

        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
        Assert.Contains("Handshake", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Rpcs))]
    public async Task WrongToken_EveryRpc_IsUnauthenticated(string rpc)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => Call(rpc, TestServer.Bearer("not-a-token-at-all")));

        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
    }

    [Fact]
    public async Task Handshake_Basic_ReturnsBearerHeaderThatWorks()
    {
        var basic = Convert.ToBase64String("rita:r-secret"u8.ToArray());
        using var call = _server.Raw.Handshake(new Metadata { { "authorization", "Basic " + basic } });
        await call.RequestStream.CompleteAsync().DefaultTimeout();
        while (await call.ResponseStream.MoveNext().DefaultTimeout())
        {
        }
        var header = (await call.ResponseHeadersAsync.DefaultTimeout()).GetValue("authorization");

        Assert.NotNull(header);
        Assert.StartsWith("Bearer ", header, StringComparison.Ordinal);
        using var get = _server.Raw.GetStream(new FlightTicket("""{"symbols":["AAPL"]}"""), new Metadata { { "authorization", header } });
        var rows = 0;
        while (await get.ResponseStream.MoveNext().DefaultTimeout())
        {
            rows += get.ResponseStream.Current.Length;
        }
        Assert.Equal(Bars.Count, rows);
    }

    [Fact]
    public async Task Sdk_AuthenticateAsWriter_CanUploadAndRead()
    {
        using var client = _server.Client();

        var token = await client.AuthenticateAsync("wendy", "w-secret").DefaultTimeout();
        var reports = await client.UploadAsync(Bars, "vendor_y").DefaultTimeout();

        Assert.False(string.IsNullOrEmpty(token));
        Assert.Equal(Bars.Count, Assert.Single(reports).Rows);
        Assert.Equal(Bars.Count, (await client.ReadBarsAsync(TableQuery.Create(symbols: ["AAPL"])).ToListAsync()).Count);
    }

    [Fact]
    public async Task Sdk_WrongPassword_IsUnauthenticated()
    {
        using var client = _server.Client();

        var ex = await Assert.ThrowsAsync<RpcException>(() => client.AuthenticateAsync("wendy", "guess"));

        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
    }

    [Fact]
    public async Task Reader_CannotWrite_ButCanReadAndRunReadActions()
    {
        using var reader = _server.Client();
        await reader.AuthenticateAsync("rita", "r-secret").DefaultTimeout();
        var before = _server.Snapshot();

        var put = await Assert.ThrowsAsync<RpcException>(() => reader.UploadAsync(Bars, "vendor_z", promote: true));
        var ingest = await Assert.ThrowsAsync<RpcException>(() =>
            reader.IngestAsync(new IngestOptions { Symbols = ["MSFT"], From = new DateOnly(2024, 1, 1), To = new DateOnly(2024, 1, 31) }));
        var promote = await Assert.ThrowsAsync<RpcException>(() => reader.PromoteAsync());

        Assert.All([put, ingest, promote], ex => Assert.Equal(StatusCode.PermissionDenied, ex.StatusCode));
        Assert.Contains("needs the writer role", put.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(before, _server.Snapshot());
        Assert.Equal(Bars.Count, (await reader.ReadBarsAsync(TableQuery.Create(symbols: ["AAPL"])).ToListAsync()).Count);
        Assert.Single(await reader.GetManifestAsync().DefaultTimeout());
    }

    [Fact]
    public async Task StaticReaderToken_DoPutIsPermissionDenied()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => Call("DoPut", TestServer.Bearer(TestServer.ReaderToken)));

        Assert.Equal(StatusCode.PermissionDenied, ex.StatusCode);
    }

    private async Task Call(string rpc, Metadata? headers)
    {
        var raw = _server.Raw;
        var query = FlightDescriptor.CreateCommandDescriptor("""{"symbols":["AAPL"]}""");
        switch (rpc)
        {
            case "ListFlights":
                using (var c = raw.ListFlights(null, headers))
                {
                    await c.ResponseStream.MoveNext().DefaultTimeout();
                }
                break;
            case "GetFlightInfo":
                await raw.GetInfo(query, headers).ResponseAsync.DefaultTimeout();
                break;
            case "GetSchema":
                await raw.GetSchema(query, headers).ResponseAsync.DefaultTimeout();
                break;
            case "DoGet":
                using (var c = raw.GetStream(new FlightTicket("""{"symbols":["AAPL"]}"""), headers))
                {
                    await c.ResponseStream.MoveNext().DefaultTimeout();
                }
                break;
            case "DoPut":
                using (var c = await raw.StartPut(FlightDescriptor.CreateCommandDescriptor("""{"source":"x"}"""), PriceTables.SilverSchema, headers).DefaultTimeout())
                {
                    await c.RequestStream.CompleteAsync().DefaultTimeout();
                    await c.ResponseStream.MoveNext().DefaultTimeout();
                }
                break;
            case "DoAction":
                using (var c = raw.DoAction(new FlightAction("health"), headers))
                {
                    await c.ResponseStream.MoveNext().DefaultTimeout();
                }
                break;
            case "ListActions":
                using (var c = raw.ListActions(headers))
                {
                    await c.ResponseStream.MoveNext().DefaultTimeout();
                }
                break;
            case "DoExchange":
                using (var c = raw.DoExchange(query, headers))
                {
                    await c.ResponseStream.MoveNext().DefaultTimeout();
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(rpc));
        }
    }
}
