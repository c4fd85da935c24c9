using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;
using Apache.Arrow;
using Lakehouse.Flight.Core.Tables;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// Keeps every band of a table in few large files (docs/decisions.md D35), tiered so that a row is rewritten a few
/// times, not once per merge (D52). Small files (appends, a day of bars) merge four of about one size at a time; full
/// files merge four of one run tier (rows per symbol: four days of every symbol, sixteen, ...) once they overlap in
/// symbols, into files cut by symbol. Rows never change, only files, so the caches keep their entries. A pass holds
/// no writer lock while it reads and encodes; its commit fails over to the next pass when a write replaced one of its
/// files meanwhile.
/// </summary>
internal sealed class Compactor(TableCatalog catalog, LakeMetadata metadata, FileStore files, Committer committer, ILogger logger)
{
    /// <summary>Files of a tier merged at once: this many small files of about one size, or this many full files of one run tier over the same symbols.</summary>
    internal const int MergeFactor = 4;

    /// <summary>A symbol's rows of a band spread over more full files than this get merged whatever their tiers (a bound the tiers keep well under).</summary>
    internal const int MaxDepth = 16;

    /// <summary>Plans a pass makes at most (each after a round that merged): a day's file climbs a tier per round.</summary>
    internal const int MaxRounds = 8;

    public async Task<CompactionResult> CompactAsync(TableDefinition? only, CancellationToken cancellationToken)
    {
        var sw = Stopwatch.StartNew();
        int filesIn = 0, filesOut = 0;
        long rows = 0, bytes = 0, conflicts = 0;
        // A merge can complete a tier above it (the fourth file of four days makes files of sixteen): planned again
        // after a round that merged, so a pass leaves nothing due; a round that only met conflicts ends the pass.
        for (var round = 0; round < MaxRounds; round++)
        {
            var merged = false;
            foreach (var table in only is null ? catalog.Tables : [only])
            {
                foreach (var set in Plan(metadata.Current.Table(table)))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var start = sw.ElapsedMilliseconds;
                    var written = new List<StagedFile>();
                    long setRows = 0;
                    try
                    {
                        foreach (var window in MergeWindows(table, set, cancellationToken))
                        {
                            setRows += window.Length;
                            foreach (var chunk in FileSizing.Chunks(window))
                            {
                                written.Add(files.Write(table, set[0].Band, set[0].Source, chunk, temp: true));
                            }
                        }
                        if (await committer.ReplaceFilesAsync(table, written, set.Select(f => f.Name).ToArray(), "compact", cancellationToken)
                            .ConfigureAwait(false) is null)
                        {
                            conflicts++;
                            written.ForEach(w => DurableFile.TryDelete(w.Path));
                            continue;
                        }
                    }
                    catch
                    {
                        written.ForEach(w => DurableFile.TryDelete(w.Path));
                        throw;
                    }
                    filesIn += set.Count;
                    filesOut += written.Count;
                    rows += setRows;
                    bytes += written.Sum(w => w.File.Bytes);
                    StorageLog.Compacted(logger, table.Id, set.Count, written.Count, setRows, written.Sum(w => w.File.Bytes), sw.ElapsedMilliseconds - start);
                    merged = true;
                }
            }
            if (!merged)
            {
                break;
            }
        }
        return new CompactionResult(filesIn, filesOut, rows, bytes, conflicts, sw.ElapsedMilliseconds);
    }

    /// <summary>
    /// The files' rows merged in windows of whole symbols of about <see cref="FileSizing.TargetRows"/> rows, in symbol
    /// order: each window reads from every file only its symbols' rows (row groups decoded once each, dropped once the
    /// window has passed them), so a pass holds a window and a row group per file, never the set, however many files
    /// overlap (docs/decisions.md D36).
    /// </summary>
    internal IEnumerable<RecordBatch> MergeWindows(TableDefinition table, List<DataFile> set, CancellationToken cancellationToken)
    {
        var directories = set.Select(f => metadata.Directories.Get(table, f)).ToArray();
        var paths = set.Select(f => files.StorePath(table, f.Name)).ToArray();
        var positions = new int[set.Count];
        var groups = set.Select(_ => new Dictionary<int, RecordBatch>()).ToArray();
        var remaining = set.Sum(f => f.Rows);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // The window: the next symbols in order across the files, until it holds about a full file of rows, or
            // all of them when less than half a file would be left (no small tail file for the next pass to merge).
            var ends = (int[])positions.Clone();
            long rows = 0;
            string? last = null;
            while (rows < FileSizing.TargetRows || remaining - rows < FileSizing.TargetRows / 2)
            {
                string? next = null;
                for (var i = 0; i < set.Count; i++)
                {
                    if (ends[i] < directories[i].Symbols.Length && (next is null || string.CompareOrdinal(directories[i].Symbols[ends[i]], next) < 0))
                    {
                        next = directories[i].Symbols[ends[i]];
                    }
                }
                if (next is null)
                {
                    break;
                }
                for (var i = 0; i < set.Count; i++)
                {
                    if (ends[i] < directories[i].Symbols.Length && directories[i].Symbols[ends[i]] == next)
                    {
                        rows += directories[i].Counts[ends[i]];
                        ends[i]++;
                    }
                }
                last = next;
            }
            if (last is null)
            {
                yield break;
            }
            remaining -= rows;
            var parts = new List<RecordBatch>();
            for (var i = 0; i < set.Count; i++)
            {
                if (ends[i] == positions[i])
                {
                    continue;
                }
                var d = directories[i];
                var from = d.Starts[positions[i]];
                var to = d.Starts[ends[i] - 1] + d.Counts[ends[i] - 1];
                parts.Add(ReadRange(table, paths[i], d, from, to, groups[i]));
                // Row groups wholly before the file's next window are done with.
                foreach (var g in groups[i].Keys.Where(g => d.RowGroupStarts[g + 1] <= to).ToList())
                {
                    groups[i].Remove(g);
                }
                positions[i] = ends[i];
            }
            yield return Merge(table, parts);
        }
    }

    private static RecordBatch ReadRange(TableDefinition table, string path, SymbolDirectory d, int from, int to, Dictionary<int, RecordBatch> groups) =>
        SegmentFiles.FromGroups(d, from, to - from, g => groups.TryGetValue(g, out var group) ? group
            : groups[g] = SegmentFiles.ReadRows(path, table, d, d.RowGroupStarts[g], d.RowGroupStarts[g + 1] - d.RowGroupStarts[g]));

    /// <summary>
    /// The sets of files to merge, per source and band, tiered so that a row is rewritten a few times in its life, not
    /// once per merge (docs/decisions.md D52). In the newest band of a table (or source): small files (under
    /// <see cref="FileSizing.SmallRows"/>) merge when <see cref="MergeFactor"/> of them are of about the same size or
    /// smaller (sizes in powers of 4), or when they make a full file together; full files merge with files of the same
    /// <em>run tier</em> (rows per symbol in powers of 4: a day of every symbol, four days, sixteen, ...) once
    /// <see cref="MergeFactor"/> of that tier hold the same symbols, or their symbol ranges overlap deeper than that
    /// (D35's rule, within a tier). Four files of four days become files of sixteen, not the band's whole year again.
    /// Should a cluster still be more than <see cref="MaxDepth"/> deep, whatever its tiers, it merges whole. A band
    /// older than the newest is closed: with nothing due by tiers, a cluster of it in which a symbol lies in more than
    /// 4 files merges into files of the whole band, once; failing that, its small files merge together.
    /// </summary>
    internal static List<List<DataFile>> Plan(TableState state)
    {
        var sets = new List<List<DataFile>>();
        // Clusters whose merge depends on how many of their files hold one symbol (not only their names' ranges):
        // decided together below, from the index. Closing: the closed band's small files, merged together if no
        // cluster of its band is.
        var candidates = new List<(List<DataFile> Cluster, int Need, List<DataFile>? Closing)>();
        var hotDays = state.Definition.HotDays;
        var newestBand = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var f in state.Files.Values)
        {
            var source = f.Source ?? "";
            newestBand[source] = Math.Max(newestBand.GetValueOrDefault(source, int.MinValue), f.Band);
        }
        var closing = new List<List<DataFile>>();
        foreach (var group in state.Files.Values.GroupBy(f => (f.Source, f.Band)))
        {
            var closed = group.Key.Band < newestBand[group.Key.Source ?? ""];
            // A band's small files of its newest days stay as they are while those rows still change (HotDays); a
            // closed band's rows no longer do.
            var newest = group.Max(f => f.MaxDay);
            var all = BySymbol(group.Where(f => closed || hotDays == 0 || f.Rows >= FileSizing.SmallRows || f.MinDay <= newest - hotDays));
            var before = sets.Count + candidates.Count;
            PlanTiers(all, sets, candidates);
            if (closed && sets.Count + candidates.Count == before)
            {
                // A closed band with nothing due by tiers: no new day will land in it, so where a symbol lies in more
                // than 4 of its files (small ones included: a year's tiers stop three deep each), the cluster merges
                // into files of the whole band; failing that, its small files merge together. A year a few files deep
                // stays: merging it would cost a copy kept as history for little.
                var small = all.Where(f => f.Rows < FileSizing.SmallRows).ToList();
                closing.Add(small);
                foreach (var cluster in Clusters(all))
                {
                    // A symbol lies in no more files than the ranges overlap: only clusters deeper than 4 by their
                    // ranges need the index's count (so a pass over old years of ingest chunks does not sweep it).
                    if (cluster.Count > MergeFactor && Depth(cluster) > MergeFactor)
                    {
                        candidates.Add((cluster, MergeFactor + 1, small));
                    }
                }
            }
        }
        var merged = new HashSet<List<DataFile>>(ReferenceEqualityComparer.Instance);
        if (candidates.Count > 0)
        {
            var shared = SharedDepths(state, [.. candidates.Select(c => c.Cluster)]);
            for (var i = 0; i < candidates.Count; i++)
            {
                if (shared[i] >= candidates[i].Need)
                {
                    sets.Add(candidates[i].Cluster);
                    if (candidates[i].Closing is { } small)
                    {
                        merged.Add(small);
                    }
                }
            }
        }
        foreach (var small in closing)
        {
            if (small.Count >= 2 && !merged.Contains(small))
            {
                sets.Add(small);
            }
        }
        return sets;
    }

    /// <summary>One band's merges by tier: its small files by size, its full files by run tier, and the 16-deep bound.</summary>
    private static void PlanTiers(List<DataFile> all, List<List<DataFile>> sets, List<(List<DataFile> Cluster, int Need, List<DataFile>? Closing)> candidates)
    {
        var small = all.Where(f => f.Rows < FileSizing.SmallRows).ToList();
        if (small.Count >= 2 && small.Sum(f => f.Rows) >= FileSizing.TargetRows)
        {
            sets.Add(small);
        }
        else if (SmallOfATier(small) is { } merge)
        {
            sets.Add(merge);
        }
        var full = all.Where(f => f.Rows >= FileSizing.SmallRows).ToList();
        var bounded = new HashSet<DataFile>();
        foreach (var cluster in Clusters(full))
        {
            if (cluster.Count > 1 && Depth(cluster) > MaxDepth)
            {
                sets.Add(cluster);
                bounded.UnionWith(cluster);
            }
        }
        foreach (var tier in full.Where(f => !bounded.Contains(f)).GroupBy(RunTier))
        {
            foreach (var cluster in Clusters([.. tier]))
            {
                var depth = cluster.Count > 1 ? Depth(cluster) : 1;
                if (depth > MergeFactor)
                {
                    sets.Add(cluster);
                }
                else if (depth == MergeFactor)
                {
                    // Four files whose names' ranges interleave (chunks of an ingest) merge at five, as before; four
                    // that hold the same symbols (days of every symbol) make the next tier now.
                    candidates.Add((cluster, MergeFactor, null));
                }
            }
        }
    }

    private static List<DataFile> BySymbol(IEnumerable<DataFile> files) =>
        [.. files.OrderBy(f => f.MinSymbol, StringComparer.Ordinal).ThenBy(f => f.Name, StringComparer.Ordinal)];

    /// <summary>
    /// For each cluster, the most of its files any one symbol has rows in, from the state's index (one pass over every
    /// symbol's runs); without an index (a state not yet indexed), the depth of the files' symbol ranges.
    /// </summary>
    private static int[] SharedDepths(TableState state, List<List<DataFile>> clusters)
    {
        var depths = new int[clusters.Count];
        if (state.Symbols is not { } index)
        {
            for (var c = 0; c < clusters.Count; c++)
            {
                depths[c] = Depth(clusters[c]);
            }
            return depths;
        }
        var clusterOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var c = 0; c < clusters.Count; c++)
        {
            foreach (var f in clusters[c])
            {
                clusterOf[f.Name] = c;
            }
        }
        var count = new int[clusters.Count];
        var symbolOf = new int[clusters.Count];
        var symbol = 0;
        foreach (var runs in index.Values)
        {
            symbol++;
            foreach (var run in runs)
            {
                if (clusterOf.TryGetValue(run.File.Name, out var c))
                {
                    if (symbolOf[c] != symbol)
                    {
                        symbolOf[c] = symbol;
                        count[c] = 0;
                    }
                    depths[c] = Math.Max(depths[c], ++count[c]);
                }
            }
        }
        return depths;
    }

    /// <summary>
    /// The files of the smallest size tier that holds <see cref="MergeFactor"/> small files, with any smaller ones:
    /// four daily files of 2,000 rows become one of 8,000, four of those one of 32,000, so a row is rewritten once per
    /// tier. Merging every small file once there were four rewrote the growing one every few days (a 500-symbol lake's
    /// daily rows ~11 times before they made a full file). Files under 1,024 rows are one tier: rewriting them costs
    /// nothing, and a correction's single row or a month's bars are not left lying about.
    /// </summary>
    internal static List<DataFile>? SmallOfATier(List<DataFile> small)
    {
        var tier = small.GroupBy(f => SizeTier(f.Rows)).Where(g => g.Count() >= MergeFactor).Select(g => (int?)g.Key).Min();
        return tier is null ? null
            : [.. small.Where(f => SizeTier(f.Rows) <= tier).OrderBy(f => f.MinSymbol, StringComparer.Ordinal).ThenBy(f => f.Name, StringComparer.Ordinal)];
    }

    /// <summary>A small file's size tier: 0 under 1,024 rows, then powers of 4 (1: 1,024-4,095 rows, 2: 4,096-16,383, ...).</summary>
    internal static int SizeTier(long rows) => Math.Max(0, PowerOf4(rows) - 4);

    /// <summary>The tier of a full file by its rows per symbol (a day of every symbol: 0; four days: 1; sixteen: 2; sixty-four: 3; a trading year of ~252 days is still 3, a closed band's merge ends it).</summary>
    internal static int RunTier(DataFile file) => PowerOf4(file.Rows / Math.Max(1, file.Symbols));

    /// <summary>Whole powers of 4 in a count: 1-3 are 0, 4-15 are 1, 16-63 are 2, ...</summary>
    internal static int PowerOf4(long count) => count < 4 ? 0 : (BitOperations.Log2((ulong)count) / 2);

    /// <summary>Files whose symbol ranges overlap, transitively (files sorted by first symbol).</summary>
    private static IEnumerable<List<DataFile>> Clusters(List<DataFile> sorted)
    {
        var current = new List<DataFile>();
        string? end = null;
        foreach (var f in sorted)
        {
            if (current.Count > 0 && string.CompareOrdinal(f.MinSymbol, end) > 0)
            {
                yield return current;
                current = [];
                end = null;
            }
            current.Add(f);
            end = end is null || string.CompareOrdinal(f.MaxSymbol, end) > 0 ? f.MaxSymbol : end;
        }
        if (current.Count > 0)
        {
            yield return current;
        }
    }

    /// <summary>The most files any one symbol range point lies in.</summary>
    private static int Depth(List<DataFile> cluster)
    {
        var events = cluster.SelectMany(f => new[] { (Symbol: f.MinSymbol, Delta: 1), (Symbol: f.MaxSymbol, Delta: -1) })
            .OrderBy(e => e.Symbol, StringComparer.Ordinal).ThenByDescending(e => e.Delta).ToList();
        int depth = 0, max = 0;
        foreach (var e in events)
        {
            depth += e.Delta;
            max = Math.Max(max, depth);
        }
        return max;
    }

    /// <summary>
    /// Sorted inputs merged into one sorted batch, gathered once: symbol by symbol, the inputs' rows of a symbol are
    /// taken in key order. Where their key ranges do not interleave (files of different days: a tier's merge) that is
    /// each input's rows in turn, ordered by their first key; otherwise they are sorted as <see cref="UpsertMerge.Combine"/>
    /// orders them (key, then landing order for raw tables). A batch per symbol cost more than the rows of files that
    /// hold a few rows a symbol (D52).
    /// </summary>
    internal static RecordBatch Merge(TableDefinition table, List<RecordBatch> inputs)
    {
        if (inputs.Count == 1)
        {
            return inputs[0];
        }
        var directories = inputs.Select(b => SegmentFiles.DirectoryOf(table, b)).ToArray();
        var positions = new int[inputs.Count];
        var picks = new List<RowRef>(inputs.Sum(b => b.Length));
        var slices = new List<(int Input, int Start, int Count)>(inputs.Count);
        while (true)
        {
            string? next = null;
            for (var i = 0; i < inputs.Count; i++)
            {
                if (positions[i] < directories[i].Symbols.Length
                    && (next is null || string.CompareOrdinal(directories[i].Symbols[positions[i]], next) < 0))
                {
                    next = directories[i].Symbols[positions[i]];
                }
            }
            if (next is null)
            {
                break;
            }
            slices.Clear();
            for (var i = 0; i < inputs.Count; i++)
            {
                var p = positions[i];
                if (p < directories[i].Symbols.Length && directories[i].Symbols[p] == next)
                {
                    slices.Add((i, directories[i].Starts[p], directories[i].Counts[p]));
                    positions[i]++;
                }
            }
            var first = picks.Count;
            var ordered = slices.Count == 1 || InKeyOrder(table, inputs, slices);
            if (!ordered)
            {
                // Sorted below, ties in input order (InKeyOrder has reordered the slices by their first keys).
                slices.Sort((x, y) => x.Input.CompareTo(y.Input));
            }
            foreach (var (input, start, count) in slices)
            {
                for (var r = start; r < start + count; r++)
                {
                    picks.Add(new RowRef(input, r));
                }
            }
            if (!ordered)
            {
                UpsertMerge.SortCombined(table, inputs, CollectionsMarshal.AsSpan(picks)[first..]);
            }
        }
        return ArrowRows.Take(table.Schema, inputs, CollectionsMarshal.AsSpan(picks));
    }

    /// <summary>
    /// Orders one symbol's slices by their first key and says whether each ends before the next begins (no key of one
    /// lies within another's), so that their rows one slice after another are in key order with no ties.
    /// </summary>
    private static bool InKeyOrder(TableDefinition table, List<RecordBatch> inputs, List<(int Input, int Start, int Count)> slices)
    {
        // Insertion sort: a symbol has a slice in each of a few inputs.
        for (var a = 1; a < slices.Count; a++)
        {
            var slice = slices[a];
            var b = a - 1;
            while (b >= 0 && UpsertMerge.CompareKeys(table, inputs[slices[b].Input], slices[b].Start, inputs[slice.Input], slice.Start) > 0)
            {
                slices[b + 1] = slices[b];
                b--;
            }
            slices[b + 1] = slice;
        }
        for (var a = 1; a < slices.Count; a++)
        {
            var (prev, start, count) = slices[a - 1];
            if (UpsertMerge.CompareKeys(table, inputs[prev], start + count - 1, inputs[slices[a].Input], slices[a].Start) >= 0)
            {
                return false;
            }
        }
        return true;
    }
}
