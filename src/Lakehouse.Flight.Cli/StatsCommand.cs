using System.Text.Json;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Cli;

/// <summary><c>lakehouse stats</c>: symbols, partitions and rows per dataset.</summary>
internal static class StatsCommand
{
    public static Task<int> RunAsync(CliArgs args, CliIo io, CancellationToken cancellationToken)
    {
        var json = args.Has("json");
        var dataDir = args.DataDir();
        args.EnsureAllUsed();
        var store = PriceStore.Open(dataDir);
        foreach (var table in store.Catalog.Tables)
        {
            var s = store.Stats(table, cancellationToken);
            io.Out.WriteLine(json
                ? JsonSerializer.Serialize(new
                {
                    layer = s.Layer, table = s.Table, symbols = s.Symbols, partitions = s.Partitions, rows = s.Rows,
                    first_month = s.FirstMonth?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                    last_month_end = s.LastMonthEnd?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                })
                : $"{s.Layer}/{s.Table}: {s.Symbols} symbol(s), {s.Partitions} partition(s), {s.Rows} row(s), {s.FirstMonth:yyyy-MM} .. {s.LastMonthEnd:yyyy-MM}");
        }
        return Task.FromResult(0);
    }
}
