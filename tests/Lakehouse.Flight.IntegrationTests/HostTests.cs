using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Server;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
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
    public async Task Start_WithoutTls_LogsNoWarning_AndServesHttp11()
    {
        var logs = new LogCapture();
        await using var server = await TestServer.StartAsync(configureServices: s => s.AddSingleton<ILoggerProvider>(logs));
        using var http = new HttpClient { BaseAddress = server.Server.HttpEndpoint };

        using var response = await http.GetAsync(new Uri("/health", UriKind.Relative)).DefaultTimeout();

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new Version(1, 1), response.Version);
        // Kestrel warned "HTTP/2 is not enabled for 127.0.0.1:port ... TLS is not enabled" at every start.
        Assert.DoesNotContain(logs.Entries, e => e.Level >= LogLevel.Warning && e.Category.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
    }

    [Fact]
    public async Task BuildAsync_InvalidOptions_FailsBeforeListening()
    {
        var ex = await Assert.ThrowsAsync<Core.LakehouseException>(() =>
            LakehouseServer.BuildAsync(new LakehouseServerOptions { FlightPort = -1 }, l => l.SetMinimumLevel(LogLevel.None)));

        Assert.Contains("Lakehouse:FlightPort -1", ex.Message, StringComparison.Ordinal);
    }
}
