using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Wire;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Server.Internal.Actions;

/// <summary><c>manifest</c>: the latest manifest lines of a table.</summary>
internal sealed class ManifestAction(LakeStore store) : IFlightAction
{
    public const int DefaultLimit = 50;

    public string Name => "manifest";

    public string Description =>
        "Recent manifest lines. Body: {\"layer\":\"silver\",\"table\":\"prices_daily\",\"limit\":50}. Result: JSON array of StorageReports, oldest first.";

    public bool RequiresWriter => false;

    public bool WaitsForIndex => true;

    public Task RunAsync(ActionCall call)
    {
        var m = call.Body.Length == 0 ? new Protocol.ManifestRequest() : QueryCodec.Parse(call.Body, Protocol.ManifestRequest.Parser, "manifest body");
        var q = TableQuery.Create(m.Layer, m.Table);
        var table = store.Catalog.Get(q.Layer, q.Table);
        return call.WriteAsync(store.ReadManifest(table, m.Limit > 0 ? m.Limit : DefaultLimit), WireJson.Default.IReadOnlyListStorageReport);
    }
}
