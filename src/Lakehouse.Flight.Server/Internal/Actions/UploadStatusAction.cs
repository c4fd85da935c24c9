using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Wire;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Server.Internal.Actions;

/// <summary><c>upload-status</c>: where an upload acknowledged before it was applied stands.</summary>
internal sealed class UploadStatusAction(LakeStore store) : IFlightAction
{
    public string Name => "upload-status";

    public string Description =>
        "Where an upload acknowledged with {\"wait\":false} stands (reader). Body: {\"run_id\":\"...\",\"wait\":true} (wait blocks until it is applied). Result: {\"run_id\",\"state\":\"pending|applying|applied|failed\",\"rows\",\"error\",\"reports\":[StorageReports committed so far]}.";

    public bool RequiresWriter => false;

    public bool WaitsForIndex => true;

    public async Task RunAsync(ActionCall call)
    {
        var u = call.Body.Length == 0
            ? throw LakehouseException.Invalid("upload-status needs a body such as {\"run_id\":\"20261201T101500123-1a2b3c4d\",\"wait\":true}")
            : QueryCodec.Parse(call.Body, Protocol.UploadStatusRequest.Parser, "upload-status body");
        if (string.IsNullOrWhiteSpace(u.RunId))
        {
            throw LakehouseException.Invalid("upload-status needs the run_id the DoPut acknowledgement named");
        }
        var runId = u.RunId.Trim();
        var status = u.Wait
            ? await store.WaitForUploadAsync(runId, call.CancellationToken).ConfigureAwait(false)
            : store.UploadStatusOf(runId) ?? throw new LakehouseException(LakehouseErrorKind.NotFound, $"no upload with run id '{runId}' in this lake");
        await call.WriteAsync(new UploadStatusResult(status.RunId, status.State, status.Rows, status.Error, status.Reports), WireJson.Default.UploadStatusResult)
            .ConfigureAwait(false);
    }
}
