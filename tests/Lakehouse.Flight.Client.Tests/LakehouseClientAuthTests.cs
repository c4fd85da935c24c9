using Grpc.Core;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Client.Tests;

/// <summary>The SDK's authentication against a real server with users and tokens: the handshake, the Bearer token, the roles.</summary>
public sealed class LakehouseClientAuthTests : IAsyncLifetime
{
    private static readonly PriceBar[] Bars =
    [
        new("IBM", new DateOnly(2024, 3, 1), 185.49, 188.38, 184.50, 185.03, 185.03, 4_216_000, "vendor_x", DateTimeOffset.UnixEpoch),
    ];

    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(TestServer.WithAuth);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task AuthenticateAsync_RightPassword_TokenIsKeptAndLaterCallsPass()
    {
        using var client = _server.Client();

        var token = await client.AuthenticateAsync("wendy", "w-secret").DefaultTimeout();
        var reports = await client.UploadAsync(Bars, "vendor_x", promote: true).DefaultTimeout();

        Assert.False(string.IsNullOrWhiteSpace(token));
        Assert.Equal(token, client.Token);
        Assert.Equal(1, reports.Where(r => r.Layer == "silver").Sum(r => r.Inserted));
        Assert.Equal([185.03], (await client.ReadBarsAsync(TableQuery.Create(symbols: ["IBM"])).ToListAsync()).Select(b => b.Close));
    }

    [Fact]
    public async Task AuthenticateAsync_WrongPassword_RpcExceptionUnauthenticatedAndNoToken()
    {
        using var client = _server.Client();

        var ex = await Assert.ThrowsAsync<RpcException>(() => client.AuthenticateAsync("wendy", "guess")).DefaultTimeout();

        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
        Assert.Null(client.Token);
    }

    [Fact]
    public async Task PlanAsync_NoToken_RpcExceptionUnauthenticatedPointingAtTheHandshake()
    {
        using var client = _server.Client();

        var ex = await Assert.ThrowsAsync<RpcException>(() => client.PlanAsync(TableQuery.Create(symbols: ["IBM"]))).DefaultTimeout();

        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
        Assert.Contains("Handshake", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UploadAsync_ReaderToken_RpcExceptionPermissionDeniedAndNothingIsWritten()
    {
        using var reader = _server.Client(TestServer.ReaderToken);
        using var writer = _server.Client(TestServer.WriterToken);

        var ex = await Assert.ThrowsAsync<RpcException>(() => reader.UploadAsync(Bars, "vendor_x", promote: true)).DefaultTimeout();

        Assert.Equal(StatusCode.PermissionDenied, ex.StatusCode);
        Assert.Empty(await writer.ReadBarsAsync(TableQuery.Create("bronze", symbols: ["IBM"])).ToListAsync());
    }
}
