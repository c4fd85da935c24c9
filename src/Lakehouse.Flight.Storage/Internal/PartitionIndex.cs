using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// Which partitions exist, per table and symbol, held in memory so planning a query never lists
/// folders. Built once at open, updated by this process's commits and by the change feed.
/// </summary>
internal sealed class PartitionIndex
{
    private readonly LakePaths _paths;
    private readonly ConcurrentDictionary<TableId, ConcurrentDictionary<string, ImmutableSortedSet<(int Year, int Month)>>> _tables = new();

    public PartitionIndex(LakePaths paths) => _paths = paths;

    public IEnumerable<TableId> Tables => _tables.Keys;

    /// <summary>The folders of a table: itself, or one per source for tables partitioned by source.</summary>
    public IEnumerable<TableId> TablesOf(TableDefinition table) =>
        table.PerSource
            ? _tables.Keys.Where(t => ReferenceEquals(t.Definition, table)).OrderBy(t => t.Source, StringComparer.Ordinal)
            : [new TableId(table)];

    public IReadOnlyList<string> SymbolsOf(TableId table) =>
        _tables.TryGetValue(table, out var s) ? s.Where(kv => !kv.Value.IsEmpty).Select(kv => kv.Key).Order(StringComparer.Ordinal).ToArray() : [];

    public ImmutableSortedSet<(int Year, int Month)> PartitionsOf(TableId table, string symbol) =>
        _tables.TryGetValue(table, out var s) && s.TryGetValue(symbol, out var set) ? set : ImmutableSortedSet<(int, int)>.Empty;

    public long PartitionCount => _tables.Values.Sum(t => t.Values.Sum(s => (long)s.Count));

    public void Add(TableId table, PartitionKey key)
    {
        var symbols = _tables.GetOrAdd(table, _ => new(StringComparer.Ordinal));
        symbols.AddOrUpdate(key.Symbol,
            _ => ImmutableSortedSet.Create((key.Year, key.Month)),
            (_, set) => set.Add((key.Year, key.Month)));
    }

    /// <summary>Re-lists one symbol's folders (after another process wrote it).</summary>
    public void Rescan(TableId table, string symbol)
    {
        var dir = _paths.SymbolDir(table, symbol);
        var set = ImmutableSortedSet.CreateBuilder<(int, int)>();
        if (Directory.Exists(dir))
        {
            foreach (var file in Directory.EnumerateFiles(dir, LakePaths.DataFileName, SearchOption.AllDirectories))
            {
                if (TryParsePartition(table.Definition, Path.GetRelativePath(dir, file).Split(Path.DirectorySeparatorChar), out var y, out var m))
                {
                    set.Add((y, m));
                }
            }
        }
        _tables.GetOrAdd(table, _ => new(StringComparer.Ordinal))[symbol] = set.ToImmutable();
    }

    /// <summary>One walk over the catalogue's folders: fills the index and returns the temp files it met.</summary>
    public List<string> Load(TableCatalog catalog)
    {
        var temps = new List<string>();
        foreach (var definition in catalog.Tables)
        {
            var tableDir = _paths.LayerTableDir(definition);
            if (!Directory.Exists(tableDir))
            {
                continue;
            }
            var roots = definition.PerSource
                ? Directory.EnumerateDirectories(tableDir, "source=*")
                    .Select(d => (Dir: d, Source: (string?)HivePath.Unescape(Path.GetFileName(d)["source=".Length..])))
                : [(tableDir, null)];
            foreach (var (dir, source) in roots)
            {
                var id = new TableId(definition, source);
                foreach (var file in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories))
                {
                    var name = Path.GetFileName(file);
                    if (name.StartsWith(DurableFile.TempPrefix, StringComparison.Ordinal))
                    {
                        temps.Add(file);
                        continue;
                    }
                    if (name != LakePaths.DataFileName)
                    {
                        continue;
                    }
                    var parts = Path.GetRelativePath(dir, file).Split(Path.DirectorySeparatorChar);
                    if (!parts[0].StartsWith("symbol=", StringComparison.Ordinal)
                        || !Symbols.TryNormalize(HivePath.Unescape(parts[0]["symbol=".Length..]), out var symbol, out _)
                        || !TryParsePartition(definition, parts[1..], out var year, out var month))
                    {
                        continue;
                    }
                    Add(id, new PartitionKey(symbol, year, month));
                }
            }
        }
        return temps;
    }

    /// <summary>(year, month) from the segments below <c>symbol=</c>, as the table is partitioned; 0 for levels it has not.</summary>
    private static bool TryParsePartition(TableDefinition table, string[] segments, out int year, out int month)
    {
        year = 0;
        month = 0;
        return table.Partitioning switch
        {
            Partitioning.Symbol => segments.Length == 1,
            Partitioning.SymbolYear => segments.Length == 2 && TryParse(segments[0], "year=", out year),
            _ => segments.Length == 3 && TryParse(segments[0], "year=", out year) && TryParse(segments[1], "month=", out month)
                && month is >= 1 and <= 12,
        };
    }

    private static bool TryParse(string segment, string prefix, out int value)
    {
        value = 0;
        return segment.StartsWith(prefix, StringComparison.Ordinal)
            && int.TryParse(segment.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
