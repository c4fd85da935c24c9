using System.CommandLine;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion.Gold;

namespace Lakehouse.Flight.Cli;

/// <summary>
/// <c>lakehouse report [--symbols AAPL,MSFT] [--json]</c>: rebuilds the gold tables and daily reports of the
/// symbols (all silver symbols when none are given) with <see cref="GoldBuilder.BuildAsync"/>; prints one
/// line per report file, or with <c>--json</c> the gold StorageReports, one JSON object per line.
/// </summary>
internal static class ReportCommand
{
    public static CliCommand Create(CliIo io)
    {
        var dataDir = CommonOptions.DataDir();
        var json = CommonOptions.Json();
        var symbols = CommonOptions.List("--symbols", "Symbols to rebuild, comma-separated or repeated (default: every symbol silver holds)", "AAPL,MSFT");
        var command = new Command("report",
            "Rebuild gold/prices_monthly, gold/daily_metrics and gold/reports/SYMBOL_daily_report.csv from silver. Only files whose content changed are rewritten.")
        {
            dataDir, symbols, json,
        };
        command.SetAction((parse, ct) => RunAsync(io, CommonOptions.ListOf(parse, symbols), parse.GetValue(json), CommonOptions.DataDirOf(parse, dataDir), ct));
        return new CliCommand(command, "lakehouse report --symbols AAPL,MSFT", "lakehouse report --json --data-dir /srv/lake");
    }

    private static async Task<int> RunAsync(CliIo io, IReadOnlyList<string> symbolList, bool json, string dataDir, CancellationToken cancellationToken)
    {
        var symbols = Symbols.NormalizeAll(symbolList);
        using var services = CliServices.Open(dataDir);
        var builder = services.Gold;
        await CliServices.FinishRecoveredGoldAsync(builder, io, cancellationToken).ConfigureAwait(false);
        var result = await CliProgress.RunAsync(io, json, "report", progress =>
            builder.BuildAsync(symbols, new Relay(progress), cancellationToken: cancellationToken)).ConfigureAwait(false);
        foreach (var line in json
            ? result.Reports.Select(r => r.ToJson())
            : result.Files.Select(f => $"{(f.Written ? "written" : "unchanged"),-9} {f.Symbol,-10} {f.Rows,7} rows  {f.Path}"))
        {
            await io.Out.WriteLineAsync(line).ConfigureAwait(false);
        }
        return 0;
    }

    private sealed class Relay(IProgress<ProgressStep> to) : IProgress<GoldProgress>
    {
        public void Report(GoldProgress value) =>
            to.Report(new ProgressStep($"gold: {value.SymbolsDone} of {value.SymbolsTotal} symbol(s)", value.SymbolsDone, Math.Max(1, value.SymbolsTotal)));
    }
}
