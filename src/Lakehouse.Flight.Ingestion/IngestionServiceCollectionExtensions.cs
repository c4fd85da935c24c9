using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Lakehouse.Flight.Ingestion;

public static class IngestionServiceCollectionExtensions
{
    /// <summary>
    /// The ingestion runner, the lake writer (commit, then gold), the promoter, the gold builder and the legacy migration, with the sources that need no settings (synthetic, CSV files); Yahoo registers
    /// itself with <c>AddYahooSource</c>. Every <see cref="IPriceSource"/> registered is offered by name.
    /// </summary>
    public static IServiceCollection AddLakehouseIngestion(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPriceSource, SyntheticPriceSource>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPriceSource, Csv.CsvPriceSource>(sp => new Csv.CsvPriceSource(sp.GetService<TimeProvider>())));
        services.TryAddSingleton<IngestionRunner>();
        services.TryAddSingleton<Gold.GoldBuilder>();
        services.TryAddSingleton<LakeWriter>();
        services.TryAddSingleton<BronzePromoter>();
        services.TryAddSingleton<Legacy.LegacyMigration>();
        return services;
    }
}
