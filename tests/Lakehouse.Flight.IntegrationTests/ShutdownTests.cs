using System.Net;
using System.Net.Http.Headers;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Client;
using Grpc.Core;
using Grpc.Net.Client;
using Lakehouse.Flight.Ingestion;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>A stop drains calls in progress until Lakehouse:ShutdownTimeout, then exits; new calls are refused.</summary>
public sealed class ShutdownTests
{
    private static readonly string[] Symbols = ["A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8"];

    private static async Task<(TestServer Server, int Rows)> StartWithRowsAsync(int shutdownSeconds)
    {
        var server = await TestServer.StartAsync(o => o.ShutdownTimeout = shutdownSeconds);
        var bars = SyntheticBars.Generate(Symbols, new DateOnly(2023, 1, 1), new DateOnly(2024, 12, 31));
        await server.Server.Store.UpsertAsync(bars).DefaultTimeout();
        return (server, bars.Count);
    }

    [Fact]
    public async Task Stop_WhileADoGetStreamIsBlocked_CompletesWithinTheDeadline_AndRefusesNewCalls()
    {
        var (server, _) = await StartWithRowsAsync(shutdownSeconds: 1);
        await using var _ = server;
        // A client that never reads: a 64 KiB HTTP/2 window fills at once and the server's writes block.
        using var http = new HttpClient(new SocketsHttpHandler { InitialHttp2StreamWindowSize = 65535 }) { Timeout = Timeout.InfiniteTimeSpan };
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{server.Endpoint.Port}{RawGrpc.Service}DoGet")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(RawGrpc.Frame([0x0A, 0x02, (byte)'{', (byte)'}'])),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TE.Add(new TransferCodingWithQualityHeaderValue("trailers"));
        using var blocked = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, blocked.StatusCode);

        // Completes: the stream is cut at the 1 s deadline (the test's own timeout is 60 s).
        await server.Server.StopAsync().DefaultTimeout();

        var cut = await Record.ExceptionAsync(() => blocked.Content.CopyToAsync(Stream.Null)).DefaultTimeout();
        Assert.True(cut is not null || blocked.TrailingHeaders.GetValues("grpc-status").Single() != "0", "the blocked stream must not end as a success");
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{server.Endpoint.Port}");
        var refused = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = new FlightClient(channel).ListActions();
            await call.ResponseStream.MoveNext();
        }).DefaultTimeout();
        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
    }

    [Fact]
    public async Task Stop_WhileAClientIsReading_LetsTheStreamFinish()
    {
        var (server, rows) = await StartWithRowsAsync(shutdownSeconds: 30);
        await using var _ = server;
        using var call = server.Raw.GetStream(new FlightTicket("{}"));
        Assert.True(await call.ResponseStream.MoveNext().DefaultTimeout());
        var read = call.ResponseStream.Current.Length;

        var stopping = server.Server.StopAsync();
        while (await call.ResponseStream.MoveNext().DefaultTimeout())
        {
            read += call.ResponseStream.Current.Length;
        }
        await stopping.DefaultTimeout();

        Assert.Equal(rows, read);
    }
}
