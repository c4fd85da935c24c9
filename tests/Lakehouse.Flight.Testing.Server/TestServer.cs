using System.Security.Cryptography;
using Apache.Arrow.Flight.Client;
using Grpc.Core;
using Grpc.Net.Client;
using Lakehouse.Flight.Client;
using Lakehouse.Flight.Server;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Testing;

/// <summary>A real server on 127.0.0.1:0 over a data dir of its own, with the SDK and a raw FlightClient pointed at it.</summary>
public sealed class TestServer : IAsyncDisposable
{
    public const string WriterToken = "writer-token-0123456789";
    public const string ReaderToken = "reader-token-0123456789";

    private readonly GrpcChannel _channel;
    private bool _stopped;

    private TestServer(LakehouseServer server, Uri endpoint, string dir)
    {
        Server = server;
        Endpoint = endpoint;
        DataDir = dir;
        _channel = GrpcChannel.ForAddress($"http://{endpoint.Host}:{endpoint.Port}", new GrpcChannelOptions { MaxReceiveMessageSize = 64 << 20 });
        Raw = new FlightClient(_channel);
    }

    public LakehouseServer Server { get; }
    public Uri Endpoint { get; }
    public string DataDir { get; }

    /// <summary>The stock Apache.Arrow.Flight client over a Grpc.Net.Client channel.</summary>
    public FlightClient Raw { get; }

    /// <param name="configure">Options changes.</param>
    /// <param name="root">Where the data dir goes (a fresh folder under it).</param>
    /// <param name="configureServices">Extra registrations (a test's price source, a fake TimeProvider).</param>
    /// <param name="dataDir">Reuse this data dir (a restart) instead of a fresh one.</param>
    public static async Task<TestServer> StartAsync(Action<LakehouseServerOptions>? configure = null, string? root = null,
        Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? configureServices = null, string? dataDir = null)
    {
        var dir = dataDir ?? Path.Combine(root ?? Path.GetTempPath(), "lakehouse-it", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var options = new LakehouseServerOptions { DataDir = dir, FlightPort = 0, HttpPort = 0, WarmCache = false, CacheBytes = 256L << 20 };
        configure?.Invoke(options);
        var server = await LakehouseServer.BuildAsync(options, logging => logging.SetMinimumLevel(LogLevel.Warning), configureServices).DefaultTimeout();
        var endpoint = await server.StartAsync().DefaultTimeout();
        return new TestServer(server, endpoint, dir);
    }

    /// <summary>Auth on: a writer and a reader user, and a static token of each role.</summary>
    public static void WithAuth(LakehouseServerOptions o)
    {
        o.Auth.Users.Add(new UserOptions { Name = "wendy", Password = "w-secret", Role = "writer" });
        o.Auth.Users.Add(new UserOptions { Name = "rita", Password = "r-secret", Role = "reader" });
        o.Auth.Tokens.Add(new TokenOptions { Token = WriterToken, Role = "writer" });
        o.Auth.Tokens.Add(new TokenOptions { Token = ReaderToken, Role = "reader" });
    }

    public LakehouseClient Client(string? token = null) => new(Endpoint, new LakehouseClientOptions { Token = token });

    public static Metadata Bearer(string token) => new() { { "authorization", "Bearer " + token } };

    /// <summary>Path and SHA-256 of every file under the data dir, to prove a refused call changed nothing.</summary>
    public SortedDictionary<string, string> Snapshot()
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var f in Directory.EnumerateFiles(DataDir, "*", SearchOption.AllDirectories))
        {
            files[Path.GetRelativePath(DataDir, f)] = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)));
        }
        return files;
    }

    /// <summary>Stops the server (gracefully) and leaves the data dir for the next server: a restart.</summary>
    public async Task StopKeepingDataAsync()
    {
        if (_stopped)
        {
            return;
        }
        _stopped = true;
        _channel.Dispose();
        await Server.StopAsync().DefaultTimeout();
        await Server.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopKeepingDataAsync();
        TempDir.Delete(DataDir);
    }
}
