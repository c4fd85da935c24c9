using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Cli;

/// <summary>The <c>lakehouse</c> command line: one verb per command class.</summary>
internal static class LakehouseCli
{
    public const string Usage = """
        lakehouse <command> [options]

          serve    [--data-dir D] [--host 127.0.0.1] [--flight-port 8815] [--http-port 8080] [--demo] [--tls-cert F [--tls-key K]]
          ingest   --source synthetic|yahoo|csv --symbols AAPL,MSFT --from 2024-01-01 --to 2024-03-31 [--json]
                   --source csv --path FILE_OR_FOLDER [--symbols AAPL] [--from D] [--to D]
          query    --symbols AAPL [--from D] [--to D] [--layer silver] [--columns date,close] [--limit N] [--format table|csv|json]
          stats    [--json]
          report   [--symbols AAPL,MSFT] [--json]   rebuild gold tables and gold/reports/SYMBOL_daily_report.csv (no --symbols: all)
          flow     daily --run-once [--date D] [--symbols AAPL,MSFT] [--source yahoo] [--json]

        Every command takes --data-dir (default ./data, or LAKEHOUSE_DATA_DIR).
        """;

    private static readonly HashSet<string> Flags = new(StringComparer.OrdinalIgnoreCase) { "json", "demo", "dry-run", "run-once", "help" };

    public static async Task<int> RunAsync(string[] argv, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        if (argv.Length == 0 || argv[0] is "-h" or "--help" or "help")
        {
            await stdout.WriteLineAsync(Usage).ConfigureAwait(false);
            return argv.Length == 0 ? 2 : 0;
        }
        try
        {
            var args = new CliArgs(argv[1..], Flags);
            var io = new CliIo(stdout, stderr);
            return argv[0].ToLowerInvariant() switch
            {
                "serve" => await ServeCommand.RunAsync(args, io, cancellationToken).ConfigureAwait(false),
                "ingest" => await IngestCommand.RunAsync(args, io, cancellationToken).ConfigureAwait(false),
                "query" => await QueryCommand.RunAsync(args, io, cancellationToken).ConfigureAwait(false),
                "stats" => await StatsCommand.RunAsync(args, io, cancellationToken).ConfigureAwait(false),
                "report" => await ReportCommand.RunAsync(args, io, cancellationToken).ConfigureAwait(false),
                "flow" => await FlowCommand.RunAsync(args, io, cancellationToken).ConfigureAwait(false),
                _ => throw LakehouseException.Invalid($"unknown command '{argv[0]}'; run 'lakehouse --help' for the list"),
            };
        }
        catch (LakehouseException ex)
        {
            await stderr.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            return 2;
        }
        catch (OperationCanceledException)
        {
            await stderr.WriteLineAsync("cancelled").ConfigureAwait(false);
            return 130;
        }
    }
}

/// <summary>Where a command writes: results to stdout, everything else (progress, logs) to stderr.</summary>
internal sealed record CliIo(TextWriter Out, TextWriter Err)
{
    /// <summary>True when stdout is a terminal (progress bars only then).</summary>
    public bool Interactive => ReferenceEquals(Out, Console.Out) && !Console.IsOutputRedirected;
}
