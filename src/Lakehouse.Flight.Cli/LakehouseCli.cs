using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Cli;

/// <summary>
/// The <c>lakehouse</c> command line (System.CommandLine; docs/decisions.md). Each command is one
/// file with a <c>Create(CliIo)</c> returning its <see cref="CliCommand"/>; adding one is a file and
/// a line in <see cref="Commands"/>. Exit codes: 0 ok, 1 data errors (a failed symbol, a verification
/// mismatch, an unreachable server), 2 usage (a bad option or value), 130 cancelled.
/// </summary>
internal static class LakehouseCli
{
    /// <summary>Every command, in the order <c>--help</c> lists them.</summary>
    private static readonly Func<CliIo, CliCommand>[] Commands =
    [
        ServeCommand.Create,
        IngestCommand.Create,
        QueryCommand.Create,
        SqlCommand.Create,
        VersionsCommand.Create,
        SnapshotCommand.Create,
        VacuumCommand.Create,
        StatsCommand.Create,
        ReportCommand.Create,
        FlowCommand.Create,
        MigrateCommand.Create,
        ExportCommand.Create,
        SmokeCommand.Create,
    ];

    public static async Task<int> RunAsync(string[] argv, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var io = new CliIo(stdout, stderr);
        var root = Build(io);
        var parse = root.Parse(argv);
        var asksHelp = argv.Any(a => a is "--help" or "-h" or "-?");
        if (argv.Length == 0)
        {
            await parse.InvokeAsync(Invocation(io), cancellationToken).ConfigureAwait(false);
            return 2;
        }
        if (parse.Errors.Count > 0 && !asksHelp)
        {
            await stderr.WriteLineAsync("error: " + CliErrors.Describe(parse, root)).ConfigureAwait(false);
            return 2;
        }
        try
        {
            return await parse.InvokeAsync(Invocation(io), cancellationToken).ConfigureAwait(false);
        }
        catch (LakehouseException ex)
        {
            await stderr.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            return CliErrors.ExitCode(ex);
        }
        catch (OperationCanceledException)
        {
            await stderr.WriteLineAsync("cancelled").ConfigureAwait(false);
            return 130;
        }
        catch (Exception ex)
        {
            // One line in the lake's words, never a stack trace or an exception's own text (it names paths and types);
            // LAKEHOUSE_DEBUG=1 adds the details for a bug report.
            var fault = Storage.LakeFaults.Translate(ex);
            await stderr.WriteLineAsync(fault is not null
                ? $"error: {fault.Message}"
                : "error: the command failed on an unexpected error; please report it (LAKEHOUSE_DEBUG=1 prints the details)").ConfigureAwait(false);
            if (Environment.GetEnvironmentVariable("LAKEHOUSE_DEBUG") is "1" or "true")
            {
                await stderr.WriteLineAsync(ex.ToString()).ConfigureAwait(false);
            }
            return fault is null ? 1 : CliErrors.ExitCode(fault);
        }
    }

    private static InvocationConfiguration Invocation(CliIo io) => new()
    {
        Output = io.Out,
        Error = io.Err,
        // Errors are ours to print as one line; signals are Program's (SIGTERM drains serve).
        EnableDefaultExceptionHandler = false,
        ProcessTerminationTimeout = null,
    };

    internal static RootCommand Build(CliIo io)
    {
        var root = new RootCommand("lakehouse: an Arrow Flight lakehouse of daily prices. Every command takes --data-dir (default ./data, or LAKEHOUSE_DATA_DIR).");
        var examples = new Dictionary<Command, string[]>();
        foreach (var create in Commands)
        {
            var c = create(io);
            root.Subcommands.Add(c.Command);
            examples[c.Command] = c.Examples;
        }
        examples[root] = ["lakehouse serve --demo", "lakehouse ingest --source synthetic --symbols AAPL,MSFT --from 2024-01-01 --to 2024-03-31",
            "lakehouse ingest --help"];
        var help = root.Options.OfType<HelpOption>().Single();
        help.Action = new HelpWithExamples((HelpAction)help.Action!, examples, io);
        return root;
    }

    /// <summary>The library's help, then the command's examples (System.CommandLine has no examples section of its own).</summary>
    private sealed class HelpWithExamples(HelpAction inner, Dictionary<Command, string[]> examples, CliIo io) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            inner.Invoke(parseResult);
            if (examples.GetValueOrDefault(parseResult.CommandResult.Command) is { Length: > 0 } lines)
            {
                io.Out.WriteLine("Examples:");
                foreach (var line in lines)
                {
                    io.Out.WriteLine("  " + line);
                }
                io.Out.WriteLine();
            }
            return 0;
        }
    }
}
