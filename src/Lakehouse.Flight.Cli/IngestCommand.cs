using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion;

namespace Lakehouse.Flight.Cli;

/// <summary><c>lakehouse ingest</c>: lands bars in bronze and promotes them to silver; one report per symbol and layer.</summary>
internal static class IngestCommand
{
    public static async Task<int> RunAsync(CliArgs args, CliIo io, CancellationToken cancellationToken)
    {
        var source = args.Require("source", "one of synthetic, yahoo, csv").ToLowerInvariant();
        var symbols = Symbols.NormalizeAll(args.GetList("symbols"));
        var path = args.Get("path");
        if (symbols.Count == 0 && path is null)
        {
            throw LakehouseException.Invalid("--symbols is required: e.g. --symbols AAPL,MSFT (a CSV source may give --path instead)");
        }
        // A CSV file holds what it holds: the range only filters it. Other sources need one.
        var from = path is null
            ? PriceQuery.ParseDate(args.Require("from", "the first date, e.g. 2024-01-01"), "--from")
            : PriceQuery.ParseDate(args.Get("from"), "--from");
        var to = path is null
            ? PriceQuery.ParseDate(args.Require("to", "the last date, e.g. 2024-03-31"), "--to")
            : PriceQuery.ParseDate(args.Get("to"), "--to");
        if (from > to)
        {
            throw LakehouseException.Invalid($"--from {from:yyyy-MM-dd} is after --to {to:yyyy-MM-dd}");
        }
        var json = args.Has("json");
        var seed = args.GetInt("seed", 42);
        var dataDir = args.DataDir();
        args.EnsureAllUsed();

        using var services = CliServices.Open(dataDir);
        var result = await services.Runner.RunAsync(new IngestRequest(source, symbols, from, to, Path: path, Seed: seed), cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        var reports = result.Reports;
        foreach (var failure in result.Failures)
        {
            await io.Err.WriteLineAsync($"error: {failure.Symbol}: {failure.Error}").ConfigureAwait(false);
        }
        if (json)
        {
            foreach (var r in reports)
            {
                await io.Out.WriteLineAsync(r.ToJson()).ConfigureAwait(false);
            }
        }
        else
        {
            ReportTable.Write(io.Out, reports);
        }
        // Data errors (a symbol the source could not give) exit 1; what did commit stays committed.
        return result.Failures.Count > 0 ? 1 : 0;
    }
}

internal static class ReportTable
{
    public static void Write(TextWriter w, IEnumerable<StorageReport> reports)
    {
        w.WriteLine($"{"layer",-7} {"symbol",-10} {"from",-10} {"to",-10} {"rows",8} {"inserted",9} {"updated",8} {"unchanged",9} {"rejected",8}");
        foreach (var r in reports)
        {
            w.WriteLine($"{r.Layer,-7} {r.Symbol,-10} {r.DateFrom,-10} {r.DateTo,-10} {r.Rows,8} {r.Inserted,9} {r.Updated,8} {r.Unchanged,9} {r.Rejected,8}");
            foreach (var reason in r.RejectReasons ?? [])
            {
                w.WriteLine($"        rejected: {reason}");
            }
        }
    }
}
