using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Wire;
using Lakehouse.Flight.Ingestion.Gold;

namespace Lakehouse.Flight.Server.Internal.Actions;

/// <summary><c>build-gold</c>: the gold tables and reports rebuilt from silver, with progress per commit.</summary>
internal sealed class BuildGoldAction(GoldBuilder gold) : IFlightAction
{
    public string Name => "build-gold";

    public string Description =>
        $$"""Rebuild the gold tables (prices_monthly, daily_metrics) and gold/reports/{SYMBOL}_daily_report.csv from silver (writer). Body: {"symbols":["AAPL"]} (empty or no body = every silver symbol). Rows and reports whose content did not change are left as they are. Streams {"progress":...} results, one per commit of up to {{GoldBuilder.ChunkSymbols}} symbols; the last result is the JSON array of StorageReports (gold layer; unchanged rows counted as unchanged).""";

    public bool RequiresWriter => true;

    public bool WaitsForIndex => true;

    public async Task RunAsync(ActionCall call)
    {
        var r = call.Body.Length == 0 ? new Protocol.BuildGoldRequest() : QueryCodec.Parse(call.Body, Protocol.BuildGoldRequest.Parser, "build-gold body");
        var symbols = Symbols.NormalizeAll(r.Symbols);
        var result = await call.RunWithProgressAsync<GoldProgress, GoldBuildResult>(
            (progress, ct) => gold.BuildAsync(symbols, progress, cancellationToken: ct),
            p => new ActionProgress { Action = Name, SymbolsDone = p.SymbolsDone, SymbolsTotal = p.SymbolsTotal }).ConfigureAwait(false);
        await call.WriteAsync(result.Reports, WireJson.Default.IReadOnlyListStorageReport).ConfigureAwait(false);
    }
}
