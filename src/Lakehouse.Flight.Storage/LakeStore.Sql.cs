using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Storage;

/// <summary>The data files of one table at one committed version: what a SQL engine reads for it.</summary>
/// <param name="Table">The table.</param>
/// <param name="Paths">Absolute paths in the file store; immutable, and kept while the retention period holds the version.</param>
/// <param name="Unreadable">
/// Why the table cannot be read at the version asked for (a snapshot that does not pin it, a version whose files a vacuum
/// deleted), with the error kind a read of it answers; null when it can. A query that does not touch the table is not refused.
/// </param>
public sealed record TableFiles(TableDefinition Table, IReadOnlyList<string> Paths, LakehouseException? Unreadable = null);

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

    /// <summary>
    /// The file list of every table as of <paramref name="asOf"/>, each table resolved as a DoGet as of it would be (D38):
    /// a version or an instant names one lake version for all tables; a snapshot the version it pins for each. An unknown
    /// version, an instant in the future or an unknown snapshot is InvalidArgument at once; a table the snapshot does not
    /// pin, or whose version a vacuum has made unreadable, is listed with <see cref="TableFiles.Unreadable"/> (only a query
    /// that reads it fails). <see cref="LakeFiles.Version"/> is the newest version any table is read at.
    /// </summary>
    public LakeFiles FilesAsOf(ReadAsOf asOf)
    {
        ArgumentNullException.ThrowIfNull(asOf);
        _metadata.Poll();
        var current = _metadata.Current;
        if (asOf.Snapshot is { } name)
        {
            _ = Snapshots.Read(name) ?? throw LakehouseException.Invalid(
                $"snapshot '{name}' does not exist: list the snapshots with the list-snapshots action, GET /snapshots or lakehouse snapshot list");
        }
        else
        {
            // A version that does not exist or an instant in the future is the query's error, whichever table it reads; an
            // instant is resolved once, so a commit that lands while the tables are listed cannot split them across versions.
            asOf = ReadAsOf.AtVersion(VersionOf(Catalog.Tables[0], asOf, current));
        }
        long newest = 0;
        var tables = new List<TableFiles>(Catalog.Tables.Count);
        foreach (var t in Catalog.Tables)
        {
            try
            {
                var state = StateAsOf(t, asOf);
                newest = Math.Max(newest, state.Version);
                tables.Add(new TableFiles(t, state.Files.Values
                    .Select(f => _files.StorePath(t, f.Name))
                    .Order(StringComparer.Ordinal)
                    .ToArray()));
            }
            catch (LakehouseException ex) when (ex.Kind is LakehouseErrorKind.InvalidArgument or LakehouseErrorKind.NotFound)
            {
                tables.Add(new TableFiles(t, [], ex));
            }
        }
        return new LakeFiles(asOf.Version ?? newest, tables);
    }
}
