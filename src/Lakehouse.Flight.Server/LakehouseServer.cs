using System.Net;
using System.Security.Cryptography.X509Certificates;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Ingestion.Yahoo;
using Lakehouse.Flight.Server.Http;
using Lakehouse.Flight.Server.Internal;
using Lakehouse.Flight.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Server;

/// <summary>
/// The Flight host: Kestrel with HTTP/2 cleartext (TLS when a certificate is configured) on the
/// Flight port, the Flight service, authentication and the store as a singleton.
/// <code>await using var server = await LakehouseServer.BuildAsync(options); var uri = await server.StartAsync();</code>
/// </summary>
public sealed class LakehouseServer : IAsyncDisposable
{
    /// <summary>The host's settings file is read once, not watched (see <see cref="BuildAsync"/>).</summary>
    internal const string NoConfigReload = "--hostBuilder:reloadConfigOnChange=false";

    private readonly WebApplication _app;
    private readonly ILogger _logger;

    private readonly ListenOptions? _httpListen;

    private readonly X509Certificate2? _certificate;

    private readonly IPAddress _address;

    private readonly TaskCompletionSource<ServingWarmup.Result> _servingWarmed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private LakehouseServer(WebApplication app, LakehouseServerOptions options, string host, ListenOptions? httpListen, X509Certificate2? certificate, IPAddress address)
    {
        _httpListen = httpListen;
        _certificate = certificate;
        _address = address;
        _app = app;
        Options = options;
        BindHost = host;
        _logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Lakehouse.Flight.Server");
    }

    public LakehouseServerOptions Options { get; }

    /// <summary>The address actually bound (loopback when authentication is off).</summary>
    public string BindHost { get; }

    /// <summary>The store the server serves (one per data dir).</summary>
    public LakeStore Store => _app.Services.GetRequiredService<LakeStore>();

    public IServiceProvider Services => _app.Services;

    /// <summary>The bound Flight endpoint (<c>grpc://host:port</c> or <c>grpc+tls://host:port</c>), once started.</summary>
    public Uri? FlightEndpoint { get; private set; }

    /// <summary>The bound HTTP API endpoint (<c>http://host:port</c>), once started; null when the HTTP API is off.</summary>
    public Uri? HttpEndpoint { get; private set; }

    internal FlightMetrics Metrics => _app.Services.GetRequiredService<FlightMetrics>();

    /// <summary>Completes when the start-up warm-up is over: what the serving code's warm-up did (nothing when off, cancelled or failed).</summary>
    internal Task<ServingWarmup.Result> ServingWarmed => _servingWarmed.Task;

    /// <summary>The host's configuration (for tests: which sources it reads and watches).</summary>
    internal IConfiguration HostConfiguration => _app.Configuration;

    /// <summary>Validates the options, opens the store and builds the host (not yet listening).</summary>
    /// <param name="options">Settings; see <see cref="LakehouseServerOptions"/>.</param>
    /// <param name="configureLogging">Logging setup; by default console logs on stderr at Information.</param>
    /// <param name="configureServices">Extra registrations (more price sources, a test's services).</param>
    public static Task<LakehouseServer> BuildAsync(LakehouseServerOptions options, Action<ILoggingBuilder>? configureLogging = null,
        Action<IServiceCollection>? configureServices = null)
    {
        options.Validate();
        // The host reads appsettings.json from the working folder, where `./data` (the default lake) usually is:
        // watching it for changes would put an inotify watch on every folder under it, recursively, before the host
        // listens, each counted against fs.inotify.max_user_watches (docs/decisions.md D28).
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [NoConfigReload] });
        builder.Logging.ClearProviders();
        if (configureLogging is not null)
        {
            configureLogging(builder.Logging);
        }
        else
        {
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
            builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
            builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        }

        var certificate = string.IsNullOrEmpty(options.CertificatePath) ? null : options.LoadCertificate();
        ListenOptions? httpListen = null;
        var host = options.Auth.Enabled ? options.Host : LoopbackFor(options.Host);
        var address = host is "*" or "0.0.0.0" ? IPAddress.Any : host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(host);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(address, options.FlightPort, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                listen.Use(ListenerPorts.TagFlight);
                if (certificate is not null)
                {
                    listen.UseHttps(certificate);
                }
            });
            if (options.HttpPort >= 0)
            {
                k.Listen(address, options.HttpPort, listen =>
                {
                    // HTTP/2 on this port needs TLS (ALPN): without a certificate Kestrel would serve HTTP/1.1 anyway
                    // and warn at every start that it does.
                    listen.Protocols = certificate is null ? HttpProtocols.Http1 : HttpProtocols.Http1AndHttp2;
                    if (certificate is not null)
                    {
                        listen.UseHttps(certificate);
                    }
                    httpListen = listen;
                });
            }
            k.Limits.Http2.MaxStreamsPerConnection = 256;
        });

        // A stop drains calls in progress for this long, then Kestrel aborts the connections still open.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(options.ShutdownTimeout));
        builder.Services
            .AddLakehouseStorage(o =>
            {
                o.DataDir = options.DataDir;
                o.CacheBytes = options.CacheBytes;
                o.UploadApplyChunkRows = options.UploadApplyChunkRows;
                o.PendingUploadBytes = options.PendingUploadBytes;
                o.Retention = options.Retention;
                o.Catalog = options.Catalog;
                // The temp-file sweep waits for the warm-up (or starts at once without one): see StartAsync.
                o.DeferTempSweep = true;
            })
            .AddLakehouseIngestion()
            .AddYahooSource(configure: options.Yahoo.CopyTo)
            .AddLakehouseServer(options);
        configureServices?.Invoke(builder.Services);

        var app = builder.Build();
        // The action table checks its handlers' names now, not at the first Flight call.
        _ = app.Services.GetRequiredService<Internal.Actions.FlightActions>();
        var ports = app.Services.GetRequiredService<ListenerPorts>();
        app.Use(next => context => ports.InvokeAsync(context, next));
        var guard = app.Services.GetRequiredService<FlightRequestGuard>();
        app.Use(next => context => guard.InvokeAsync(context, next));
        var store = app.Services.GetRequiredService<LakeStore>();
        app.Use(next => context => store.IsReady || !NeedsIndex(context.Request.Path) ? next(context) : WhenReadyAsync(store, context, next));
        if (options.FastDoGet)
        {
            // Runs before the endpoint: DoGet never reaches the stock Flight service.
            var fast = app.Services.GetRequiredService<FastDoGet>();
            app.Use(next => context => context.Request.Path == FastDoGet.Path ? fast.InvokeAsync(context) : next(context));
        }
        app.MapFlightEndpoint();
        app.MapLakehouseHttpApi();
        app.MapLakehouseArrowStream();
        app.MapOpenApi();
        // The store is opened above (a broken data dir fails start-up, not the first call); its index (the files'
        // symbol directories) loads in the background meanwhile (D25, D35).
        return Task.FromResult(new LakehouseServer(app, options, host, httpListen, certificate, address));
    }

    /// <summary>
    /// The ready gate for calls (D25): a call that needs the store's index waits for it asynchronously,
    /// without holding a thread. Health, the action list, the handshake and the OpenAPI document are answered
    /// at once; DoAction waits per action (health does not).
    /// </summary>
    private static async Task WhenReadyAsync(LakeStore store, Microsoft.AspNetCore.Http.HttpContext context, Microsoft.AspNetCore.Http.RequestDelegate next)
    {
        try
        {
            await store.WaitReadyAsync(context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception) when (store.Ready.IsFaulted)
        {
            // The call itself meets the error and maps it to a status.
        }
        await next(context).ConfigureAwait(false);
    }

    private static bool NeedsIndex(Microsoft.AspNetCore.Http.PathString path) =>
        !(path == "/health" || path.StartsWithSegments("/openapi")
          || path == "/arrow.flight.protocol.FlightService/DoAction"
          || path == "/arrow.flight.protocol.FlightService/ListActions"
          || path == "/arrow.flight.protocol.FlightService/Handshake");

    /// <summary>Starts listening; returns the Flight endpoint (the real port when 0 was asked for).</summary>
    public async Task<Uri> StartAsync(CancellationToken cancellationToken = default)
    {
        if (!Options.Auth.Enabled)
        {
            ServerLog.NoAuthLoopbackOnly(_logger, BindHost);
        }
        await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        var bound = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var port = new Uri(bound).Port;
        var ports = _app.Services.GetRequiredService<ListenerPorts>();
        ports.FlightPort = port;
        var scheme = string.IsNullOrEmpty(Options.CertificatePath) ? "grpc" : "grpc+tls";
        var shownHost = BindHost is "*" or "0.0.0.0" ? "0.0.0.0" : BindHost;
        FlightEndpoint = new Uri($"{scheme}://{shownHost}:{port}");
        ServerLog.Listening(_logger, FlightEndpoint.ToString().TrimEnd('/'), Options.DataDir);
        if (_httpListen is not null)
        {
            // Kestrel writes the bound endpoint back into the listen options (the real port when 0 was asked for).
            var httpPort = ((IPEndPoint)_httpListen.EndPoint).Port;
            ports.HttpPort = httpPort;
            HttpEndpoint = new Uri($"{(string.IsNullOrEmpty(Options.CertificatePath) ? "http" : "https")}://{shownHost}:{httpPort}");
            ServerLog.HttpListening(_logger, HttpEndpoint.ToString().TrimEnd('/'));
        }
        if (Options.WarmCache)
        {
            var stopping = _app.Lifetime.ApplicationStopping;
            _ = Task.Run(() => WarmAsync(stopping), stopping);
        }
        else
        {
            Store.AllowTempSweep();
            _servingWarmed.TrySetResult(default);
        }
        return FlightEndpoint;
    }

    private async Task WarmAsync(CancellationToken stopping)
    {
        var startup = _app.Services.GetRequiredService<StartupState>();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var warmed = false;
        try
        {
            // The warm-up reads the index: it starts once the index is loaded.
            await Store.Ready.WaitAsync(stopping).ConfigureAwait(false);
            sw.Restart();
            // Every table with one row per key; bronze stays on disk until read. Within Lakehouse:WarmCacheTime.
            using var budget = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            budget.CancelAfter(Options.WarmCacheTime);
            var before = Store.CachedRows;
            try
            {
                foreach (var t in Store.Catalog.Tables.Where(t => !t.PerSource))
                {
                    Store.Warm(t, budget.Token);
                }
            }
            catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
            {
                // Out of time: what is loaded stays; the rest loads on first read.
            }
            ServerLog.Warmed(_logger, Store.CachedRows - before, sw.ElapsedMilliseconds);
            warmed = true;
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            // A damaged file is reported when a query reads it; warming is only an optimisation.
            ServerLog.Failed(_logger, ex, "cache warm-up");
        }
        finally
        {
            startup.CacheDone();
            Store.AllowTempSweep();
        }
        var result = default(ServingWarmup.Result);
        try
        {
            if (warmed && Options.WarmServing)
            {
                // Then the code the cached rows are served with (decisions D30).
                sw.Restart();
                var loopback = new ServingWarmup.Loopback(
                    new Uri($"{(_certificate is null ? "http" : "https")}://{LoopbackAddress}:{FlightEndpoint!.Port}"), _certificate);
                result = await _app.Services.GetRequiredService<ServingWarmup>().RunAsync(loopback, stopping).ConfigureAwait(false);
                ServerLog.ServingWarmed(_logger, result.Calls, result.LoopbackCalls, result.Methods, result.Bytes, sw.ElapsedMilliseconds, (long)result.Cpu.TotalMilliseconds);
            }
        }
        catch (Exception) when (stopping.IsCancellationRequested)
        {
            // A stop cut it short (its calls may fail rather than see the cancellation first).
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException or LakehouseException
            or HttpRequestException or OperationCanceledException)
        {
            // A read the warm-up makes fails as a client's would (the client will be told), or its own port could
            // not be reached or did not answer in time: the server goes on, only less warm.
            ServerLog.Failed(_logger, ex, "serving warm-up");
        }
        finally
        {
            startup.CodeDone();
            _servingWarmed.TrySetResult(result);
            // Copies missing at start are written from the entries just warmed.
            _app.Services.GetRequiredService<CompactionService>().Trigger();
        }
    }

    /// <summary>Where this process reaches its own Flight port: the bound address, loopback when bound to all.</summary>
    private string LoopbackAddress => _address.Equals(IPAddress.Any) ? "127.0.0.1"
        : _address.Equals(IPAddress.IPv6Any) ? "[::1]"
        : _address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{_address}]" : _address.ToString();

    /// <summary>
    /// Stops listening at once (new calls are refused), lets calls in progress finish for
    /// <see cref="LakehouseServerOptions.ShutdownTimeout"/> seconds, then cuts the streams still open.
    /// </summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    /// <summary>Completes when the host shuts down.</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) =>
        Microsoft.Extensions.Hosting.HostingAbstractionsHostExtensions.WaitForShutdownAsync(_app, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private static string LoopbackFor(string host) =>
        IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip) ? host : "127.0.0.1";
}
