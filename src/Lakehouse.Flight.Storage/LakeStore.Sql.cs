using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Storage;

/// <summary>The data files of one table at one committed version: what a SQL engine reads for it.</summary>
/// <param name="Table">The table.</param>
/// <param name="Paths">Absolute paths in the file store; immutable, and kept while the retention period holds the version.</param>
public sealed record TableFiles(TableDefinition Table, IReadOnlyList<string> Paths);

/// <summary>Every table's files at one committed version of the lake.</summary>
/// <param name="Version">The lake version the files belong to.</param>
/// <param name="Tables">One entry per catalogue table, in catalogue order (a table with no rows has no paths).</param>
public sealed record LakeFiles(long Version, IReadOnlyList<TableFiles> Tables);

public sealed partial class LakeStore
{
    /// <summary>
    /// The file list of every table at the current version, taken from one state: a reader pinned to it never sees half a
    /// commit, and the files stay in the store after a later commit supersedes them (until vacuum, after the retention
    /// period). Rows acknowledged but not yet applied (the queryable buffer) are not in any file, so not listed.
    /// </summary>
    public LakeFiles CurrentFiles()
    {
        var state = _metadata.Current;
        var tables = Catalog.Tables
            .Select(t => new TableFiles(t, state.Table(t).Files.Values
                .Select(f => _files.StorePath(t, f.Name))
                .Order(StringComparer.Ordinal)
                .ToArray()))
            .ToArray();
        return new LakeFiles(state.Version, tables);
    }
}
