using System.CommandLine;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Server;

namespace Lakehouse.Flight.Cli;

/// <summary>
/// <c>lakehouse serve</c>: the Flight server until Ctrl+C or SIGTERM. Settings come from
/// <c>Lakehouse:*</c> configuration (appsettings.json in the working folder, then <c>Lakehouse__X</c>
/// environment variables), and the command line wins.
/// </summary>
internal static class ServeCommand
{
    /// <summary>The <c>--demo</c> universe: enough symbols and years that the first query returns data.</summary>
    internal static readonly string[] DemoSymbols =
    [
        "AAPL", "MSFT", "GOOGL", "AMZN", "META", "NVDA", "TSLA", "JPM", "V", "JNJ", "WMT", "PG", "XOM", "MA", "HD", "CVX",
        "KO", "PEP", "BAC", "PFE", "ABBV", "COST", "DIS", "CSCO", "ADBE", "NFLX", "INTC", "ORCL", "^GSPC", "EURUSD=X",
    ];

    public static CliCommand Create(CliIo io)
    {
        var dataDir = CommonOptions.DataDir();
        var host = new Option<string?>("--host") { Description = "Address to listen on (default 127.0.0.1; 0.0.0.0 for all)", HelpName = "HOST" };
        var flightPort = new Option<int?>("--flight-port") { Description = "Arrow Flight (gRPC) port; 0 picks a free one (default 8815)", HelpName = "PORT" };
        var httpPort = new Option<int?>("--http-port") { Description = "HTTP API port; 0 picks a free one (default 8080)", HelpName = "PORT" };
        var tlsCert = new Option<string?>("--tls-cert") { Description = "PEM or PFX certificate: serve grpc+tls and https", HelpName = "FILE" };
        var tlsKey = new Option<string?>("--tls-key") { Description = "PEM private key of --tls-cert", HelpName = "FILE" };
        var demo = new Option<bool>("--demo") { Description = "Fill an empty lake with a synthetic universe first" };
        var command = new Command("serve", "Run the Flight server and the HTTP API until Ctrl+C or SIGTERM.")
        {
            dataDir, host, flightPort, httpPort, tlsCert, tlsKey, demo,
        };
        command.SetAction((parse, ct) => RunAsync(io, new Settings(parse.GetValue(dataDir) is null ? null : CommonOptions.DataDirOf(parse, dataDir),
            CommonOptions.DataDirOf(parse, dataDir), parse.GetValue(host), parse.GetValue(flightPort), parse.GetValue(httpPort),
            parse.GetValue(tlsCert), parse.GetValue(tlsKey), parse.GetValue(demo)), ct));
        return new CliCommand(command,
            "lakehouse serve --demo --data-dir /tmp/lake",
            "lakehouse serve --host 0.0.0.0 --flight-port 8815 --http-port 8080 --tls-cert cert.pem --tls-key key.pem");
    }

    private sealed record Settings(string? DataDirGiven, string DataDir, string? Host, int? FlightPort, int? HttpPort, string? TlsCert, string? TlsKey, bool Demo);

    private static async Task<int> RunAsync(CliIo io, Settings s, CancellationToken cancellationToken)
    {
        var configuration = CliServices.Configuration();
        var options = LakehouseServerOptions.FromConfiguration(configuration);
        if (s.DataDirGiven is not null || string.IsNullOrEmpty(configuration["Lakehouse:DataDir"]))
        {
            options.DataDir = s.DataDir;
        }
        options.FlightPort = s.FlightPort ?? options.FlightPort;
        options.Host = s.Host ?? options.Host;
        options.CertificatePath = s.TlsCert ?? options.CertificatePath;
        options.CertificateKeyPath = s.TlsKey ?? options.CertificateKeyPath;
        options.HttpPort = s.HttpPort ?? options.HttpPort;
        var demo = s.Demo;

        if (demo)
        {
            await FillDemoAsync(options.DataDir, io, cancellationToken).ConfigureAwait(false);
        }
        var server = await LakehouseServer.BuildAsync(options).ConfigureAwait(false);
        await using var serverDisposal = server.ConfigureAwait(false);
        var endpoint = await server.StartAsync(cancellationToken).ConfigureAwait(false);
        await io.Out.WriteLineAsync($"Flight listening on {endpoint.Scheme}://{endpoint.Host}:{endpoint.Port}").ConfigureAwait(false);
        if (server.HttpEndpoint is { } http)
        {
            await io.Out.WriteLineAsync($"HTTP listening on {http.Scheme}://{http.Host}:{http.Port}").ConfigureAwait(false);
        }
        await io.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // The host stops on SIGTERM itself; Ctrl+C arrives through the token.
            await server.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        await server.StopAsync(CancellationToken.None).ConfigureAwait(false);
        return 0;
    }

    /// <summary>Fills an empty lake with a synthetic universe; a lake that has data is left alone.</summary>
    private static async Task FillDemoAsync(string dataDir, CliIo io, CancellationToken cancellationToken)
    {
        using var services = CliServices.Open(dataDir);
        if (services.Store.SymbolCount(Core.Tables.PriceTables.Silver) > 0)
        {
            await io.Err.WriteLineAsync("--demo: the data dir already has data; leaving it as it is").ConfigureAwait(false);
            return;
        }
        var to = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-1);
        var from = new DateOnly(to.Year - 3, 1, 1);
        await io.Err.WriteLineAsync($"--demo: writing {DemoSymbols.Length} synthetic symbols from {from:yyyy-MM-dd} to {to:yyyy-MM-dd} into {dataDir}")
            .ConfigureAwait(false);
        await services.Runner.RunAsync(new IngestRequest(SyntheticBars.Name, Symbols.NormalizeAll(DemoSymbols), from, to),
            cancellationToken: cancellationToken).ConfigureAwait(false);
    }
}
