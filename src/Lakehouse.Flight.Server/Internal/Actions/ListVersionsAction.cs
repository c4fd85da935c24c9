using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Wire;
using Lakehouse.Flight.Server.Internal.Versions;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Server.Internal.Actions;

/// <summary><c>list-versions</c>: the versions that changed a table, newest first.</summary>
internal sealed class ListVersionsAction(LakeStore store) : IFlightAction
{
    public string Name => "list-versions";

    public string Description =>
        "The versions that changed a table, newest first. Body: {\"layer\":\"silver\",\"table\":\"prices_daily\",\"symbol\":\"AAPL\"," +
        "\"from\":\"2026-11-01T00:00:00Z\",\"to\":\"2026-12-01T00:00:00Z\",\"limit\":100} (all optional). Result: JSON array of " +
        "{version, ts, operation, run_id, sources, inserted, updated, unchanged, rejected, files_added, files_removed, symbols, readable}.";

    public bool RequiresWriter => false;

    public bool WaitsForIndex => true;

    public Task RunAsync(ActionCall call)
    {
        var m = call.Body.Length == 0 ? new Protocol.ListVersionsRequest() : QueryCodec.Parse(call.Body, Protocol.ListVersionsRequest.Parser, "list-versions body");
        var versions = VersionRequests.List(store, m.Layer, m.Table, m.Symbol, m.From, m.To, m.Limit, call.CancellationToken);
        return call.WriteAsync(versions, WireJson.Default.IReadOnlyListTableVersionInfo);
    }
}
