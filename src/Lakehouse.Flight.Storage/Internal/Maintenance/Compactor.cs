using System.Diagnostics;
using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// Keeps every band of a table in few large files, in two tiers (docs/decisions.md D35). Small files (appends, a
/// day of bars) are merged with each other once there are enough of them; when so many files cover the same
/// symbols that a symbol's rows of one band are spread over more than <see cref="MaxDepth"/> files (daily appends
/// merged into files of all symbols), the overlapping files are merged into files cut by symbol. Rows never change,
/// only files, so the caches keep their entries. A pass holds no writer lock while it reads and encodes; its commit
/// fails over to the next pass when a write replaced one of its files meanwhile.
/// </summary>
internal sealed class Compactor(TableCatalog catalog, LakeMetadata metadata, FileStore files, Committer committer, ILogger logger)
{
    /// <summary>A symbol's rows of a band spread over more files than this get merged.</summary>
    internal const int MaxDepth = 4;

    /// <summary>Small files of a band merged once there are this many (or their rows make a full file).</summary>
    internal const int SmallFilesToMerge = 4;

    public async Task<CompactionResult> CompactAsync(TableDefinition? only, CancellationToken cancellationToken)
    {
        var sw = Stopwatch.StartNew();
        int filesIn = 0, filesOut = 0;
        long rows = 0, bytes = 0, conflicts = 0;
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
                    foreach (var merged in MergeWindows(table, set, cancellationToken))
                    {
                        setRows += merged.Length;
                        foreach (var chunk in FileSizing.Chunks(merged))
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
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // The window: the next symbols in order across the files, until it holds about a full file of rows.
            var ends = (int[])positions.Clone();
            long rows = 0;
            string? last = null;
            while (rows < FileSizing.TargetRows)
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

    /// <summary>The sets of files to merge, per source and band: the small ones, or a cluster of overlapping ones.</summary>
    internal static List<List<DataFile>> Plan(TableState state)
    {
        var sets = new List<List<DataFile>>();
        var hotDays = state.Definition.HotDays;
        foreach (var group in state.Files.Values.GroupBy(f => (f.Source, f.Band)))
        {
            // A band's small files of its newest days stay as they are while those rows still change (HotDays).
            var newest = group.Max(f => f.MaxDay);
            var all = group.Where(f => hotDays == 0 || f.Rows >= FileSizing.SmallRows || f.MinDay <= newest - hotDays)
                .OrderBy(f => f.MinSymbol, StringComparer.Ordinal).ThenBy(f => f.Name, StringComparer.Ordinal).ToList();
            var small = all.Where(f => f.Rows < FileSizing.SmallRows).ToList();
            if (small.Count >= SmallFilesToMerge || (small.Count >= 2 && small.Sum(f => f.Rows) >= FileSizing.TargetRows))
            {
                sets.Add(small);
                continue;
            }
            foreach (var cluster in Clusters(all))
            {
                if (cluster.Count > 1 && Depth(cluster) > MaxDepth)
                {
                    sets.Add(cluster);
                }
            }
        }
        return sets;
    }

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
    /// Sorted inputs merged into one sorted batch: symbol by symbol, a symbol only one input has is taken as it is, one
    /// several inputs have is merged by key (and landing order for raw tables).
    /// </summary>
    internal static RecordBatch Merge(TableDefinition table, List<RecordBatch> inputs)
    {
        if (inputs.Count == 1)
        {
            return inputs[0];
        }
        var directories = inputs.Select(b => SegmentFiles.DirectoryOf(table, b)).ToArray();
        var positions = new int[inputs.Count];
        var parts = new List<RecordBatch>();
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
            var slices = new List<RecordBatch>(2);
            for (var i = 0; i < inputs.Count; i++)
            {
                var p = positions[i];
                if (p < directories[i].Symbols.Length && directories[i].Symbols[p] == next)
                {
                    slices.Add(inputs[i].Slice(directories[i].Starts[p], directories[i].Counts[p]));
                    positions[i]++;
                }
            }
            parts.Add(slices.Count == 1 ? slices[0] : UpsertMerge.Combine(table, slices));
        }
        return RecordBatches.Concatenate(parts, ManagedAllocator.Instance);
    }
}
