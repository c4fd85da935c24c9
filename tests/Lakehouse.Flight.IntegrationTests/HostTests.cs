using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Server;
using Microsoft.Extensions.Configuration;
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
    public async Task Host_ReadsItsSettingsFileOnce_WithoutWatchingTheWorkingFolder()
    {
        await using var server = await TestServer.StartAsync();

        // A watched appsettings.json puts an inotify watch on every folder under the working folder, where a
        // `./data` lake of 120,000 partition folders usually is (4 s before listening).
        var files = ((IConfigurationRoot)server.Server.HostConfiguration).Providers.OfType<FileConfigurationProvider>().ToList();
        Assert.Contains(files, f => f.Source.Path == "appsettings.json");
        Assert.All(files, f => Assert.False(f.Source.ReloadOnChange, $"{f.Source.Path} is watched for changes"));
    }

    [Fact]
    public async Task BuildAsync_InvalidOptions_FailsBeforeListening()
    {
        var ex = await Assert.ThrowsAsync<Core.LakehouseException>(() =>
            LakehouseServer.BuildAsync(new LakehouseServerOptions { FlightPort = -1 }, l => l.SetMinimumLevel(LogLevel.None)));

        Assert.Contains("Lakehouse:FlightPort -1", ex.Message, StringComparison.Ordinal);
    }
}
