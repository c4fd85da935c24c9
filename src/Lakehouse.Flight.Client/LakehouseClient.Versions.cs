using System.Text.Json;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Wire;

namespace Lakehouse.Flight.Client;

/// <summary>
/// Versions and named snapshots (the <c>list-versions</c>, <c>create-snapshot</c>, <c>list-snapshots</c>,
/// <c>delete-snapshot</c> and <c>vacuum</c> actions). Read a version with <see cref="TableQuery.WithAsOf"/>:
/// <c>TableQuery.Create(symbols: ["AAPL"]).WithAsOf(ReadAsOf.AtSnapshot("backtest-2026-11"))</c>.
/// </summary>
public sealed partial class LakehouseClient
{
    /// <summary>The versions that changed a table, newest first.</summary>
    /// <param name="layer">The table's layer.</param>
    /// <param name="table">The table.</param>
    /// <param name="symbol">Only versions that changed this symbol's rows.</param>
    /// <param name="from">Committed at or after this instant.</param>
    /// <param name="to">Committed at or before this instant.</param>
    /// <param name="limit">At most this many (0: the server's default, 100).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<IReadOnlyList<TableVersionInfo>> ListVersionsAsync(string layer = "silver", string table = "prices_daily", string? symbol = null,
        DateTimeOffset? from = null, DateTimeOffset? to = null, int limit = 0, CancellationToken cancellationToken = default)
    {
        var body = Body(w =>
        {
            w.WriteString("layer", layer);
            w.WriteString("table", table);
            if (symbol is not null)
            {
                w.WriteString("symbol", symbol);
            }
            if (from is { } f)
            {
                w.WriteString("from", ReadAsOf.FormatInstant(f));
            }
            if (to is { } t)
            {
                w.WriteString("to", ReadAsOf.FormatInstant(t));
            }
            w.WriteNumber("limit", limit);
        });
        return await SingleAsync("list-versions", body, WireJson.Default.IReadOnlyListTableVersionInfo, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates a named snapshot of every table (or <paramref name="tables"/>, ids like <c>silver/prices_daily</c>) at the latest version or <paramref name="version"/>.</summary>
    /// <param name="name">The snapshot's name.</param>
    /// <param name="tables">Table ids; null or empty: every table.</param>
    /// <param name="version">The lake version to pin; null: the latest.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<SnapshotInfo> CreateSnapshotAsync(string name, IReadOnlyList<string>? tables = null, long? version = null,
        CancellationToken cancellationToken = default)
    {
        var body = Body(w =>
        {
            w.WriteString("name", name);
            w.WriteStartArray("tables");
            foreach (var t in tables ?? [])
            {
                w.WriteStringValue(t);
            }
            w.WriteEndArray();
            if (version is { } v)
            {
                w.WriteNumber("version", v);
            }
        });
        return await SingleAsync("create-snapshot", body, WireJson.Default.SnapshotInfo, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The named snapshots, by name.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<IReadOnlyList<SnapshotInfo>> ListSnapshotsAsync(CancellationToken cancellationToken = default) =>
        SingleAsync("list-snapshots", [], WireJson.Default.IReadOnlyListSnapshotInfo, cancellationToken);

    /// <summary>Deletes a named snapshot (NotFound when there is none).</summary>
    /// <param name="name">The snapshot's name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task DeleteSnapshotAsync(string name, CancellationToken cancellationToken = default) =>
        await SingleAsync("delete-snapshot", Body(w => w.WriteString("name", name)), WireJson.Default.SnapshotDeleted, cancellationToken).ConfigureAwait(false);

    /// <summary>Deletes superseded files past the retention period that no snapshot pins (writer role).</summary>
    /// <param name="retentionHours">The retention in hours; null: the server's <c>Lakehouse:Retention</c>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<VacuumReport> VacuumAsync(double? retentionHours = null, CancellationToken cancellationToken = default) =>
        SingleAsync("vacuum", retentionHours is { } h ? Body(w => w.WriteNumber("retention_hours", h)) : [], WireJson.Default.VacuumReport, cancellationToken);

    private static byte[] Body(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            write(w);
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private async Task<T> SingleAsync<T>(string action, byte[] body, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type,
        CancellationToken cancellationToken)
    {
        T? last = default;
        var any = false;
        await foreach (var result in ActionAsync(action, body, cancellationToken).ConfigureAwait(false))
        {
            last = JsonSerializer.Deserialize(result, type);
            any = true;
        }
        return any && last is not null ? last : throw new InvalidOperationException($"the server answered '{action}' with no result");
    }
}
