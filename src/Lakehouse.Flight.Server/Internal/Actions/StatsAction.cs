using System.Globalization;
using Lakehouse.Flight.Core.Wire;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Server.Internal.Actions;

/// <summary><c>stats</c>: the totals of every table of the catalogue.</summary>
internal sealed class StatsAction(LakeStore store) : IFlightAction
{
    public string Name => "stats";

    public string Description => "Symbols, data files, rows, date span, bytes and version of each table. No body. Result: JSON array.";

    public bool RequiresWriter => false;

    public bool WaitsForIndex => true;

    public Task RunAsync(ActionCall call)
    {
        var stats = store.Catalog.Tables.Select(t => store.Stats(t, call.CancellationToken))
            .Select(s => new TableStats(s.Layer, s.Table, s.Symbols, s.Files, s.Rows, Day(s.FirstDate), Day(s.LastDate), s.Bytes, s.Version))
            .ToArray();
        return call.WriteAsync<IReadOnlyList<TableStats>>(stats, WireJson.Default.IReadOnlyListTableStats);
    }

    private static string? Day(DateOnly? d) => d?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
