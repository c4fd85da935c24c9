using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Storage;

/// <summary>
/// A large read at an older version (a full scan, many symbols' histories; larger than a quarter of the run cache): the
/// row groups it needs are decoded ahead on all cores (<see cref="DecodeAhead"/>), in the order the stream reaches them, into no cache, and each output batch
/// is one copy of the groups' slices (decisions D38). Symbol entries hold the latest rows only, so the current
/// version's cache cannot serve such a read, and decoding it run by run on one thread went at a third of a current scan.
/// </summary>
public sealed partial class LakeStore
{
    /// <summary>Row groups a read at an older version touches from which it decodes them ahead (fewer: by runs, through the caches).</summary>
    internal const int ReadAheadGroups = 8;

    /// <summary>The symbols a read covers with the runs it touches, and the row groups of those runs in the order the read first needs them.</summary>
    private sealed record AheadPlan(List<(string Symbol, FileRun[] Runs)> Symbols, (DataFile File, int Group)[] Groups,
        Dictionary<(string File, int Group), int> Index, int[] LastUse);

    /// <summary>Groups decoded ahead of the stream and not taken yet, at most.</summary>
    private static int AheadWindow => Math.Max(4, 4 * Environment.ProcessorCount);

    /// <summary>The plan of a read that touches at least <see cref="ReadAheadGroups"/> row groups and more rows than a quarter of the run cache holds, else null.</summary>
    private AheadPlan? PlanAhead(TableState state, TableQuery query)
    {
        var table = state.Definition;
        var (from, to) = Days(query);
        var symbols = new List<(string Symbol, FileRun[] Runs)>();
        var runs = 0;
        foreach (var symbol in query.Symbols.Count > 0 ? query.Symbols : state.SymbolList)
        {
            var touched = state.RunsOf(symbol).Where(r => r.Overlaps(from, to)).ToArray();
            if (touched.Length > 0)
            {
                symbols.Add((symbol, touched));
                runs += touched.Length;
            }
        }
        // A read the run cache can hold a few times over goes by runs: its runs stay warm for the next read of that
        // version (what a repeated backtest does), within the cache's small slice for runs. A larger one would only
        // churn that slice: it is decoded ahead, in parallel, and kept nowhere.
        if (runs < ReadAheadGroups || symbols.Sum(s => s.Runs.Sum(r => (long)r.Count)) * ReadCache.EstimatedRowBytes <= _cache.Runs.BudgetBytes / 4)
        {
            return null;
        }
        var index = new Dictionary<(string File, int Group), int>();
        var groups = new List<(DataFile File, int Group)>();
        var lastUse = new List<int>();
        for (var s = 0; s < symbols.Count; s++)
        {
            foreach (var run in symbols[s].Runs)
            {
                var directory = _cache.Directories.Get(table, run.File);
                var (first, end) = directory.RowGroupsOf(run.Start, run.Count);
                for (var g = first; g < end; g++)
                {
                    if (index.TryGetValue((run.File.Name, g), out var i))
                    {
                        lastUse[i] = s;
                        continue;
                    }
                    index.Add((run.File.Name, g), groups.Count);
                    groups.Add((run.File, g));
                    lastUse.Add(s);
                }
            }
        }
        return groups.Count < ReadAheadGroups ? null : new AheadPlan(symbols, [.. groups], index, [.. lastUse]);
    }

    private IEnumerable<RecordBatch> ReadAhead(TableState state, Schema schema, TableQuery query, AheadPlan plan, CancellationToken cancellationToken)
    {
        var table = state.Definition;
        var indices = schema.FieldsList.Select(f => table.Schema.GetFieldIndex(f.Name, StringComparer.Ordinal)).ToArray();
        var dateColumn = table.Schema.GetFieldIndex(table.DateColumn, StringComparer.Ordinal);
        var (from, to) = Days(query);
        var remaining = query.Limit > 0 ? query.Limit : long.MaxValue;
        var target = Math.Max(1, Options.TargetBatchRows);
        using var ahead = new DecodeAhead(plan.Groups.Length, i => DecodeGroup(table, plan.Groups[i]), AheadWindow, Environment.ProcessorCount,
            cancellationToken);
        var output = new List<RecordBatch>();
        var outputRows = 0;
        for (var s = 0; s < plan.Symbols.Count && remaining > 0; s++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (_, runs) = plan.Symbols[s];
            var parts = new List<RecordBatch>();
            var sorted = true;
            var lastMax = int.MinValue;
            foreach (var run in runs)
            {
                var directory = _cache.Directories.Get(table, run.File);
                foreach (var slice in SegmentFiles.GroupSlices(directory, run.Start, run.Count, g => ahead.Take(plan.Index[(run.File.Name, g)])))
                {
                    var rows = ArrowConcat.SliceByDate(slice, dateColumn, from, to);
                    if (rows.Length > 0)
                    {
                        parts.Add(rows);
                    }
                }
                sorted &= run.MinDay > lastMax;
                lastMax = Math.Max(lastMax, run.MaxDay);
            }
            if (parts.Count > 1 && (!sorted || table.PerSource))
            {
                // Runs whose dates interleave (rows inserted out of order, or several sources): one merge by key.
                parts = [UpsertMerge.Combine(table, parts)];
            }
            foreach (var run in runs)
            {
                var (first, end) = _cache.Directories.Get(table, run.File).RowGroupsOf(run.Start, run.Count);
                for (var g = first; g < end; g++)
                {
                    var i = plan.Index[(run.File.Name, g)];
                    if (plan.LastUse[i] == s)
                    {
                        ahead.Drop(i);
                    }
                }
            }
            foreach (var part in parts)
            {
                var batch = part.Length > remaining ? part.Slice(0, (int)remaining) : part;
                remaining -= batch.Length;
                batch = ArrowConcat.Project(batch, schema, indices);
                while (batch.Length > 0)
                {
                    var take = Math.Min(batch.Length, target - outputRows);
                    output.Add(take == batch.Length ? batch : batch.Slice(0, take));
                    outputRows += take;
                    batch = batch.Slice(take, batch.Length - take);
                    if (outputRows == target)
                    {
                        yield return Emit(output);
                        output.Clear();
                        outputRows = 0;
                    }
                }
                if (remaining == 0)
                {
                    break;
                }
            }
        }
        if (output.Count > 0)
        {
            yield return Emit(output);
        }

        // One slice goes out as it is (it holds its decoded group until the client has it); several, as one copy.
        static RecordBatch Emit(List<RecordBatch> parts) => parts.Count == 1 ? parts[0] : ArrowConcat.ConcatenateManaged(parts);
    }

    /// <summary>One row group of a file, whole: from the row-group cache when a read put it there, else decoded (and not put there).</summary>
    private RecordBatch DecodeGroup(Core.Tables.TableDefinition table, (DataFile File, int Group) group)
    {
        var directory = _cache.Directories.Get(table, group.File);
        var start = directory.RowGroupStarts[group.Group];
        return _cache.Groups.Get(table.Id + "/" + group.File.Name, group.Group)
            ?? SegmentFiles.ReadRows(_files.StorePath(table, group.File.Name), table, directory, start, directory.RowGroupStarts[group.Group + 1] - start);
    }
}
