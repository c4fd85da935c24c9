using System.Collections.Concurrent;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// One string per symbol name for the process: the directories of thousands of files name the same symbols, and an
/// index load decodes them on all cores. <see cref="string.Intern(string)"/> did this before, behind one process-wide
/// lock (a tenth of a 104M-row lake's index load was spent waiting on it); a concurrent map looked up by the decoded
/// characters allocates a string only for a name it has not seen.
/// </summary>
internal static class SymbolNames
{
    private static readonly ConcurrentDictionary<string, string> Names = new(StringComparer.Ordinal);

    private static readonly ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> ByChars =
        Names.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The process's string equal to <paramref name="name"/>.</summary>
    public static string Get(ReadOnlySpan<char> name) =>
        ByChars.TryGetValue(name, out var known) ? known : Names.GetOrAdd(new string(name), static n => n);

    /// <summary>The process's string equal to <paramref name="name"/> (<paramref name="name"/> itself when new).</summary>
    public static string Get(string name) => Names.TryGetValue(name, out var known) ? known : Names.GetOrAdd(name, name);
}
