using Lakehouse.Flight.Ingestion.Flow;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Lakehouse.Flight.Server.Jobs;

internal static class JobsServiceCollectionExtensions
{
    /// <summary>
    /// The job service and the daily-flow scheduler as hosted services (the job service first, so records a
    /// dead server left are closed out before anything is scheduled), on <see cref="TimeProvider.System"/>
    /// unless a TimeProvider is registered (tests register a fake one).
    /// </summary>
    public static IServiceCollection AddLakehouseJobs(this IServiceCollection services, LakehouseServerOptions options)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddDailyFlow(options.Flow);
        services.AddSingleton(options.Jobs);
        services.AddSingleton<JobFiles>();
        services.AddSingleton<JobService>();
        services.AddHostedService(sp => sp.GetRequiredService<JobService>());
        services.AddSingleton<UploadApplier>();
        services.AddHostedService(sp => sp.GetRequiredService<UploadApplier>());
        services.AddSingleton<RecoveredGold>();
        services.AddHostedService(sp => sp.GetRequiredService<RecoveredGold>());
        services.AddSingleton<DailyFlowScheduler>();
        services.AddHostedService(sp => sp.GetRequiredService<DailyFlowScheduler>());
        return services;
    }
}
