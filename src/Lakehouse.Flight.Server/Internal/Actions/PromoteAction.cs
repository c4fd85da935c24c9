using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Wire;
using Lakehouse.Flight.Ingestion;

namespace Lakehouse.Flight.Server.Internal.Actions;

/// <summary><c>promote</c>: silver re-derived from bronze.</summary>
internal sealed class PromoteAction(BronzePromoter promoter) : IFlightAction
{
    public string Name => "promote";

    public string Description =>
        "Re-derive silver from bronze: per (symbol, date) the row landed last wins (writer). Body: {\"source\":\"vendor_x\",\"symbols\":[],\"date_from\":\"\",\"date_to\":\"\"}. Result: JSON array of StorageReports.";

    public bool RequiresWriter => true;

    public bool WaitsForIndex => true;

    public async Task RunAsync(ActionCall call)
    {
        var p = call.Body.Length == 0 ? new Protocol.PromoteRequest() : QueryCodec.Parse(call.Body, Protocol.PromoteRequest.Parser, "promote body");
        var from = TableQuery.ParseDate(p.DateFrom, "date_from");
        var to = TableQuery.ParseDate(p.DateTo, "date_to");
        LakeDates.CheckRange(from, to);
        var reports = await promoter.PromoteAsync(p.Source, Symbols.NormalizeAll(p.Symbols), from, to,
            cancellationToken: call.CancellationToken).ConfigureAwait(false);
        await call.WriteAsync(reports, WireJson.Default.IReadOnlyListStorageReport).ConfigureAwait(false);
    }
}
