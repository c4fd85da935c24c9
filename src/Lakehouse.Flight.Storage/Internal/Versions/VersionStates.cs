using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// The lake at an older version, rebuilt from the commit log: the nearest checkpoint at or before it (or a state
/// already rebuilt between the two) and the entries after it. A few rebuilt lake states (file lists) and indexed
/// table states are kept, least recently used first out; every file's symbol directory comes from the shared
/// <see cref="DirectoryCache"/> (files never change).
/// </summary>
internal sealed class VersionStates(TableCatalog catalog, LakeLog log, DirectoryCache directories)
{
    /// <summary>Rebuilt lake states kept (each is the file lists of every table: small).</summary>
    internal const int KeptLakeStates = 8;

    /// <summary>Indexed table states kept (symbol → runs of one table at one version).</summary>
    internal const int KeptTableStates = 8;

    private static readonly DirectoryCache NoDirectories = new((_, _) => throw new InvalidOperationException("a rebuilt state is indexed per table"));

    private readonly Lock _gate = new();
    private readonly LinkedList<LakeState> _lakes = [];
    private readonly LinkedList<TableState> _tables = [];

    /// <summary>Lake states rebuilt from the log so far (tests and benchmarks).</summary>
    public long Rebuilt { get; private set; }

    /// <summary>The lake's file lists at <paramref name="version"/> (not indexed); the version must be committed.</summary>
    public LakeState LakeAt(long version)
    {
        lock (_gate)
        {
            for (var node = _lakes.First; node is not null; node = node.Next)
            {
                if (node.Value.Version == version)
                {
                    _lakes.Remove(node);
                    _lakes.AddFirst(node);
                    return node.Value;
                }
            }
        }
        var state = Rebuild(version);
        lock (_gate)
        {
            _lakes.AddFirst(state);
            while (_lakes.Count > KeptLakeStates)
            {
                _lakes.RemoveLast();
            }
            Rebuilt++;
        }
        return state;
    }

    /// <summary>One table at <paramref name="version"/>, indexed (its files' directories read, once per file, through the shared cache).</summary>
    public TableState TableAt(TableDefinition table, long version)
    {
        var unindexed = LakeAt(version).Table(table);
        lock (_gate)
        {
            for (var node = _tables.First; node is not null; node = node.Next)
            {
                var t = node.Value;
                if (t.Definition.Id == table.Id && t.Version == unindexed.Version && t.Files.Count == unindexed.Files.Count
                    && t.Files.Keys.All(unindexed.Files.ContainsKey))
                {
                    _tables.Remove(node);
                    _tables.AddFirst(node);
                    return t;
                }
            }
        }
        var indexed = unindexed.Indexed ? unindexed : unindexed.WithIndex(directories);
        lock (_gate)
        {
            _tables.AddFirst(indexed);
            while (_tables.Count > KeptTableStates)
            {
                _tables.RemoveLast();
            }
        }
        return indexed;
    }

    private LakeState Rebuild(long version)
    {
        // Start from the nearest checkpoint at or before the version, or from a state already rebuilt after it.
        LakeState? start = null;
        for (var c = version / LakeLog.CheckpointInterval * LakeLog.CheckpointInterval; c > 0; c -= LakeLog.CheckpointInterval)
        {
            if (File.Exists(log.CheckpointPath(c)))
            {
                try
                {
                    start = LakeState.Open(catalog, log.ReadCheckpoint(c));
                    break;
                }
                catch (FileNotFoundException)
                {
                    // Thinned between the look and the read (LakeLog.KeepCheckpoint): an older one will do.
                }
            }
        }
        lock (_gate)
        {
            foreach (var kept in _lakes)
            {
                if (kept.Version <= version && kept.Version > (start?.Version ?? 0))
                {
                    start = kept;
                }
            }
        }
        start ??= LakeState.Open(catalog, null);
        var state = start;
        for (var v = start.Version + 1; v <= version; v++)
        {
            if (log.Exists(v))
            {
                state = state.Apply(log.ReadHead(v), NoDirectories);
            }
        }
        return state;
    }
}
