using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// Which partitions exist, per table and symbol, held in memory so planning a query never lists
/// folders. Built once at open by one walk of the catalogue's folders (in the background: see
/// <see cref="Load"/>), updated by this process's commits and by the change feed.
/// <para>
/// The ready gate: until the walk is complete every member (reads and updates alike) waits for it, so
/// nothing is ever computed on, or added to, a partial index (docs/decisions.md D25). Past the walk the
/// gate is one volatile read.
/// </para>
/// </summary>
internal sealed class PartitionIndex
{
    private readonly LakePaths _paths;
    private readonly ConcurrentDictionary<TableId, ConcurrentDictionary<string, ImmutableSortedSet<(int Year, int Month)>>> _tables = new();
    private readonly ConcurrentDictionary<(TableId Table, string Symbol), KnownStamps> _stamps = new();
    private readonly TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _ready;

    public PartitionIndex(LakePaths paths) => _paths = paths;

    /// <summary>Completes when the walk is done (faults with its error when it failed).</summary>
    public Task Loaded => _loaded.Task;

    /// <summary>True once the walk is complete.</summary>
    public bool IsLoaded => _ready;

    /// <summary>Blocks until the walk is complete; rethrows its error when it failed.</summary>
    public void WaitLoaded()
    {
        if (!_ready)
        {
            _loaded.Task.GetAwaiter().GetResult();
        }
    }

    public IEnumerable<TableId> Tables
    {
        get
        {
            WaitLoaded();
            return _tables.Keys;
        }
    }

    /// <summary>The folders of a table: itself, or one per source for tables partitioned by source.</summary>
    public IEnumerable<TableId> TablesOf(TableDefinition table)
    {
        WaitLoaded();
        return table.PerSource
            ? _tables.Keys.Where(t => ReferenceEquals(t.Definition, table)).OrderBy(t => t.Source, StringComparer.Ordinal)
            : [new TableId(table)];
    }

    public IReadOnlyList<string> SymbolsOf(TableId table)
    {
        WaitLoaded();
        return _tables.TryGetValue(table, out var s) ? s.Where(kv => !kv.Value.IsEmpty).Select(kv => kv.Key).Order(StringComparer.Ordinal).ToArray() : [];
    }

    public ImmutableSortedSet<(int Year, int Month)> PartitionsOf(TableId table, string symbol)
    {
        WaitLoaded();
        return _tables.TryGetValue(table, out var s) && s.TryGetValue(symbol, out var set) ? set : ImmutableSortedSet<(int, int)>.Empty;
    }

    /// <summary>Partitions indexed so far (all tables); does not wait for the walk (health reports progress with it).</summary>
    public long PartitionCount => _tables.Values.Sum(t => t.Values.Sum(s => (long)s.Count));

    /// <summary>
    /// The stamps of the symbol's partition files as the walk saw them, aligned with
    /// <paramref name="partitions"/> (the set <see cref="PartitionsOf"/> returned), or null when they are
    /// not known: the symbol changed since the walk (our commit, or another process's seen through the
    /// change feed), or the set is not the one they were taken with. A compacted copy is checked against
    /// these instead of a <c>statx</c> per month file (docs/decisions.md D26): the same trust the read
    /// cache already gives the files between two change-feed polls.
    /// </summary>
    public FileStamp[]? KnownStamps(TableId table, string symbol, ImmutableSortedSet<(int Year, int Month)> partitions) =>
        _stamps.TryGetValue((table, symbol), out var known) && ReferenceEquals(known.Partitions, partitions) ? known.Stamps : null;

    public void Add(TableId table, PartitionKey key)
    {
        WaitLoaded();
        // Forgotten before the set changes: a reader holding the new set never finds the old stamps valid
        // (a commit rewriting an existing month leaves the set as it was).
        _stamps.TryRemove((table, key.Symbol), out _);
        var symbols = _tables.GetOrAdd(table, _ => new(StringComparer.Ordinal));
        symbols.AddOrUpdate(key.Symbol,
            _ => ImmutableSortedSet.Create((key.Year, key.Month)),
            (_, set) => set.Add((key.Year, key.Month)));
    }

    /// <summary>Re-lists one symbol's folders (after another process wrote it).</summary>
    public void Rescan(TableId table, string symbol)
    {
        WaitLoaded();
        _stamps.TryRemove((table, symbol), out _);
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

    /// <summary>
    /// One walk over the catalogue's folders, symbols side by side on all cores: lists the symbol and year
    /// folders and checks each partition folder for its <c>data.parquet</c> with one stat, rather than
    /// listing every month folder (half the system calls: a listing is an open, two getdents and a close).
    /// The gate stays closed until <see cref="MarkLoaded"/> or <see cref="MarkFailed"/>.
    /// </summary>
    public void Load(TableCatalog catalog)
    {
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
                var symbols = _tables.GetOrAdd(new TableId(definition, source), _ => new(StringComparer.Ordinal));
                Parallel.ForEach(Directory.EnumerateDirectories(dir, "symbol=*"), new ParallelOptions { MaxDegreeOfParallelism = Math.Max(2, Environment.ProcessorCount) },
                    symbolDir =>
                    {
                        if (!Symbols.TryNormalize(HivePath.Unescape(Path.GetFileName(symbolDir)["symbol=".Length..]), out var symbol, out _))
                        {
                            return;
                        }
                        var found = new List<((int Year, int Month) Partition, FileStamp Stamp)>();
                        ListPartitions(definition.Partitioning, symbolDir, found);
                        if (found.Count == 0)
                        {
                            return;
                        }
                        found.Sort((a, b) => a.Partition.CompareTo(b.Partition));
                        var set = ImmutableSortedSet.CreateRange(found.Select(f => f.Partition));
                        var table = new TableId(definition, source);
                        if (symbols.TryAdd(symbol, set))
                        {
                            if (set.Count == found.Count)
                            {
                                _stamps[(table, symbol)] = new KnownStamps(set, found.Select(f => f.Stamp).ToArray());
                            }
                        }
                        else
                        {
                            // Two folders naming the same symbol (escaped differently): no stamps, the union.
                            symbols.AddOrUpdate(symbol, set, (_, old) => old.Union(set));
                        }
                    });
            }
        }
    }

    /// <summary>Partitions with a data file below the symbol's folder, each with the file's stamp (one <c>statx</c>, the existence check the walk needs anyway).</summary>
    private static void ListPartitions(Partitioning partitioning, string symbolDir, List<((int Year, int Month), FileStamp)> found)
    {
        void Check(string dir, int year, int month)
        {
            var stamp = FileStamps.Of(Path.Combine(dir, LakePaths.DataFileName));
            if (stamp != default)
            {
                found.Add(((year, month), stamp));
            }
        }
        if (partitioning == Partitioning.Symbol)
        {
            Check(symbolDir, 0, 0);
            return;
        }
        foreach (var yearDir in Directory.EnumerateDirectories(symbolDir, "year=*"))
        {
            if (!TryParse(Path.GetFileName(yearDir), "year=", out var year))
            {
                continue;
            }
            if (partitioning == Partitioning.SymbolYear)
            {
                Check(yearDir, year, 0);
                continue;
            }
            foreach (var monthDir in Directory.EnumerateDirectories(yearDir, "month=*"))
            {
                if (TryParse(Path.GetFileName(monthDir), "month=", out var month) && month is >= 1 and <= 12)
                {
                    Check(monthDir, year, month);
                }
            }
        }
    }

    /// <summary>
    /// Every temp file under the catalogue's folders (a full listing; run after the gate is open). The listing
    /// takes at most about <paramref name="dutyCycle"/> of one core: it pauses between symbol folders, so the
    /// first reads after a start (a cold scan of 240,000 month folders' lake) keep the cores.
    /// </summary>
    public List<string> FindTemps(TableCatalog catalog, double dutyCycle = 1.0)
    {
        var temps = new List<string>();
        var busy = System.Diagnostics.Stopwatch.StartNew();
        foreach (var definition in catalog.Tables)
        {
            var tableDir = _paths.LayerTableDir(definition);
            if (!Directory.Exists(tableDir))
            {
                continue;
            }
            temps.AddRange(Directory.EnumerateFiles(tableDir, DurableFile.TempPrefix + "*", SearchOption.TopDirectoryOnly));
            foreach (var dir in Directory.EnumerateDirectories(tableDir))
            {
                temps.AddRange(Directory.EnumerateFiles(dir, DurableFile.TempPrefix + "*", SearchOption.AllDirectories));
                if (dutyCycle < 1.0 && busy.ElapsedMilliseconds >= 5)
                {
                    // Worked 5+ ms: rest so the work stays near its share of a core.
                    Thread.Sleep(TimeSpan.FromMilliseconds(busy.Elapsed.TotalMilliseconds * (1 - dutyCycle) / dutyCycle));
                    busy.Restart();
                }
            }
        }
        return temps;
    }

    /// <summary>Opens the gate: the index is complete.</summary>
    public void MarkLoaded()
    {
        _ready = true;
        _loaded.TrySetResult();
    }

    /// <summary>The walk failed: every reader gets this error rather than a partial answer.</summary>
    public void MarkFailed(Exception error) => _loaded.TrySetException(error);

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

/// <summary>Stamps of a symbol's partition files, aligned with the partition set they were taken with.</summary>
internal sealed record KnownStamps(ImmutableSortedSet<(int Year, int Month)> Partitions, FileStamp[] Stamps);
