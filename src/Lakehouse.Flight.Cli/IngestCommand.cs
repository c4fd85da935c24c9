using System.CommandLine;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion;

namespace Lakehouse.Flight.Cli;

/// <summary><c>lakehouse ingest</c>: lands bars in bronze and promotes them to silver; one report per symbol and layer.</summary>
internal static class IngestCommand
{
    public static CliCommand Create(CliIo io)
    {
        var dataDir = CommonOptions.DataDir();
        var json = CommonOptions.Json();
        var source = new Option<string>("--source") { Description = "Where the bars come from: synthetic, yahoo or csv", HelpName = "NAME", Required = true };
        var symbols = CommonOptions.List("--symbols", "Symbols, comma-separated or repeated (a CSV source may give --path instead)", "AAPL,MSFT");
        var from = new Option<string?>("--from") { Description = "First date, inclusive (a CSV file's range only filters it)", HelpName = "YYYY-MM-DD" };
        var to = new Option<string?>("--to") { Description = "Last date, inclusive", HelpName = "YYYY-MM-DD" };
        var path = new Option<string?>("--path") { Description = "CSV file or folder (--source csv)", HelpName = "FILE_OR_FOLDER" };
        var seed = new Option<int>("--seed") { Description = "Seed of the synthetic source", HelpName = "N", DefaultValueFactory = _ => 42 };
        var command = new Command("ingest", $"Fetch bars from a source into bronze and promote them to silver, a commit per {IngestionRunner.ChunkSymbols} symbols (each all-or-nothing).")
        {
            dataDir, source, symbols, from, to, path, seed, json,
        };
        command.SetAction((parse, ct) => RunAsync(io, parse.GetValue(source)!, CommonOptions.ListOf(parse, symbols), parse.GetValue(from), parse.GetValue(to),
            parse.GetValue(path), parse.GetValue(seed), parse.GetValue(json), CommonOptions.DataDirOf(parse, dataDir), ct));
        return new CliCommand(command,
            "lakehouse ingest --source synthetic --symbols AAPL,MSFT --from 2024-01-01 --to 2024-03-31",
            "lakehouse ingest --source yahoo --symbols ^GSPC --from 2020-01-01 --to 2024-12-31 --json",
            "lakehouse ingest --source csv --path vendor/prices/");
    }

    private static async Task<int> RunAsync(CliIo io, string sourceName, IReadOnlyList<string> symbolList, string? fromText, string? toText,
        string? path, int seed, bool json, string dataDir, CancellationToken cancellationToken)
    {
        var source = sourceName.ToLowerInvariant();
        var symbols = Symbols.NormalizeAll(symbolList);
        if (symbols.Count == 0 && path is null)
        {
            throw LakehouseException.Invalid("--symbols is required: e.g. --symbols AAPL,MSFT (a CSV source may give --path instead)");
        }
        // A CSV file holds what it holds: the range only filters it. Other sources need one.
        var from = TableQuery.ParseDate(path is null ? fromText ?? throw LakehouseException.Invalid("--from is required: the first date, e.g. 2024-01-01") : fromText, "--from");
        var to = TableQuery.ParseDate(path is null ? toText ?? throw LakehouseException.Invalid("--to is required: the last date, e.g. 2024-03-31") : toText, "--to");
        LakeDates.CheckRange(from, to, "--from", "--to");

        using var services = CliServices.Open(dataDir);
        services.Runner.Source(source);
        await CliServices.FinishRecoveredGoldAsync(services.Gold, io, cancellationToken).ConfigureAwait(false);
        var request = new IngestRequest(source, symbols, from, to, Path: path, Seed: seed);
        var result = await CliProgress.RunAsync(io, json, $"ingest {source}", progress =>
            services.Runner.RunAsync(request, new Relay(progress), cancellationToken)).ConfigureAwait(false);
        foreach (var failure in result.Failures)
        {
            await io.Err.WriteLineAsync($"error: {failure.Symbol}: {failure.Error}").ConfigureAwait(false);
        }
        // What a server's maintenance would do next: merge the small files the commits left (nothing when there are few).
        await services.Store.CompactAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        if (json)
        {
            foreach (var r in result.Reports)
            {
                await io.Out.WriteLineAsync(r.ToJson()).ConfigureAwait(false);
            }
        }
        else
        {
            ReportTable.Write(io.Out, result.Reports);
        }
        // Data errors (a symbol the source could not give) exit 1; what did commit stays committed.
        return result.Failures.Count > 0 ? 1 : 0;
    }

    private sealed class Relay(IProgress<ProgressStep> to) : IProgress<IngestionProgress>
    {
        public void Report(IngestionProgress value) =>
            to.Report(new ProgressStep($"ingest: {value.SymbolsDone} symbol(s), {value.Rows:N0} rows, {value.Failed} failed",
                value.SymbolsDone, Math.Max(value.SymbolsTotal, value.SymbolsDone)));
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
