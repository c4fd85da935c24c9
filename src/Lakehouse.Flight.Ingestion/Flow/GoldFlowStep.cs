using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Ingestion.Gold;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Ingestion.Flow;

/// <summary>
/// The daily flow's built-in <c>gold</c> step: rebuilds gold tables and reports for the symbols the
/// ingestion committed and silver holds. The runner already refreshed gold for symbols whose silver
/// changed; this pass also repairs a symbol whose earlier gold rebuild failed, and costs one unchanged
/// rebuild (tens of ms) per symbol otherwise. A step registered with <c>AddFlowStep("gold", ...)</c>
/// replaces it.
/// </summary>
internal sealed class GoldFlowStep(LakeStore store, GoldBuilder gold) : IFlowStep
{
    public const string StepName = "gold";

    public string Name => StepName;

    public async Task<FlowStepResult> RunAsync(FlowStepContext context, CancellationToken cancellationToken = default)
    {
        if (context.Symbols.Count == 0)
        {
            return FlowStepResult.Empty;
        }
        // A watchlist symbol with no silver rows yet (a new listing on a holiday) has nothing to build.
        var query = TableQuery.Create(Layers.Name(Layer.Silver), PriceTables.PricesDaily, context.Symbols);
        var held = store.Plan(query, cancellationToken).Select(p => p.Symbol).Distinct(StringComparer.Ordinal).ToArray();
        if (held.Length == 0)
        {
            return FlowStepResult.Empty;
        }
        var result = await gold.BuildAsync(held, cancellationToken: cancellationToken).ConfigureAwait(false);
        return new FlowStepResult(result.Reports.Sum(r => r.Inserted + r.Updated));
    }
}
