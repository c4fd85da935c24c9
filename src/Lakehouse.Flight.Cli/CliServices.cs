using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Ingestion.Yahoo;
using Lakehouse.Flight.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Lakehouse.Flight.Cli;

/// <summary>
/// The store and the ingestion runner for commands that work on the data dir directly, wired as the
/// server wires them and from the same settings (appsettings.json in the working folder, then
/// <c>Lakehouse__X</c> environment variables).
/// </summary>
internal sealed class CliServices : IDisposable
{
    private readonly ServiceProvider _provider;

    private CliServices(ServiceProvider provider) => _provider = provider;

    public PriceStore Store => _provider.GetRequiredService<PriceStore>();

    public IngestionRunner Runner => _provider.GetRequiredService<IngestionRunner>();

    public static IConfiguration Configuration() => new ConfigurationBuilder()
        .AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: true)
        .AddEnvironmentVariables()
        .Build();

    public static CliServices Open(string dataDir, IConfiguration? configuration = null)
    {
        configuration ??= Configuration();
        var services = new ServiceCollection()
            .AddLakehouseStorage(o => o.DataDir = dataDir)
            .AddLakehouseIngestion()
            .AddYahooSource(configuration.GetSection(YahooOptions.SectionName));
        return new CliServices(services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true }));
    }

    public void Dispose() => _provider.Dispose();
}
