using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Server.Internal;

/// <summary>
/// The folders whose files actions may name (<c>Lakehouse:ImportRoots</c>; default the data dir's
/// <c>import/</c>): the legacy file and manifest of <c>migrate-legacy</c>, the CSV path of <c>ingest</c>.
/// A path is resolved as the operating system would open it (relative to the first root, <c>..</c> and
/// every symlink followed), then must lie inside a root, itself resolved the same way; anything else is
/// PERMISSION_DENIED naming the setting, so a writer can read no server file an operator did not put there.
/// </summary>
internal sealed class ImportRoots
{
    public const string Setting = "Lakehouse:ImportRoots";

    private const int MaxLinks = 40;

    private readonly IReadOnlyList<string> _roots;

    public ImportRoots(LakehouseServerOptions options)
    {
        _roots = options.ImportRoots is { Count: > 0 } configured
            ? configured.Where(r => !string.IsNullOrWhiteSpace(r)).Select(r => Path.GetFullPath(r)).ToArray()
            : [Path.Combine(Path.GetFullPath(options.DataDir), "import")];
    }

    /// <summary>The roots as configured (full paths, not yet resolved).</summary>
    public IReadOnlyList<string> Roots => _roots;

    /// <summary>
    /// The real path of <paramref name="given"/> (a field of an action body, named <paramref name="field"/> in errors),
    /// refused unless it lies under a root. Messages name the field and the setting, not the server's folders.
    /// </summary>
    public string Resolve(string given, string field)
    {
        if (string.IsNullOrWhiteSpace(given) || given.Contains('\0', StringComparison.Ordinal))
        {
            throw LakehouseException.Invalid($"{field} is empty: name a file under the import folder ({Setting})");
        }
        var candidate = RealPath(Path.IsPathRooted(given) ? given : Path.Combine(_roots[0], given));
        foreach (var root in _roots)
        {
            var real = RealPath(root).TrimEnd(Path.DirectorySeparatorChar);
            if (candidate == real || candidate.StartsWith(real + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                return candidate;
            }
        }
        throw new LakehouseException(LakehouseErrorKind.PermissionDenied,
            $"{field} '{given}' is outside the folders the server imports from: put the file under the import folder "
            + $"(the data dir's import/ unless {Setting} names others) and name it relative to it, or ask the operator to add its folder to {Setting}");
    }

    /// <summary>
    /// The path with <c>.</c>, <c>..</c> and every symlink of every component resolved (what realpath(3) gives);
    /// components that do not exist are kept as written.
    /// </summary>
    internal static string RealPath(string path, int depth = 0)
    {
        var full = Path.GetFullPath(path);
        var root = Path.GetPathRoot(full)!;
        var current = root;
        var parts = full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < parts.Length; i++)
        {
            var next = Path.Combine(current, parts[i]);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            if (info.Exists && info.LinkTarget is not null)
            {
                if (depth >= MaxLinks)
                {
                    throw LakehouseException.Invalid("the path has too many levels of symbolic links");
                }
                var target = Path.IsPathRooted(info.LinkTarget) ? info.LinkTarget : Path.Combine(current, info.LinkTarget);
                // The target may itself hold links (and ..): resolve it whole, then go on below it.
                next = RealPath(target, depth + 1);
            }
            current = next;
        }
        return current;
    }
}
