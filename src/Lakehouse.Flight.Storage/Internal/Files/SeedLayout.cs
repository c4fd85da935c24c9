using System.Globalization;
using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// The seed's layout (<c>symbol=S/year=Y/month=M/data.parquet</c>, per-source tables under <c>source=X/</c>):
/// recognising a lake still in it (or halfway through its migration), and listing and writing its partition files
/// (<c>lakehouse export --layout seed</c>, <c>lakehouse migrate --layout lake</c>).
/// </summary>
internal static class SeedLayout
{
    /// <summary>Present from the start of a migration to the lake layout until it is finished (<see cref="MigrationMarker"/>).</summary>
    public const string MarkerName = "layout-migration.json";

    public static string MarkerPath(LakePaths paths) => Path.Combine(paths.MetadataDir, MarkerName);

    /// <summary>
    /// Refuses to open a lake written in the seed layout by an older version (no commit log, <c>symbol=</c> folders in a
    /// table folder), or one whose migration was cut short: serving it as empty would hide its rows, and writing into it
    /// would mix two layouts.
    /// </summary>
    public static void ThrowIfSeedLake(LakePaths paths, TableCatalog catalog)
    {
        if (File.Exists(MarkerPath(paths)))
        {
            throw new LakehouseException(LakehouseErrorKind.FailedPrecondition,
                $"the data dir '{paths.DisplayRoot}' is halfway through its migration from the seed layout (it was interrupted): "
                + $"finish it with `lakehouse migrate --layout lake --data-dir {paths.DisplayRoot}`");
        }
        if (IsSeedLake(paths, catalog))
        {
            throw new LakehouseException(LakehouseErrorKind.FailedPrecondition,
                $"the data dir '{paths.DisplayRoot}' holds a lake in the seed layout (symbol=/year=/month= folders, written by an older version): "
                + $"move it to the current layout first with `lakehouse migrate --layout lake --data-dir {paths.DisplayRoot}`");
        }
    }

    public static bool IsSeedLake(LakePaths paths, TableCatalog catalog)
    {
        if (HasLog(paths))
        {
            return false;
        }
        foreach (var table in catalog.Tables)
        {
            var dir = paths.LayerTableDir(table);
            if (Directory.Exists(dir)
                && (Directory.EnumerateDirectories(dir, "symbol=*").Any() || Directory.EnumerateDirectories(dir, "source=*").Any()))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>True when the data dir has a commit log (a lake in the current layout).</summary>
    public static bool HasLog(LakePaths paths) => Directory.Exists(paths.LogDir) && Directory.EnumerateFiles(paths.LogDir, "*.json").Any();

    /// <summary>The sources of a per-source table in a seed tree under <paramref name="root"/> (ordinal order); one null source for other tables.</summary>
    public static IReadOnlyList<string?> Sources(string root, TableDefinition table)
    {
        if (!table.PerSource)
        {
            return [null];
        }
        var dir = LakePaths.SeedTableDir(root, new TableId(table));
        return Values(dir, "source=", name => Storage.Sources.Normalize(name)).Cast<string?>().ToArray();
    }

    /// <summary>The symbols of a seed table (every source's, for per-source tables), ordinal order.</summary>
    public static IReadOnlyList<string> Symbols(string root, TableDefinition table)
    {
        var symbols = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var source in Sources(root, table))
        {
            symbols.UnionWith(Values(LakePaths.SeedTableDir(root, new TableId(table, source)), "symbol=", Core.Symbols.Normalize));
        }
        return [.. symbols];
    }

    /// <summary>A symbol's partition files in a seed tree (one source's, for per-source tables), in partition order.</summary>
    public static IReadOnlyList<string> PartitionFiles(string root, TableId table, string symbol)
    {
        var dir = Path.Combine(LakePaths.SeedTableDir(root, table), "symbol=" + HivePath.Escape(symbol));
        if (!Directory.Exists(dir))
        {
            return [];
        }
        return Directory.EnumerateFiles(dir, LakePaths.DataFileName, SearchOption.AllDirectories)
            .Select(f => (File: f, Key: PartitionOf(Path.GetRelativePath(dir, f))))
            .OrderBy(f => f.Key.Year).ThenBy(f => f.Key.Month).ThenBy(f => f.File, StringComparer.Ordinal)
            .Select(f => f.File)
            .ToArray();
    }

    /// <summary>
    /// Reads one partition file of a seed tree in the table's schema, checking it holds rows of its folder's symbol (and
    /// source): a file that does not is a damaged lake, refused rather than moved under another symbol.
    /// </summary>
    /// <exception cref="LakehouseException">InvalidData: the file cannot be read, or holds rows of another symbol or source.</exception>
    public static RecordBatch ReadPartition(string root, string path, TableId table, string symbol)
    {
        var def = table.Definition;
        var name = Path.GetRelativePath(root, path);
        RecordBatch rows;
        try
        {
            rows = SeedFiles.Read(path, def.Schema);
        }
        catch (Exception ex) when (ex is not (OperationCanceledException or OutOfMemoryException) && !StorageFaults.IsReadOnly(ex))
        {
            throw LakehouseException.InvalidData($"{name} is not a readable partition file of {def.Id} ({ex.Message})", ex);
        }
        CheckColumn(rows, TableDefinition.SymbolColumn, symbol, name, def);
        if (table.Source is { } source && def.Schema.GetFieldIndex(TableDefinition.SourceColumn, StringComparer.Ordinal) >= 0)
        {
            CheckColumn(rows, TableDefinition.SourceColumn, source, name, def);
        }
        return rows;
    }

    /// <summary>Writes one partition file (an export writes into a temp folder renamed into place at the end); returns its bytes.</summary>
    public static long WritePartition(string path, RecordBatch rows)
    {
        var bytes = SeedFiles.Encode(rows);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return bytes.Length;
    }

    private static void CheckColumn(RecordBatch rows, string column, string expected, string name, TableDefinition def)
    {
        var values = (StringArray)rows.Column(column);
        var want = System.Text.Encoding.UTF8.GetBytes(expected);
        for (var r = 0; r < rows.Length; r++)
        {
            if (values.IsNull(r) || !values.GetBytes(r).SequenceEqual(want))
            {
                throw LakehouseException.InvalidData(
                    $"{name} holds a row whose {column} is '{values.GetString(r)}', not its folder's '{expected}': the {def.Id} partition is damaged");
            }
        }
    }

    /// <summary>The unescaped values of the <paramref name="prefix"/> folders of <paramref name="dir"/>, checked by <paramref name="check"/>.</summary>
    private static IEnumerable<string> Values(string dir, string prefix, Func<string, string> check)
    {
        if (!Directory.Exists(dir))
        {
            return [];
        }
        var values = new List<string>();
        foreach (var sub in Directory.EnumerateDirectories(dir, prefix + "*"))
        {
            var raw = HivePath.Unescape(Path.GetFileName(sub)[prefix.Length..]);
            string value;
            try
            {
                value = check(raw);
            }
            catch (LakehouseException)
            {
                throw LakehouseException.InvalidData($"{Path.GetFileName(sub)} in {dir} is not a valid {prefix.TrimEnd('=')} name: the seed lake is damaged");
            }
            if (value != raw)
            {
                throw LakehouseException.InvalidData($"{Path.GetFileName(sub)} in {dir} is not spelled as the lake spells {prefix.TrimEnd('=')}s ('{value}')");
            }
            values.Add(value);
        }
        values.Sort(StringComparer.Ordinal);
        return values;
    }

    /// <summary>The (year, month) of a partition file from its path below the symbol folder (0 where the table has no such level).</summary>
    private static (int Year, int Month) PartitionOf(string relative)
    {
        int year = 0, month = 0;
        foreach (var part in relative.Split(Path.DirectorySeparatorChar))
        {
            if (part.StartsWith("year=", StringComparison.Ordinal))
            {
                _ = int.TryParse(part.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out year);
            }
            else if (part.StartsWith("month=", StringComparison.Ordinal))
            {
                _ = int.TryParse(part.AsSpan(6), NumberStyles.None, CultureInfo.InvariantCulture, out month);
            }
        }
        return (year, month);
    }
}
