using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Cli;

/// <summary><c>lakehouse stats</c>: symbols, data files and rows per table.</summary>
internal static class StatsCommand
{
    public static CliCommand Create(CliIo io)
    {
        var dataDir = CommonOptions.DataDir();
        var json = CommonOptions.Json();
        var command = new Command("stats", "Symbols, data files, rows and dates of each table of the lake.") { dataDir, json };
        command.SetAction((parse, ct) => RunAsync(io, parse.GetValue(json), CommonOptions.DataDirOf(parse, dataDir), ct));
        return new CliCommand(command, "lakehouse stats", "lakehouse stats --json --data-dir /srv/lake");
    }

    private static Task<int> RunAsync(CliIo io, bool json, string dataDir, CancellationToken cancellationToken)
    {
        var store = LakeStore.Open(dataDir);
        foreach (var table in store.Catalog.Tables)
        {
            var s = store.Stats(table, cancellationToken);
            io.Out.WriteLine(json
                ? JsonSerializer.Serialize(new
                {
                    layer = s.Layer, table = s.Table, symbols = s.Symbols, files = s.Files, rows = s.Rows,
                    first_date = s.FirstDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    last_date = s.LastDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    bytes = s.Bytes, version = s.Version,
                })
                : $"{s.Layer}/{s.Table}: {s.Symbols} symbol(s), {s.Rows} row(s) in {s.Files} file(s) ({s.Bytes / (1024.0 * 1024.0):0.0} MiB), "
                    + $"{s.FirstDate:yyyy-MM-dd} .. {s.LastDate:yyyy-MM-dd}, version {s.Version}");
        }
        return Task.FromResult(0);
    }
}
