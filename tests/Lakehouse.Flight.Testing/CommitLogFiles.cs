using System.Globalization;
using System.Text.Json;

namespace Lakehouse.Flight.Testing;

/// <summary>
/// What a version of a table is made of, from the commit log's JSON alone (each entry's adds and removes, in order),
/// independently of the store's own code: the files an as-of read must return the rows of.
/// </summary>
public static class CommitLogFiles
{
    /// <summary>Paths (in the file store, '/' separated) of <paramref name="table"/>'s files at <paramref name="version"/>.</summary>
    public static List<string> Of(string lakeDir, long version, string table)
    {
        var files = new SortedSet<string>(StringComparer.Ordinal);
        for (var v = 1L; v <= version; v++)
        {
            var path = Path.Combine(lakeDir, "_metadata", "log", v.ToString("D20", CultureInfo.InvariantCulture) + ".json");
            using var entry = JsonDocument.Parse(File.ReadAllBytes(path));
            foreach (var change in entry.RootElement.GetProperty("tables").EnumerateArray().Where(c => c.GetProperty("table").GetString() == table))
            {
                foreach (var removed in change.GetProperty("remove").EnumerateArray())
                {
                    files.Remove(removed.GetString()!);
                }
                foreach (var added in change.GetProperty("add").EnumerateArray())
                {
                    files.Add(added.GetProperty("name").GetString()!);
                }
            }
        }
        return [.. files.Select(f => Path.Combine(lakeDir, "_metadata", "data", table, f).Replace('\\', '/'))];
    }
}
