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
    public const string UsageLine = "flow     daily --run-once [--date D] [--symbols AAPL,MSFT] [--source yahoo] [--json]";

    public static async Task<int> RunAsync(CliArgs args, CliIo io, CancellationToken cancellationToken)
    {
        if (args.Positional is not ["daily"])
        {
            throw LakehouseException.Invalid("usage: lakehouse " + UsageLine);
        }
        if (!args.Has("run-once"))
        {
            throw LakehouseException.Invalid("flow daily runs on the server's schedule (Lakehouse:Flow:Enabled); pass --run-once to run it now");
        }
        var options = new DailyFlowOptions();
        CliServices.Configuration().GetSection(DailyFlowOptions.SectionName).Bind(options);
        if (args.GetList("symbols") is { Count: > 0 } symbols)
        {
            options.Watchlist = [.. symbols];
        }
        options.Source = args.Get("source") ?? options.Source;
        options.LookbackDays = args.GetInt("lookback-days", options.LookbackDays);
        var date = PriceQuery.ParseDate(args.Get("date"), "--date");
        var json = args.Has("json");
        var dataDir = args.DataDir();
        args.EnsureAllUsed();
        if (options.Validate().Where(e => !e.Contains("Enabled", StringComparison.Ordinal)).ToArray() is { Length: > 0 } errors)
        {
            throw LakehouseException.Invalid(string.Join("; ", errors));
        }

        using var services = CliServices.Open(dataDir);
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
