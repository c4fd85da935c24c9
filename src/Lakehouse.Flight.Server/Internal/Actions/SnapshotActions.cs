using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Wire;
using Lakehouse.Flight.Server.Internal.Versions;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Server.Internal.Actions;

/// <summary><c>create-snapshot</c>: names the current (or a given) version of every table, or of chosen ones; vacuum keeps its files.</summary>
internal sealed class CreateSnapshotAction(LakeStore store) : IFlightAction
{
    public string Name => "create-snapshot";

    public string Description =>
        "Creates a named snapshot. Body: {\"name\":\"backtest-2026-11\",\"tables\":[\"silver/prices_daily\"],\"version\":42} (tables: default " +
        "every table; version: default the latest). Read it with \"snapshot\":\"backtest-2026-11\" in a ticket. Result: {name, created, version, tables}.";

    public bool RequiresWriter => true;

    public bool WaitsForIndex => true;

    public async Task RunAsync(ActionCall call)
    {
        var m = call.Body.Length == 0 ? new Protocol.CreateSnapshotRequest() : QueryCodec.Parse(call.Body, Protocol.CreateSnapshotRequest.Parser, "create-snapshot body");
        if (string.IsNullOrWhiteSpace(m.Name))
        {
            throw LakehouseException.Invalid("name is required: {\"name\":\"backtest-2026-11\"}");
        }
        var tables = VersionRequests.Tables(store, m.Tables, "tables");
        var info = await store.CreateSnapshotAsync(m.Name.Trim(), tables, m.HasVersion ? m.Version : null, call.CancellationToken).ConfigureAwait(false);
        await call.WriteAsync(info, WireJson.Default.SnapshotInfo).ConfigureAwait(false);
    }
}

/// <summary><c>list-snapshots</c>: every named snapshot.</summary>
internal sealed class ListSnapshotsAction(LakeStore store) : IFlightAction
{
    public string Name => "list-snapshots";

    public string Description => "The named snapshots, by name. No body. Result: JSON array of {name, created, version, tables}.";

    public bool RequiresWriter => false;

    public bool WaitsForIndex => true;

    public Task RunAsync(ActionCall call) => call.WriteAsync(store.ListSnapshots(), WireJson.Default.IReadOnlyListSnapshotInfo);
}

/// <summary><c>delete-snapshot</c>: forgets a snapshot; its versions fall under the retention period again.</summary>
internal sealed class DeleteSnapshotAction(LakeStore store) : IFlightAction
{
    public string Name => "delete-snapshot";

    public string Description => "Deletes a named snapshot. Body: {\"name\":\"backtest-2026-11\"}. Result: {\"deleted\":name}; NotFound when there is none.";

    public bool RequiresWriter => true;

    public bool WaitsForIndex => true;

    public async Task RunAsync(ActionCall call)
    {
        var m = call.Body.Length == 0 ? new Protocol.SnapshotRequest() : QueryCodec.Parse(call.Body, Protocol.SnapshotRequest.Parser, "delete-snapshot body");
        if (string.IsNullOrWhiteSpace(m.Name))
        {
            throw LakehouseException.Invalid("name is required: {\"name\":\"backtest-2026-11\"}");
        }
        await store.DeleteSnapshotAsync(m.Name.Trim(), call.CancellationToken).ConfigureAwait(false);
        await call.WriteAsync(new SnapshotDeleted(m.Name.Trim()), WireJson.Default.SnapshotDeleted).ConfigureAwait(false);
    }
}

/// <summary><c>vacuum</c>: deletes superseded files past their retention that no snapshot pins, now.</summary>
internal sealed class VacuumAction(LakeStore store) : IFlightAction
{
    public string Name => "vacuum";

    public string Description =>
        "Deletes superseded data files past the retention period (Lakehouse:Retention, or {\"retention_hours\":24}) that no snapshot pins. " +
        "Result: {files, bytes, version, pinned}.";

    public bool RequiresWriter => true;

    public bool WaitsForIndex => true;

    public async Task RunAsync(ActionCall call)
    {
        var m = call.Body.Length == 0 ? new Protocol.VacuumRequest() : QueryCodec.Parse(call.Body, Protocol.VacuumRequest.Parser, "vacuum body");
        var retention = VersionRequests.Retention(m.HasRetentionHours ? m.RetentionHours : null, "retention_hours");
        var result = await store.VacuumAsync(retention, call.CancellationToken).ConfigureAwait(false);
        await call.WriteAsync(VersionRequests.Report(result), WireJson.Default.VacuumReport).ConfigureAwait(false);
    }
}
