using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lakehouse.Flight.Storage;

public static class StorageServiceCollectionExtensions
{
    /// <summary>
    /// The store of one data dir as a singleton (opened, and so recovered, on first use), with its
    /// options validated when the host starts.
    /// </summary>
    public static IServiceCollection AddLakehouseStorage(this IServiceCollection services, Action<StoreOptions> configure)
    {
        services.AddOptions<StoreOptions>()
            .Configure(configure)
            .Validate(o => !string.IsNullOrWhiteSpace(o.DataDir), "Lakehouse:DataDir is empty: give the lake's folder")
            .Validate(o => o.CacheBytes >= 0, "Lakehouse:CacheBytes must be >= 0 (0 turns the cache off)")
            .Validate(o => o.LockTimeout > TimeSpan.Zero, "the writer lock timeout must be positive")
            .Validate(o => o.TargetBatchRows > 0, "the read batch size must be > 0")
            .ValidateOnStart();
        services.AddSingleton(sp => LakeStore.Open(sp.GetRequiredService<IOptions<StoreOptions>>().Value,
            sp.GetService<ILoggerFactory>()?.CreateLogger("Lakehouse.Flight.Storage")));
        return services;
    }
}
