using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Server;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.IntegrationTests;

public sealed class HostTests
{
    [Fact]
    public async Task NoCredentials_AnyAddressAsked_BindsLoopbackOnly()
    {
        await using var server = await TestServer.StartAsync(o => o.Host = "0.0.0.0");

        Assert.Equal("127.0.0.1", server.Server.BindHost);
        Assert.Equal("127.0.0.1", server.Endpoint.Host);
        using var client = server.Client();
        Assert.Equal(TableCatalog.Default.Tables.Count, (await client.ListDatasetsAsync().DefaultTimeout()).Count);
    }

    [Fact]
    public async Task WithCredentials_AnyAddress_IsBoundAsAsked()
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            TestServer.WithAuth(o);
            o.Host = "0.0.0.0";
        });

        Assert.Equal("0.0.0.0", server.Server.BindHost);
        Assert.Equal("0.0.0.0", server.Endpoint.Host);
    }

    [Fact]
    public async Task BuildAsync_InvalidOptions_FailsBeforeListening()
    {
        var ex = await Assert.ThrowsAsync<Core.LakehouseException>(() =>
            LakehouseServer.BuildAsync(new LakehouseServerOptions { FlightPort = -1 }, l => l.SetMinimumLevel(LogLevel.None)));

        Assert.Contains("Lakehouse:FlightPort -1", ex.Message, StringComparison.Ordinal);
    }
}
