using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion.Gold;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Cli;

/// <summary>
/// <c>lakehouse report --symbols AAPL,MSFT [--json]</c>: rebuilds the gold tables and daily reports of the
/// symbols (all silver symbols when none are given) with <see cref="GoldBuilder.BuildAsync"/>; prints one
/// line per report file, or with <c>--json</c> the gold StorageReports, one JSON object per line.
/// </summary>
internal static class ReportCommand
{
    public static async Task<int> RunAsync(CliArgs args, CliIo io, CancellationToken cancellationToken)
    {
        var symbols = Symbols.NormalizeAll(args.GetList("symbols"));
        var json = args.Has("json");
        var dataDir = args.DataDir();
        args.EnsureAllUsed();

        var result = await new GoldBuilder(PriceStore.Open(dataDir)).BuildAsync(symbols, cancellationToken: cancellationToken).ConfigureAwait(false);
        foreach (var line in json
            ? result.Reports.Select(r => r.ToJson())
            : result.Files.Select(f => $"{(f.Written ? "written" : "unchanged"),-9} {f.Symbol,-10} {f.Rows,7} rows  {f.Path}"))
        {
            await io.Out.WriteLineAsync(line).ConfigureAwait(false);
        }
        return 0;
    }
}
