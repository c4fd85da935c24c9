using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Ingestion.Flow;
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

    public LakeStore Store => _provider.GetRequiredService<LakeStore>();

    public IngestionRunner Runner => _provider.GetRequiredService<IngestionRunner>();

    public Ingestion.Gold.GoldBuilder Gold => _provider.GetRequiredService<Ingestion.Gold.GoldBuilder>();

    public Ingestion.Legacy.LegacyMigration Migration => _provider.GetRequiredService<Ingestion.Legacy.LegacyMigration>();

    /// <summary>
    /// Rebuilds the gold owed by commits a crashed writer left and a recovery rolled forward (the server does
    /// the same at start); a failure is a warning line, and the records stay for the next process.
    /// </summary>
    public static async Task FinishRecoveredGoldAsync(Ingestion.Gold.GoldBuilder gold, CliIo io, CancellationToken cancellationToken)
    {
        try
        {
            await gold.FinishRecoveredAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Core.LakehouseException ex)
        {
            await io.Err.WriteLineAsync($"warning: gold owed by a commit recovered after a crash was not rebuilt ({ex.Message}); the next run or server start retries").ConfigureAwait(false);
        }
    }

    /// <summary>Steps the daily flow runs after ingestion: the built-in gold rebuild (<c>AddDailyFlow</c>).</summary>
    public IEnumerable<Ingestion.Flow.IFlowStep> FlowSteps => _provider.GetServices<Ingestion.Flow.IFlowStep>();

    public static IConfiguration Configuration() => new ConfigurationBuilder()
        .AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: true)
        .AddEnvironmentVariables()
        .Build();

    /// <param name="dataDir">The lake's folder.</param>
    /// <param name="configuration">Settings (appsettings.json, then environment); <see cref="Configuration"/> when null.</param>
    /// <param name="store">Store settings a command changes on top of the data dir (a migration's small read cache).</param>
    public static CliServices Open(string dataDir, IConfiguration? configuration = null, Action<StoreOptions>? store = null)
    {
        configuration ??= Configuration();
        var services = new ServiceCollection()
            .AddLakehouseStorage(o =>
            {
                o.DataDir = dataDir;
                store?.Invoke(o);
            })
            .AddLakehouseIngestion()
            .AddDailyFlow(new DailyFlowOptions())
            .AddYahooSource(configuration.GetSection(YahooOptions.SectionName));
        return new CliServices(services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true }));
    }

    public void Dispose() => _provider.Dispose();
}
