using System.CommandLine;
using System.Text.Json;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion.Flow;
using Microsoft.Extensions.Configuration;

namespace Lakehouse.Flight.Cli;

/// <summary>
/// <c>lakehouse flow daily --run-once [--date D] [--symbols A,B] [--source S] [--json]</c>: the server's daily
/// flow run by hand on the data dir, with the same <c>Lakehouse:Flow</c> settings (the command line wins).
/// A day that already completed is reported and not run again.
/// </summary>
internal static class FlowCommand
{
    public static CliCommand Create(CliIo io)
    {
        var dataDir = CommonOptions.DataDir();
        var json = CommonOptions.Json();
        var runOnce = new Option<bool>("--run-once") { Description = "Run the flow now, once (the server runs it on its schedule, Lakehouse:Flow:Cron)" };
        var date = new Option<string?>("--date") { Description = "The trading day to refresh (default: today in the flow's time zone)", HelpName = "YYYY-MM-DD" };
        var symbols = CommonOptions.List("--symbols", "Watchlist for this run (default: Lakehouse:Flow:Watchlist)", "AAPL,MSFT");
        var source = new Option<string?>("--source") { Description = "Price source (default: Lakehouse:Flow:Source)", HelpName = "NAME" };
        var lookback = new Option<int?>("--lookback-days") { Description = "Days before --date fetched again for late corrections (default: Lakehouse:Flow:LookbackDays)", HelpName = "N" };
        var daily = new Command("daily", "Fetch the last days for the watchlist, upsert silver, rebuild gold and reports; one line per step in _metadata/flows/daily.jsonl. A day that completed is not run again.")
        {
            dataDir, runOnce, date, symbols, source, lookback, json,
        };
        daily.SetAction((parse, ct) => RunAsync(io, parse.GetValue(runOnce), parse.GetValue(date), CommonOptions.ListOf(parse, symbols), parse.GetValue(source),
            parse.GetValue(lookback), parse.GetValue(json), CommonOptions.DataDirOf(parse, dataDir), ct));
        var command = new Command("flow", "Scheduled flows, run by hand.") { daily };
        return new CliCommand(command,
            "lakehouse flow daily --run-once",
            "lakehouse flow daily --run-once --date 2024-03-15 --symbols AAPL,MSFT --source yahoo --json");
    }

    private static async Task<int> RunAsync(CliIo io, bool runOnce, string? dateText, IReadOnlyList<string> symbols, string? source, int? lookbackDays,
        bool json, string dataDir, CancellationToken cancellationToken)
    {
        if (!runOnce)
        {
            throw LakehouseException.Invalid("flow daily runs on the server's schedule (Lakehouse:Flow:Enabled); pass --run-once to run it now");
        }
        var options = new DailyFlowOptions();
        CliServices.Configuration().GetSection(DailyFlowOptions.SectionName).Bind(options);
        if (symbols.Count > 0)
        {
            options.Watchlist = [.. symbols];
        }
        options.Source = source ?? options.Source;
        options.LookbackDays = lookbackDays ?? options.LookbackDays;
        var date = LakeDates.Check(TableQuery.ParseDate(dateText, "--date"), "--date");
        if (options.Validate().Where(e => !e.Contains("Enabled", StringComparison.Ordinal)).ToArray() is { Length: > 0 } errors)
        {
            throw LakehouseException.Invalid(string.Join("; ", errors));
        }

        using var services = CliServices.Open(dataDir);
        await CliServices.FinishRecoveredGoldAsync(services.Gold, io, cancellationToken).ConfigureAwait(false);
        var flow = new DailyFlow(services.Runner, services.Store, options, services.FlowSteps);
        var run = await flow.RunAsync(date ?? flow.DateAt(DateTimeOffset.UtcNow), cancellationToken: cancellationToken).ConfigureAwait(false);
        await WriteAsync(io, run, flow.LogPath, json).ConfigureAwait(false);
        return run.Failures.Count > 0 || run.Steps.Any(s => s.Error is not null) ? 1 : 0;
    }

    private static async Task WriteAsync(CliIo io, FlowRun run, string logPath, bool json)
    {
        var day = run.Date.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        if (run.AlreadyCompleted)
        {
            await (json ? io.Out.WriteLineAsync(JsonSerializer.Serialize(new { date = day, step = "skipped", reason = "already completed" }))
                : io.Out.WriteLineAsync($"daily flow for {day} already completed (see {logPath}); nothing to do")).ConfigureAwait(false);
            return;
        }
        foreach (var step in run.Steps)
        {
            await (json ? io.Out.WriteLineAsync(JsonSerializer.Serialize(step))
                : io.Out.WriteLineAsync($"{step.Date} {step.Step,-8} symbols {step.Symbols.Count,5} rows {step.Rows,9} failures {step.Failures.Count,4} {step.DurationMs,7} ms{(step.Error is null ? "" : "  error: " + step.Error)}"))
                .ConfigureAwait(false);
        }
        foreach (var failure in run.Failures)
        {
            await io.Err.WriteLineAsync($"error: {failure.Symbol}: {failure.Error}").ConfigureAwait(false);
        }
    }
}
