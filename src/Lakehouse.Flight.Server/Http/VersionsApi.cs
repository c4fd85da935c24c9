using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Wire;
using Lakehouse.Flight.Server.Internal.Versions;
using Lakehouse.Flight.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lakehouse.Flight.Server.Http;

/// <summary>
/// Versions, snapshots and vacuum over HTTP (docs/decisions.md D38), and the as-of parameters the read endpoints
/// take (<c>version=</c>, <c>as_of=</c>, <c>snapshot=</c>). Readers may list; writers create, delete and vacuum.
/// </summary>
internal static class VersionsApi
{
    /// <summary>The as-of parameters of <c>/prices/daily</c> and <c>/prices/arrow</c>.</summary>
    public static readonly HttpParameter[] AsOfParameters =
    [
        new("version", "Read the table as of this lake version (a number from GET /tables/{layer}/{table}/versions)"),
        new("as_of", "Read the table as it was at this ISO-8601 instant (2026-11-30T22:00:00Z or with an offset): the last version committed at or before it"),
        new("snapshot", "Read the version a named snapshot pins"),
        new("diff_from_version", "Instead of rows, what changed from this lake version to the one read: change (added, removed, changed), the key, old_ and new_ of each column"),
    ];

    /// <summary>The query with the as-of (at most one of version, as_of, snapshot) and the diff of a read's query string.</summary>
    public static TableQuery WithVersions(this TableQuery query, HttpQuery q) => query
        .WithAsOf(ReadAsOf.Create(VersionRequests.Version(q.Text("version"), "version"), q.Text("as_of"), q.Text("snapshot")))
        .WithDiffFrom(VersionRequests.Version(q.Text("diff_from_version"), "diff_from_version"));

    public static void MapVersionsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/tables/{layer}/{table}/versions", ListVersions)
            .WithName("ListTableVersions")
            .WithSummary("The versions that changed a table, newest first: version, ts, operation, run_id, sources, inserted, updated, unchanged, rejected, files added and removed, symbols, readable. Filters: symbol, from, to (ISO-8601 instants), limit (default 100).")
            .WithQueryParameters(ListParameters);
        api.MapGet("/snapshots", (LakeStore store) => Results.Json(store.ListSnapshots(), WireJson.Default.IReadOnlyListSnapshotInfo))
            .WithName("ListSnapshots")
            .WithSummary("The named snapshots: name, created, version, and the version each table is pinned at.");
        api.MapPost("/snapshots", CreateSnapshotAsync)
            .WithName("CreateSnapshot")
            .WithSummary("Creates a named snapshot of every table (or tables=silver/prices_daily,...) at the latest version (or version=N): 201 with the snapshot; vacuum keeps its files until it is deleted.")
            .WithQueryParameters(CreateParameters);
        api.MapDelete("/snapshots/{name}", DeleteSnapshotAsync)
            .WithName("DeleteSnapshot")
            .WithSummary("Deletes a named snapshot (its versions fall under the retention period again); 404 when there is none.");
        api.MapPost("/vacuum", VacuumAsync)
            .WithName("Vacuum")
            .WithSummary("Deletes superseded data files past the retention period (Lakehouse:Retention, or retention_hours=) that no snapshot pins; answers what it freed.")
            .WithQueryParameters(VacuumParameters);
    }

    private static readonly HttpParameter[] ListParameters =
    [
        new("symbol", "Only versions that changed this symbol's rows"),
        new("from", "Committed at or after this ISO-8601 instant"),
        new("to", "Committed at or before this ISO-8601 instant"),
        new("limit", $"Versions to list, newest first (1..{VersionRequests.MaxListLimit}, default {VersionRequests.DefaultListLimit})"),
    ];

    private static readonly HttpParameter[] CreateParameters =
    [
        new("name", "The snapshot's name: letters, digits, '.', '_', '-' (1..64)", Required: true),
        new("tables", "Table ids, e.g. silver/prices_daily,gold/daily_metrics (default every table)"),
        new("version", "The lake version to pin (default the latest)"),
    ];

    private static readonly HttpParameter[] VacuumParameters = [new("retention_hours", "Delete superseded files older than this many hours (default Lakehouse:Retention)")];

    private static IResult ListVersions(HttpContext http, LakeStore store, string layer, string table)
    {
        var q = HttpQuery.Of(http, ListParameters.Names());
        var versions = VersionRequests.List(store, layer, table, q.Text("symbol"), q.Text("from"), q.Text("to"),
            q.Int("limit", VersionRequests.DefaultListLimit, 1, VersionRequests.MaxListLimit), http.RequestAborted);
        return Results.Json(versions, WireJson.Default.IReadOnlyListTableVersionInfo);
    }

    private static async Task<IResult> CreateSnapshotAsync(HttpContext http, LakeStore store)
    {
        var q = HttpQuery.Of(http, CreateParameters.Names());
        var name = q.Required("name", "name=backtest-2026-11");
        var tables = VersionRequests.Tables(store, q.List("tables").SelectMany(v => v.Split(',')), "tables");
        var info = await store.CreateSnapshotAsync(name, tables, VersionRequests.Version(q.Text("version"), "version"), http.RequestAborted)
            .ConfigureAwait(false);
        return Results.Json(info, WireJson.Default.SnapshotInfo, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> DeleteSnapshotAsync(HttpContext http, LakeStore store, string name)
    {
        _ = HttpQuery.Of(http);
        await store.DeleteSnapshotAsync(name, http.RequestAborted).ConfigureAwait(false);
        return Results.Json(new SnapshotDeleted(name), WireJson.Default.SnapshotDeleted);
    }

    private static async Task<IResult> VacuumAsync(HttpContext http, LakeStore store)
    {
        var q = HttpQuery.Of(http, VacuumParameters.Names());
        double? hours = null;
        if (q.Text("retention_hours") is { } text)
        {
            hours = double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var h)
                ? h
                : throw LakehouseException.Invalid($"retention_hours '{text}' is not a number of hours, e.g. 24");
        }
        var result = await store.VacuumAsync(VersionRequests.Retention(hours, "retention_hours"), http.RequestAborted).ConfigureAwait(false);
        return Results.Json(VersionRequests.Report(result), WireJson.Default.VacuumReport);
    }
}
