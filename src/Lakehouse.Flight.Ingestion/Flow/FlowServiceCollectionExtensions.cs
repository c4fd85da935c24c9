using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Lakehouse.Flight.Ingestion.Flow;

public static class FlowServiceCollectionExtensions
{
    /// <summary>The daily flow with these settings (needs <c>AddLakehouseIngestion</c>), with its built-in <c>gold</c> step; more steps come from <see cref="AddFlowStep(IServiceCollection, string, Func{IServiceProvider, FlowStepContext, CancellationToken, Task{FlowStepResult}})"/>.</summary>
    public static IServiceCollection AddDailyFlow(this IServiceCollection services, DailyFlowOptions options)
    {
        services.TryAddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<DailyFlow>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IFlowStep, GoldFlowStep>());
        return services;
    }

    /// <summary>
    /// Adds a step run after ingestion (in registration order); a step named <c>gold</c> replaces the built-in gold rebuild:
    /// <code>services.AddFlowStep("gold", (sp, step, ct) => sp.GetRequiredService&lt;GoldBuilder&gt;().BuildForFlowAsync(step.Symbols, ct));</code>
    /// </summary>
    public static IServiceCollection AddFlowStep(this IServiceCollection services, string name,
        Func<IServiceProvider, FlowStepContext, CancellationToken, Task<FlowStepResult>> run)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(run);
        services.AddSingleton<IFlowStep>(sp => new DelegateFlowStep(name, sp, run));
        return services;
    }

    /// <summary>A step that reports no rows: for a callback over the committed symbols that returns nothing to count.</summary>
    public static IServiceCollection AddFlowStep(this IServiceCollection services, string name,
        Func<IServiceProvider, IReadOnlyList<string>, CancellationToken, Task> run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return services.AddFlowStep(name, async (sp, step, ct) =>
        {
            await run(sp, step.Symbols, ct).ConfigureAwait(false);
            return FlowStepResult.Empty;
        });
    }
}
