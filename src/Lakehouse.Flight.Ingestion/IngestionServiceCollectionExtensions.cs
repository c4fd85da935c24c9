using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Lakehouse.Flight.Ingestion;

public static class IngestionServiceCollectionExtensions
{
    /// <summary>The ingestion runner and the synthetic source; other sources register themselves as <see cref="IPriceSource"/>.</summary>
    public static IServiceCollection AddLakehouseIngestion(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPriceSource, SyntheticPriceSource>());
        services.TryAddSingleton<IngestionRunner>();
        return services;
    }
}
