using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Cli;

/// <summary><c>lakehouse stats</c>: symbols, partitions and rows per dataset.</summary>
internal static class StatsCommand
{
    public static CliCommand Create(CliIo io)
    {
        var dataDir = CommonOptions.DataDir();
        var json = CommonOptions.Json();
        var command = new Command("stats", "Symbols, partitions, rows and months of each table of the lake.") { dataDir, json };
        command.SetAction((parse, ct) => RunAsync(io, parse.GetValue(json), CommonOptions.DataDirOf(parse, dataDir), ct));
        return new CliCommand(command, "lakehouse stats", "lakehouse stats --json --data-dir /srv/lake");
    }

    private static Task<int> RunAsync(CliIo io, bool json, string dataDir, CancellationToken cancellationToken)
    {
        var store = PriceStore.Open(dataDir);
        foreach (var table in store.Catalog.Tables)
        {
            var s = store.Stats(table, cancellationToken);
            io.Out.WriteLine(json
                ? JsonSerializer.Serialize(new
                {
                    layer = s.Layer, table = s.Table, symbols = s.Symbols, partitions = s.Partitions, rows = s.Rows,
                    first_month = s.FirstMonth?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    last_month_end = s.LastMonthEnd?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                })
                : $"{s.Layer}/{s.Table}: {s.Symbols} symbol(s), {s.Partitions} partition(s), {s.Rows} row(s), {s.FirstMonth:yyyy-MM} .. {s.LastMonthEnd:yyyy-MM}");
        }
        return Task.FromResult(0);
    }
}
