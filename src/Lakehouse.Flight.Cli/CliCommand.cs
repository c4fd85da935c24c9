using System.CommandLine;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Cli;

/// <summary>A command of the tree and the examples its <c>--help</c> ends with.</summary>
internal sealed record CliCommand(Command Command, params string[] Examples);

/// <summary>Where a command writes: results to stdout, everything else (progress, errors) to stderr.</summary>
internal sealed record CliIo(TextWriter Out, TextWriter Err)
{
    /// <summary>True when stdout is a terminal: progress bars only then, never into a pipe or a file.</summary>
    public bool Interactive => ReferenceEquals(Out, Console.Out) && !Console.IsOutputRedirected;
}

/// <summary>Options several commands share, built fresh for each (an option belongs to one command).</summary>
internal static class CommonOptions
{
    public static Option<string?> DataDir() => new("--data-dir")
    {
        Description = "The lake's folder (default: LAKEHOUSE_DATA_DIR, else ./data)",
        HelpName = "DIR",
    };

    public static Option<bool> Json() => new("--json")
    {
        Description = "For scripts: one JSON object per line on stdout and nothing else there",
    };

    /// <summary>A list option: repeated (<c>--symbols A --symbols B</c>) or comma-separated (<c>--symbols A,B</c>).</summary>
    public static Option<string[]> List(string name, string description, string helpName) => new(name)
    {
        Description = description,
        HelpName = helpName,
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>--data-dir, else LAKEHOUSE_DATA_DIR, else ./data.</summary>
    public static string DataDirOf(ParseResult parse, Option<string?> option) =>
        parse.GetValue(option) ?? (Environment.GetEnvironmentVariable("LAKEHOUSE_DATA_DIR") is { Length: > 0 } env ? env : "data");

    public static IReadOnlyList<string> ListOf(ParseResult parse, Option<string[]> option) =>
        (parse.GetValue(option) ?? []).SelectMany(x => x.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();

    public static DateOnly? DateOf(ParseResult parse, Option<string?> option) => TableQuery.ParseDate(parse.GetValue(option), option.Name);
}
