using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>The seed's layout (<c>symbol=S/year=Y/month=M/data.parquet</c>): recognising a lake still in it.</summary>
internal static class SeedLayout
{
    /// <summary>
    /// Refuses to open a lake written in the seed layout by an older version (no commit log, <c>symbol=</c> folders in a
    /// table folder): serving it as empty would hide its rows, and writing into it would mix two layouts.
    /// </summary>
    public static void ThrowIfSeedLake(LakePaths paths, TableCatalog catalog)
    {
        if (IsSeedLake(paths, catalog))
        {
            throw new LakehouseException(LakehouseErrorKind.FailedPrecondition,
                $"the data dir '{paths.DisplayRoot}' holds a lake in the seed layout (symbol=/year=/month= folders, written by an older version): "
                + $"move it to the current layout first with `lakehouse migrate --layout lake --data-dir {paths.DisplayRoot}`");
        }
    }

    public static bool IsSeedLake(LakePaths paths, TableCatalog catalog)
    {
        if (Directory.Exists(paths.LogDir) && Directory.EnumerateFiles(paths.LogDir, "*.json").Any())
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
}
