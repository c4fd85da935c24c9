using Lakehouse.Flight.Core.Wire;

namespace Lakehouse.Flight.Ingestion.Flow;

/// <summary>
/// A step the daily flow runs after ingestion, in registration order (the gold rebuild and reports).
/// Register one with <see cref="FlowServiceCollectionExtensions.AddFlowStep(Microsoft.Extensions.DependencyInjection.IServiceCollection, string, Func{IServiceProvider, FlowStepContext, CancellationToken, Task{FlowStepResult}})"/>.
/// </summary>
public interface IFlowStep
{
    /// <summary>The step's name in <c>_metadata/flows/daily.jsonl</c> (e.g. <c>gold</c>).</summary>
    string Name { get; }

    /// <summary>Runs the step for the symbols ingestion committed; a symbol's failure goes in the result, not in an exception.</summary>
    Task<FlowStepResult> RunAsync(FlowStepContext context, CancellationToken cancellationToken = default);
}

/// <summary>What a step works on.</summary>
/// <param name="Date">The flow's date (the trading day refreshed).</param>
/// <param name="Symbols">Symbols ingestion committed for this run (failed ones left out).</param>
/// <param name="From">First date fetched (the date minus the lookback).</param>
public sealed record FlowStepContext(DateOnly Date, IReadOnlyList<string> Symbols, DateOnly From);

/// <summary>What a step did: rows written and symbols that failed.</summary>
public sealed record FlowStepResult(long Rows, IReadOnlyList<FailedSymbol>? Failures = null)
{
    public static readonly FlowStepResult Empty = new(0);
}

internal sealed class DelegateFlowStep(string name, IServiceProvider services, Func<IServiceProvider, FlowStepContext, CancellationToken, Task<FlowStepResult>> run)
    : IFlowStep
{
    public string Name => name;

    public Task<FlowStepResult> RunAsync(FlowStepContext context, CancellationToken cancellationToken = default) => run(services, context, cancellationToken);
}
