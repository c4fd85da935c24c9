using Lakehouse.Flight.Core.Wire;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Server.Internal.Actions;

/// <summary>
/// <c>health</c>: answered at once, also during start-up. Every Flight call is authenticated (the interceptor),
/// so the lake's figures go with it.
/// </summary>
internal sealed class HealthAction(LakeStore store, StartupState startup, TokenService tokens) : IFlightAction
{
    public string Name => "health";

    public string Description =>
        "Liveness, readiness and the data dir; answered at once, also during start-up. No body. Result: JSON object with status \"ok\" and state \"ok\", or \"warming\" with \"loading\" (index, cache, code, gold) while the store's index loads, the cache and the serving code warm up and gold owed by recovered commits is rebuilt.";

    public bool RequiresWriter => false;

    public bool WaitsForIndex => false;

    public Task RunAsync(ActionCall call)
    {
        var health = startup.DescribeLake(startup.Describe()) with
        {
            DataDir = store.Paths.DisplayRoot,
            Auth = tokens.Enabled,
            UploadsPending = store.PendingUploads,
            UploadsBufferedBytes = store.PendingUploadBytes,
        };
        return call.WriteAsync(health, WireJson.Default.HealthReport);
    }
}
