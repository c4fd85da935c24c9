using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Grpc.Core;
using Lakehouse.Flight.Ingestion;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>Each port serves its own protocol and says where the other one is.</summary>
public sealed class ListenerTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        using var client = _server.Client();
        await client.UploadAsync(SyntheticBars.Generate(["AAPL"], new DateOnly(2024, 1, 1), new DateOnly(2024, 1, 31)), "vendor_x", promote: true)
            .DefaultTimeout();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task HttpApiRoute_OnTheFlightPort_Is404NamingTheHttpPort()
    {
        using var http = H2c();

        using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{_server.Endpoint.Port}/prices/daily?symbol=AAPL")).DefaultTimeout();

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains($"the HTTP API is on port {_server.Server.HttpEndpoint!.Port}", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GrpcCall_OnTheHttpPort_IsAProblemNamingTheFlightPort()
    {
        using var http = new HttpClient();
        using var content = new ByteArrayContent(Frame("""{"symbols":["AAPL"]}"""u8.ToArray()));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");

        using var response = await http.PostAsync(new Uri(_server.Server.HttpEndpoint!, "/arrow.flight.protocol.FlightService/DoGet"), content).DefaultTimeout();

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains($"served on port {_server.Endpoint.Port}", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task FastDoGet_NonGrpcRequest_Is415SayingWhatItSpeaks()
    {
        using var http = H2c();
        using var content = new StringContent("{}");

        using var response = await http.PostAsync(new Uri($"http://127.0.0.1:{_server.Endpoint.Port}/arrow.flight.protocol.FlightService/DoGet"), content)
            .DefaultTimeout();

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("speaks gRPC", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task FastDoGet_GrpcTimeoutPassesWhileWaitingForTheTicket_IsDeadlineExceeded()
    {
        using var http = H2c();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{_server.Endpoint.Port}/arrow.flight.protocol.FlightService/DoGet")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new SlowContent(Frame("""{"symbols":["AAPL"]}"""u8.ToArray()), TimeSpan.FromSeconds(2)),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TE.Add(new TransferCodingWithQualityHeaderValue("trailers"));
        request.Headers.Add("grpc-timeout", "200m");

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead).DefaultTimeout();

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.Equal(((int)StatusCode.DeadlineExceeded).ToString(System.Globalization.CultureInfo.InvariantCulture),
            response.TrailingHeaders.GetValues("grpc-status").Single());
    }

    [Fact]
    public async Task FastDoGet_GenerousGrpcTimeout_StreamsTheRows()
    {
        using var call = _server.Raw.GetStream(new Apache.Arrow.Flight.FlightTicket("""{"symbols":["AAPL"]}"""), new Metadata(), DateTime.UtcNow.AddMinutes(1));
        var rows = 0;
        while (await call.ResponseStream.MoveNext().DefaultTimeout())
        {
            rows += call.ResponseStream.Current.Length;
        }

        Assert.Equal(23, rows);
    }

    private static HttpClient H2c() => new()
    {
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };

    /// <summary>A gRPC message: a zero compression flag, a big-endian length, then a FlightTicket (field 1, bytes).</summary>
    private static byte[] Frame(byte[] ticket)
    {
        var message = new List<byte> { 0x0A };
        var n = ticket.Length;
        while (n >= 0x80)
        {
            message.Add((byte)(n | 0x80));
            n >>= 7;
        }
        message.Add((byte)n);
        message.AddRange(ticket);
        var framed = new byte[5 + message.Count];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(framed.AsSpan(1), message.Count);
        message.CopyTo(framed, 5);
        return framed;
    }

    /// <summary>A request body that starts only after a delay: the server waits for the ticket meanwhile.</summary>
    /// <summary>
    /// Sends the first bytes of the body at once (so the client flushes the headers and the server is
    /// surely waiting inside the call), then the rest after <paramref name="delay"/>.
    /// </summary>
    private sealed class SlowContent(byte[] body, TimeSpan delay) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(body.AsMemory(0, 2)).ConfigureAwait(false);
            await stream.FlushAsync().ConfigureAwait(false);
            await Task.Delay(delay).ConfigureAwait(false);
            await stream.WriteAsync(body.AsMemory(2)).ConfigureAwait(false);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = body.Length;
            return true;
        }
    }
}
