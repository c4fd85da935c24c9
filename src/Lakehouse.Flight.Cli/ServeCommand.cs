using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Server;
using Microsoft.Extensions.Configuration;

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

    public static async Task<int> RunAsync(CliArgs args, CliIo io, CancellationToken cancellationToken)
    {
        var configuration = CliServices.Configuration();
        var options = LakehouseServerOptions.FromConfiguration(configuration);
        if (args.Get("data-dir") is not null || string.IsNullOrEmpty(configuration["Lakehouse:DataDir"]))
        {
            options.DataDir = args.DataDir();
        }
        options.FlightPort = args.GetInt("flight-port", options.FlightPort);
        options.Host = args.Get("host") ?? options.Host;
        options.CertificatePath = args.Get("tls-cert") ?? options.CertificatePath;
        options.CertificateKeyPath = args.Get("tls-key") ?? options.CertificateKeyPath;
        options.HttpPort = args.GetInt("http-port", options.HttpPort);
        var demo = args.Has("demo");
        args.EnsureAllUsed();

        if (demo)
        {
            await FillDemoAsync(options.DataDir, io, cancellationToken).ConfigureAwait(false);
        }
        await using var server = await LakehouseServer.BuildAsync(options).ConfigureAwait(false);
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
        await services.Runner.RunAsync(new IngestRequest(SyntheticSource.Name, Symbols.NormalizeAll(DemoSymbols), from, to),
            cancellationToken: cancellationToken).ConfigureAwait(false);
    }
}
