using System.Collections.Concurrent;
using System.Collections.Immutable;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// The symbol directories of data files, loaded once per file (from its footer, or handed over by the writer that
/// encoded it) and shared by every state holding the file: files never change.
/// </summary>
internal sealed class DirectoryCache(Func<TableDefinition, DataFile, SymbolDirectory> load)
{
    private readonly ConcurrentDictionary<(string Table, string Name), SymbolDirectory> _directories = new();

    public SymbolDirectory Get(TableDefinition table, DataFile file) =>
        _directories.GetOrAdd((table.Id, file.Name), _ => load(table, file));

    public void Put(TableDefinition table, DataFile file, SymbolDirectory directory) => _directories[(table.Id, file.Name)] = directory;

    public void Forget(string table, string name) => _directories.TryRemove((table, name), out _);

    public int Count => _directories.Count;
}

/// <summary>
/// One table at one version: its data files, and per symbol the runs of rows it has in them (from the files'
/// directories), ordered by band, then first date. Immutable: a commit makes a new state; a reader holding one
/// sees the table as of that version whatever commits follow (the files it names are kept at least for the
/// retention period).
/// </summary>
internal sealed class TableState
{
    private string[]? _symbolList;

    private TableState(TableDefinition definition, long version, ImmutableDictionary<string, DataFile> files,
        ImmutableSortedDictionary<string, ImmutableArray<FileRun>>? symbols)
    {
        Definition = definition;
        Version = version;
        Files = files;
        Symbols = symbols;
    }

    /// <summary>A table without files; <paramref name="indexed"/> false for the open's first state (its index is built once every directory is loaded).</summary>
    public static TableState Empty(TableDefinition definition, bool indexed = true) =>
        new(definition, 0, ImmutableDictionary<string, DataFile>.Empty.WithComparers(StringComparer.Ordinal),
            indexed ? ImmutableSortedDictionary<string, ImmutableArray<FileRun>>.Empty.WithComparers(StringComparer.Ordinal) : null);

    public TableDefinition Definition { get; }

    /// <summary>The last version that changed this table (0: never written).</summary>
    public long Version { get; }

    public ImmutableDictionary<string, DataFile> Files { get; }

    /// <summary>Symbol → runs; null until the files' directories are loaded (the open's background pass).</summary>
    public ImmutableSortedDictionary<string, ImmutableArray<FileRun>>? Symbols { get; }

    public bool Indexed => Symbols is not null;

    public long Rows => Files.Values.Sum(f => f.Rows);

    /// <summary>Symbols with rows, ordinal order.</summary>
    public IReadOnlyList<string> SymbolList => _symbolList ??= [.. Index.Keys];

    public ImmutableArray<FileRun> RunsOf(string symbol) => Index.TryGetValue(symbol, out var runs) ? runs : [];

    /// <summary>Sources with files (per-source tables), ordinal order.</summary>
    public IReadOnlyList<string> Sources => Files.Values.Select(f => f.Source).OfType<string>().Distinct().Order(StringComparer.Ordinal).ToArray();

    private ImmutableSortedDictionary<string, ImmutableArray<FileRun>> Index =>
        Symbols ?? throw new InvalidOperationException("the table's file directories are not loaded yet");

    /// <summary>The same files with the symbol index built from their directories (loaded through <paramref name="directories"/>).</summary>
    public TableState WithIndex(DirectoryCache directories)
    {
        // Two passes, so every symbol's runs go into an array of their exact size (no list grown run by run, no copy
        // after): at an open of the 104M-row lake that is ~1.5M runs, and the grows and copies were most of the index's time.
        var files = Files.Values.ToArray();
        var loaded = new SymbolDirectory[files.Length];
        var slotsOf = new int[files.Length][];
        var slots = new Dictionary<string, int>(StringComparer.Ordinal);
        var sizes = new List<int>();
        for (var f = 0; f < files.Length; f++)
        {
            var directory = loaded[f] = directories.Get(Definition, files[f]);
            var fileSlots = slotsOf[f] = new int[directory.Symbols.Length];
            for (var i = 0; i < fileSlots.Length; i++)
            {
                ref var slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(slots, directory.Symbols[i], out var known);
                if (!known)
                {
                    slot = sizes.Count;
                    sizes.Add(0);
                }
                fileSlots[i] = slot;
                System.Runtime.InteropServices.CollectionsMarshal.AsSpan(sizes)[slot]++;
            }
        }
        var runs = new FileRun[sizes.Count][];
        for (var s = 0; s < runs.Length; s++)
        {
            runs[s] = new FileRun[sizes[s]];
        }
        var filled = new int[runs.Length];
        for (var f = 0; f < files.Length; f++)
        {
            var directory = loaded[f];
            var fileSlots = slotsOf[f];
            for (var i = 0; i < fileSlots.Length; i++)
            {
                var slot = fileSlots[i];
                runs[slot][filled[slot]++] = new FileRun(files[f], directory.Starts[i], directory.Counts[i], directory.MinDays[i], directory.MaxDays[i]);
            }
        }
        var builder = ImmutableSortedDictionary.CreateBuilder<string, ImmutableArray<FileRun>>(StringComparer.Ordinal);
        foreach (var (symbol, slot) in slots)
        {
            builder[symbol] = Sort(runs[slot]);
        }
        return new TableState(Definition, Version, Files, builder.ToImmutable());
    }

    /// <summary>The state after one commit's change to this table.</summary>
    public TableState Apply(TableChange change, long version, DirectoryCache directories)
    {
        var files = Files.ToBuilder();
        var touched = new Dictionary<string, List<FileRun>>(StringComparer.Ordinal);
        var removed = new HashSet<string>(change.Remove, StringComparer.Ordinal);
        foreach (var name in change.Remove)
        {
            if (files.TryGetValue(name, out var old))
            {
                files.Remove(name);
                if (Symbols is not null)
                {
                    foreach (var symbol in directories.Get(Definition, old).Symbols)
                    {
                        touched.TryAdd(symbol, null!);
                    }
                }
            }
        }
        foreach (var file in change.Add)
        {
            files[file.Name] = file;
        }
        ImmutableSortedDictionary<string, ImmutableArray<FileRun>>? symbols = null;
        if (Symbols is not null)
        {
            var added = new Dictionary<string, List<FileRun>>(StringComparer.Ordinal);
            foreach (var file in change.Add)
            {
                AddRuns(added, file, directories.Get(Definition, file));
            }
            var builder = Symbols.ToBuilder();
            foreach (var symbol in touched.Keys.Union(added.Keys))
            {
                var list = !builder.TryGetValue(symbol, out var current) ? []
                    : removed.Count == 0 ? [.. current]
                    : current.Where(r => !removed.Contains(r.File.Name)).ToList();
                if (added.TryGetValue(symbol, out var more))
                {
                    list.AddRange(more);
                }
                if (list.Count == 0)
                {
                    builder.Remove(symbol);
                }
                else
                {
                    builder[symbol] = Sort(list);
                }
            }
            symbols = builder.ToImmutable();
        }
        var changedRows = change.Symbols.Count > 0 || change.Add.Count > 0 || change.Remove.Count > 0;
        return new TableState(Definition, changedRows ? version : Version, files.ToImmutable(), symbols);
    }

    private static void AddRuns(Dictionary<string, List<FileRun>> runs, DataFile file, SymbolDirectory directory)
    {
        for (var i = 0; i < directory.Symbols.Length; i++)
        {
            var symbol = directory.Symbols[i];
            if (!runs.TryGetValue(symbol, out var list))
            {
                runs[symbol] = list = [];
            }
            list.Add(new FileRun(file, directory.Starts[i], directory.Counts[i], directory.MinDays[i], directory.MaxDays[i]));
        }
    }

    private static ImmutableArray<FileRun> Sort(List<FileRun> runs)
    {
        // A symbol's runs were in order and an append adds one after them (a daily append: 20,000 symbols per table): checked
        // in one pass before sorting.
        if (!InOrder(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(runs)))
        {
            runs.Sort(Compare);
        }
        return [.. runs];
    }

    /// <summary>The runs sorted in place, and the array itself as the immutable one (it is not kept elsewhere).</summary>
    private static ImmutableArray<FileRun> Sort(FileRun[] runs)
    {
        if (!InOrder(runs))
        {
            Array.Sort(runs, Compare);
        }
        return System.Runtime.InteropServices.ImmutableCollectionsMarshal.AsImmutableArray(runs);
    }

    private static bool InOrder(ReadOnlySpan<FileRun> runs)
    {
        for (var i = 1; i < runs.Length; i++)
        {
            if (Compare(runs[i - 1], runs[i]) > 0)
            {
                return false;
            }
        }
        return true;
    }

    private static int Compare(FileRun a, FileRun b)
    {
        var c = a.File.Band.CompareTo(b.File.Band);
        if (c != 0)
        {
            return c;
        }
        c = a.MinDay.CompareTo(b.MinDay);
        return c != 0 ? c : string.CompareOrdinal(a.File.Name, b.File.Name);
    }
}

/// <summary>Every table of the lake at one version, and the superseded files still kept (retention).</summary>
internal sealed class LakeState
{
    private LakeState(long version, DateTimeOffset ts, ImmutableDictionary<string, TableState> tables, ImmutableList<Tombstone> tombstones)
    {
        Version = version;
        Ts = ts;
        Tables = tables;
        Tombstones = tombstones;
    }

    public long Version { get; }

    /// <summary>When <see cref="Version"/> was committed.</summary>
    public DateTimeOffset Ts { get; }

    /// <summary>By table id (<c>silver/prices_daily</c>).</summary>
    public ImmutableDictionary<string, TableState> Tables { get; }

    public ImmutableList<Tombstone> Tombstones { get; }

    public bool Indexed => Tables.Values.All(t => t.Indexed);

    public TableState Table(TableDefinition table) => Tables.TryGetValue(table.Id, out var t) ? t : TableState.Empty(table);

    public static LakeState Open(TableCatalog catalog, Checkpoint? checkpoint)
    {
        var tables = ImmutableDictionary.CreateBuilder<string, TableState>(StringComparer.Ordinal);
        foreach (var def in catalog.Tables)
        {
            var state = TableState.Empty(def, indexed: false);
            if (checkpoint is not null && checkpoint.Tables.TryGetValue(def.Id, out var files))
            {
                // Without directories (not indexed yet): only the file list is built here.
                state = state.Apply(new TableChange { Table = def.Id, Add = files }, checkpoint.TableVersions.GetValueOrDefault(def.Id), NoDirectories);
            }
            tables[def.Id] = state;
        }
        return new LakeState(checkpoint?.Version ?? 0, checkpoint?.Ts ?? default, tables.ToImmutable(),
            [.. checkpoint?.Tombstones ?? []]);
    }

    private static readonly DirectoryCache NoDirectories = new((_, _) => throw new InvalidOperationException("no directories while opening"));

    /// <summary>The state after <paramref name="entry"/> (the next version). Tables not in the catalogue are skipped.</summary>
    public LakeState Apply(LogEntry entry, DirectoryCache directories)
    {
        var tables = Tables.ToBuilder();
        var tombstones = Tombstones.ToBuilder();
        foreach (var change in entry.Tables)
        {
            if (!tables.TryGetValue(change.Table, out var table))
            {
                continue;
            }
            foreach (var name in change.Remove)
            {
                tombstones.Add(new Tombstone { Table = change.Table, Name = name, RemovedVersion = entry.Version, RemovedTs = entry.Ts });
            }
            tables[change.Table] = table.Apply(change, entry.Version, directories);
        }
        if (entry.Expired is { Count: > 0 } expired)
        {
            var gone = expired.ToHashSet(StringComparer.Ordinal);
            tombstones.RemoveAll(t => gone.Contains(t.Table + "/" + t.Name));
        }
        return new LakeState(entry.Version, entry.Ts, tables.ToImmutable(), tombstones.ToImmutable());
    }

    /// <summary>Every table's index built, the tables on all cores.</summary>
    public LakeState WithIndexes(DirectoryCache directories)
    {
        var tables = Tables.ToArray();
        var indexed = new TableState[tables.Length];
        Lakehouse.Flight.Core.AllCores.For(tables.Length, i =>
            indexed[i] = tables[i].Value.Indexed ? tables[i].Value : tables[i].Value.WithIndex(directories));
        return new(Version, Ts, tables.Select((kv, i) => KeyValuePair.Create(kv.Key, indexed[i]))
            .ToImmutableDictionary(StringComparer.Ordinal), Tombstones);
    }

    public Checkpoint ToCheckpoint() => new()
    {
        Version = Version,
        Ts = Ts,
        Tables = Tables.Where(kv => !kv.Value.Files.IsEmpty).ToDictionary(kv => kv.Key,
            kv => (IReadOnlyList<DataFile>)kv.Value.Files.Values.OrderBy(f => f.Name, StringComparer.Ordinal).ToArray(), StringComparer.Ordinal),
        Tombstones = Tombstones,
        TableVersions = Tables.Where(kv => kv.Value.Version > 0).ToDictionary(kv => kv.Key, kv => kv.Value.Version, StringComparer.Ordinal),
    };
}
