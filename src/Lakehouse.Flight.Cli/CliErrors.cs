using System.CommandLine;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Cli;

/// <summary>Parse errors as one line that says what to type instead: the nearest command or option by edit distance.</summary>
internal static class CliErrors
{
    public static string Describe(ParseResult parse, RootCommand root)
    {
        var command = parse.CommandResult.Command;
        var unmatched = parse.UnmatchedTokens;
        if (ReferenceEquals(command, root) && unmatched.Count > 0 && !unmatched[0].StartsWith('-'))
        {
            var hint = Nearest(unmatched[0], root.Subcommands.Select(c => c.Name)) is { } n ? $" (did you mean '{n}'?)" : "";
            return $"unknown command '{unmatched[0]}'{hint}; run 'lakehouse --help' for the list";
        }
        var unknownOptions = unmatched.Where(t => t.StartsWith('-')).ToArray();
        if (unknownOptions.Length > 0)
        {
            var names = command.Options.Where(o => !o.Hidden).SelectMany(o => o.Aliases.Prepend(o.Name)).Where(n => n.StartsWith("--", StringComparison.Ordinal));
            var hints = unknownOptions.Select(t => Nearest(t.Split('=')[0], names) is { } n ? $"{t} (did you mean {n}?)" : t);
            return $"unknown option(s): {string.Join(", ", hints)}; run '{Path(command)} --help' for its options";
        }
        if (ReferenceEquals(command, root) && root.Subcommands.Count > 0 && parse.Errors.Count > 0 && unmatched.Count == 0)
        {
            return $"name a command: {string.Join(", ", root.Subcommands.Select(c => c.Name))}; run 'lakehouse --help'";
        }
        var first = parse.Errors.Count > 0 ? parse.Errors[0].Message : "invalid command line";
        return $"{first.TrimEnd('.')}; run '{Path(command)} --help'";
    }

    /// <summary>The closest candidate within an edit distance of a third of the word (at least 2), if any.</summary>
    public static string? Nearest(string word, IEnumerable<string> candidates)
    {
        var best = (Name: (string?)null, Distance: int.MaxValue);
        foreach (var c in candidates.Distinct())
        {
            var d = Distance(word.ToLowerInvariant(), c.ToLowerInvariant());
            if (d < best.Distance)
            {
                best = (c, d);
            }
        }
        return best.Distance <= Math.Max(2, word.Length / 3) ? best.Name : null;
    }

    /// <summary>The exit code of a failure: 2 for what the user typed (bad input), 1 for data or the world (a file, a server).</summary>
    public static int ExitCode(LakehouseException ex) => ex.Kind == LakehouseErrorKind.InvalidArgument ? 2 : 1;

    private static string Path(Command command)
    {
        var names = new List<string>();
        for (var c = command; c is not null; c = c.Parents.OfType<Command>().FirstOrDefault())
        {
            names.Insert(0, c is RootCommand ? "lakehouse" : c.Name);
        }
        return string.Join(' ', names);
    }

    private static int Distance(string a, string b)
    {
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            prev[j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }
}
