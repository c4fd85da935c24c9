using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using Lakehouse.Flight.Core;

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

    public IEnumerable<TableId> TablesOf(Layer layer, string table) =>
        _tables.Keys.Where(t => t.Layer == layer && t.Table == table).OrderBy(t => t.Source, StringComparer.Ordinal);

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
                var rel = Path.GetRelativePath(dir, file).Split(Path.DirectorySeparatorChar);
                if (rel.Length == 3 && TryParse(rel[0], "year=", out var y) && TryParse(rel[1], "month=", out var m))
                {
                    set.Add((y, m));
                }
            }
        }
        _tables.GetOrAdd(table, _ => new(StringComparer.Ordinal))[symbol] = set.ToImmutable();
    }

    /// <summary>One walk over the lake: fills the index and returns the temp files it met.</summary>
    public List<string> Load()
    {
        var temps = new List<string>();
        foreach (var layer in new[] { Layer.Bronze, Layer.Silver })
        {
            var layerDir = Path.Combine(_paths.Root, Layers.Name(layer));
            if (!Directory.Exists(layerDir))
            {
                continue;
            }
            foreach (var tableDir in Directory.EnumerateDirectories(layerDir))
            {
                var table = Path.GetFileName(tableDir);
                foreach (var file in Directory.EnumerateFiles(tableDir, "*", SearchOption.AllDirectories))
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
                    var parts = Path.GetRelativePath(tableDir, file).Split(Path.DirectorySeparatorChar);
                    string? source = null;
                    var i = 0;
                    if (layer == Layer.Bronze)
                    {
                        if (parts.Length != 5 || !parts[0].StartsWith("source=", StringComparison.Ordinal))
                        {
                            continue;
                        }
                        source = HivePath.Unescape(parts[0]["source=".Length..]);
                        i = 1;
                    }
                    else if (parts.Length != 4)
                    {
                        continue;
                    }
                    if (!parts[i].StartsWith("symbol=", StringComparison.Ordinal)
                        || !Symbols.TryNormalize(HivePath.Unescape(parts[i]["symbol=".Length..]), out var symbol, out _)
                        || !TryParse(parts[i + 1], "year=", out var year) || !TryParse(parts[i + 2], "month=", out var month)
                        || month is < 1 or > 12)
                    {
                        continue;
                    }
                    Add(new TableId(layer, table, source), new PartitionKey(symbol, year, month));
                }
            }
        }
        return temps;
    }

    private static bool TryParse(string segment, string prefix, out int value)
    {
        value = 0;
        return segment.StartsWith(prefix, StringComparison.Ordinal)
            && int.TryParse(segment.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
