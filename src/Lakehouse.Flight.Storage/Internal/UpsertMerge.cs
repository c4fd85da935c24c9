using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>What merging an upload into one partition gives: the new file's rows (null when nothing changed) and the counts.</summary>
internal sealed record MergeResult(RecordBatch? Merged, long Inserted, long Updated, long Unchanged);

/// <summary>
/// The merge rules of a write, as pure functions of (the partition's current rows, the incoming rows):
/// no I/O, no locks, so each rule is testable alone. Both batches are in the table's schema; the
/// incoming rows belong to the partition and have unique keys (the store checks both before).
/// </summary>
internal static class UpsertMerge
{
    /// <summary>
    /// One row per key: an incoming row whose key is new is inserted; one whose compared columns
    /// (all but lineage) differ replaces the old row (updated); an identical one is unchanged and the
    /// old row, with its old lineage, stays. The result is sorted by key.
    /// </summary>
    public static MergeResult Upsert(TableDefinition table, RecordBatch? existing, RecordBatch incoming)
    {
        existing ??= RecordBatches.Empty(table.Schema);
        var batches = new[] { existing, incoming };
        var keys = KeyColumns(table);
        var compared = ColumnsOf(table).Compared;
        var byKey = new Dictionary<RowRef, int>(existing.Length, new RowEquality(batches, keys));
        for (var i = 0; i < existing.Length; i++)
        {
            byKey[new RowRef(0, i)] = i;
        }
        var replaced = new bool[existing.Length];
        var picks = new List<RowRef>(existing.Length + incoming.Length);
        long inserted = 0, updated = 0, unchanged = 0;
        for (var j = 0; j < incoming.Length; j++)
        {
            var row = new RowRef(1, j);
            if (!byKey.TryGetValue(row, out var i))
            {
                inserted++;
                picks.Add(row);
            }
            else if (ArrowRows.SameValues(existing, i, incoming, j, compared))
            {
                unchanged++;
            }
            else
            {
                updated++;
                replaced[i] = true;
                picks.Add(row);
            }
        }
        if (inserted + updated == 0)
        {
            return new MergeResult(null, 0, 0, unchanged);
        }
        for (var i = 0; i < existing.Length; i++)
        {
            if (!replaced[i])
            {
                picks.Add(new RowRef(0, i));
            }
        }
        return new MergeResult(Sorted(table, batches, picks, thenBy: []), inserted, updated, unchanged);
    }

    /// <summary>
    /// Raw landing: incoming rows are appended unless a row with the same values (all but lineage) is
    /// already in the existing rows or earlier in the upload; nothing is ever replaced. Sorted by key, then
    /// by when rows landed.
    /// </summary>
    public static MergeResult Append(TableDefinition table, RecordBatch? existing, RecordBatch incoming)
    {
        existing ??= RecordBatches.Empty(table.Schema);
        var batches = new[] { existing, incoming };
        var seen = new HashSet<RowRef>(new RowEquality(batches, ColumnsOf(table).Compared));
        var picks = new List<RowRef>(existing.Length + incoming.Length);
        for (var i = 0; i < existing.Length; i++)
        {
            seen.Add(new RowRef(0, i));
            picks.Add(new RowRef(0, i));
        }
        long inserted = 0, unchanged = 0;
        for (var j = 0; j < incoming.Length; j++)
        {
            if (seen.Add(new RowRef(1, j)))
            {
                inserted++;
                picks.Add(new RowRef(1, j));
            }
            else
            {
                unchanged++;
            }
        }
        if (inserted == 0)
        {
            return new MergeResult(null, 0, 0, unchanged);
        }
        return new MergeResult(Sorted(table, batches, picks, LandingOrder(table)), inserted, 0, unchanged);
    }

    /// <summary>
    /// The upsert's classification without the merged rows: incoming rows whose key is new (inserted), whose compared
    /// columns differ from the existing row (updated: the new values), and how many are unchanged.
    /// </summary>
    public static (RecordBatch Inserted, RecordBatch Updated, long Unchanged) Classify(TableDefinition table, RecordBatch existing, RecordBatch incoming)
    {
        var batches = new[] { existing, incoming };
        var keys = KeyColumns(table);
        var compared = ColumnsOf(table).Compared;
        // A few rows (a daily append's monthly bar against the month's, once per symbol) are compared pairwise: the
        // dictionary cost more than the comparisons.
        Dictionary<RowRef, int>? byKey = null;
        if ((long)existing.Length * incoming.Length > 64)
        {
            byKey = new Dictionary<RowRef, int>(existing.Length, new RowEquality(batches, keys));
            for (var i = 0; i < existing.Length; i++)
            {
                byKey[new RowRef(0, i)] = i;
            }
        }
        var inserted = new List<RowRef>();
        var updated = new List<RowRef>();
        long unchanged = 0;
        for (var j = 0; j < incoming.Length; j++)
        {
            var row = new RowRef(1, j);
            if (!(byKey is null ? TryFind(existing, incoming, j, keys, out var i) : byKey.TryGetValue(row, out i)))
            {
                inserted.Add(row);
            }
            else if (ArrowRows.SameValues(existing, i, incoming, j, compared))
            {
                unchanged++;
            }
            else
            {
                updated.Add(row);
            }
        }
        return (Pick(table, batches, inserted), Pick(table, batches, updated), unchanged);
    }

    private static bool TryFind(RecordBatch existing, RecordBatch incoming, int j, int[] keys, out int found)
    {
        for (var i = 0; i < existing.Length; i++)
        {
            if (ArrowRows.SameValues(existing, i, incoming, j, keys))
            {
                found = i;
                return true;
            }
        }
        found = -1;
        return false;
    }

    /// <summary>
    /// <paramref name="existing"/> (one symbol's rows, sorted by key, unique keys) with <paramref name="changed"/> (rows
    /// with unique keys, in any order) put in: a changed row replaces the existing row of its key or goes where its key
    /// sorts. What <see cref="Upsert"/> gives for rows known to differ, in time linear in the existing rows (a binary
    /// search per changed row, then one copy of each column in runs): a commit splices every symbol it touched into
    /// the cache with it. The result owns fresh managed buffers.
    /// </summary>
    public static RecordBatch Splice(TableDefinition table, RecordBatch existing, RecordBatch changed)
    {
        var keys = KeyColumns(table);
        if (!IsSorted(changed, keys))
        {
            changed = Sorted(table, [changed], Enumerable.Range(0, changed.Length).Select(r => new RowRef(0, r)).ToList(), thenBy: []);
        }
        var parts = new List<RecordBatch>();
        var i = 0;
        var runStart = 0;
        for (var j = 0; j < changed.Length; j++)
        {
            // The first existing row not before changed row j: the rows up to it go first.
            int lo = i, hi = existing.Length;
            while (lo < hi)
            {
                var mid = (lo + hi) >>> 1;
                if (CompareRows(existing, mid, changed, j, keys) < 0)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }
            if (lo > i)
            {
                if (j > runStart)
                {
                    parts.Add(changed.Slice(runStart, j - runStart));
                    runStart = j;
                }
                parts.Add(existing.Slice(i, lo - i));
            }
            i = lo < existing.Length && CompareRows(existing, lo, changed, j, keys) == 0 ? lo + 1 : lo;
        }
        if (changed.Length > runStart)
        {
            parts.Add(changed.Slice(runStart, changed.Length - runStart));
        }
        if (i < existing.Length)
        {
            parts.Add(existing.Slice(i, existing.Length - i));
        }
        return ArrowConcat.ConcatenateManaged(parts);
    }

    /// <summary>Rows under which the last chunk of a symbol entry takes appended rows in (copied with them).</summary>
    internal const int TailChunkRows = 512;

    /// <summary>
    /// <see cref="Splice(TableDefinition, RecordBatch, RecordBatch)"/> over an entry in chunks (date-sorted, following
    /// each other): rows after the last key go into the last chunk while it is small (else into a new one), so a daily
    /// append copies at most <see cref="TailChunkRows"/> rows, not the symbol's history; other rows are spliced into
    /// only the chunks their keys fall in.
    /// </summary>
    public static IReadOnlyList<RecordBatch> Splice(TableDefinition table, IReadOnlyList<RecordBatch> chunks, RecordBatch changed)
    {
        var keys = KeyColumns(table);
        if (!IsSorted(changed, keys))
        {
            changed = Sorted(table, [changed], Enumerable.Range(0, changed.Length).Select(r => new RowRef(0, r)).ToList(), thenBy: []);
        }
        var first = 0;
        while (first < chunks.Count && (chunks[first].Length == 0 || CompareRows(chunks[first], chunks[first].Length - 1, changed, 0, keys) < 0))
        {
            first++;
        }
        var result = new List<RecordBatch>(chunks.Count + 1);
        if (first == chunks.Count)
        {
            // Every changed row comes after the entry's rows: an append.
            var last = chunks.Count == 0 ? null : chunks[^1];
            if (last is not null && last.Length < TailChunkRows)
            {
                result.AddRange(chunks.Take(chunks.Count - 1));
                result.Add(ArrowConcat.ConcatenateManaged([last, changed]));
            }
            else
            {
                result.AddRange(chunks);
                result.Add(ArrowConcat.ConcatenateManaged([changed]));
            }
            return result;
        }
        var end = first;
        while (end + 1 < chunks.Count && chunks[end + 1].Length > 0 && CompareRows(chunks[end + 1], 0, changed, changed.Length - 1, keys) <= 0)
        {
            end++;
        }
        var merged = end == first ? chunks[first] : ArrowConcat.Concatenate(chunks.Skip(first).Take(end - first + 1).ToArray());
        result.AddRange(chunks.Take(first));
        result.Add(Splice(table, merged, changed));
        result.AddRange(chunks.Skip(end + 1));
        return result;
    }

    private static bool IsSorted(RecordBatch rows, int[] keys)
    {
        for (var r = 1; r < rows.Length; r++)
        {
            if (CompareRows(rows, r - 1, rows, r, keys) >= 0)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// The raw landing's new rows: incoming rows with no identical row (all but lineage) already there or earlier in
    /// the upload, in incoming order, and how many were already there.
    /// </summary>
    public static (RecordBatch Fresh, long Unchanged) AppendNew(TableDefinition table, RecordBatch? existing, RecordBatch incoming)
    {
        existing ??= RecordBatches.Empty(table.Schema);
        var batches = new[] { existing, incoming };
        var seen = new HashSet<RowRef>(new RowEquality(batches, ColumnsOf(table).Compared));
        for (var i = 0; i < existing.Length; i++)
        {
            seen.Add(new RowRef(0, i));
        }
        var fresh = new List<RowRef>();
        long unchanged = 0;
        for (var j = 0; j < incoming.Length; j++)
        {
            if (seen.Add(new RowRef(1, j)))
            {
                fresh.Add(new RowRef(1, j));
            }
            else
            {
                unchanged++;
            }
        }
        return (fresh.Count == incoming.Length ? incoming : Pick(table, batches, fresh), unchanged);
    }

    private static RecordBatch Pick(TableDefinition table, RecordBatch[] batches, List<RowRef> rows) =>
        rows.Count == 0 ? RecordBatches.Empty(table.Schema)
        // Every incoming row, in order (an append's new days, a correction's rows): the batch itself, not a copy.
        : rows.Count == batches[1].Length && IsAllOf(rows, 1)
            ? batches[1]
            : ArrowRows.Take(table.Schema, batches, rows.ToArray());

    private static bool IsAllOf(List<RowRef> rows, int source)
    {
        for (var i = 0; i < rows.Count; i++)
        {
            if (rows[i] != new RowRef(source, i))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Rows of several batches (one symbol of several sources) in one batch ordered by key, then source and landing time.</summary>
    public static RecordBatch Combine(TableDefinition table, IReadOnlyList<RecordBatch> batches)
    {
        var picks = new List<RowRef>();
        for (var s = 0; s < batches.Count; s++)
        {
            for (var i = 0; i < batches[s].Length; i++)
            {
                picks.Add(new RowRef(s, i));
            }
        }
        return Sorted(table, batches, picks, LandingOrder(table));
    }

    /// <summary>Positions of the key columns after symbol (the date, then any others).</summary>
    public static int[] KeyColumns(TableDefinition table) => ColumnsOf(table).Key;

    private static int[] LandingOrder(TableDefinition table) => ColumnsOf(table).Landing;

    /// <summary>
    /// A table's column positions, found once per table: Arrow's lookup by name compares with the current culture (ICU),
    /// ~0.5 s of a 20,000-symbol day when asked per symbol.
    /// </summary>
    private static TableColumns ColumnsOf(TableDefinition table) => Positions.GetValue(table, static t =>
    {
        int[] Indices(IEnumerable<string> columns) => [.. columns.Select(c => t.Schema.GetFieldIndex(c, StringComparer.Ordinal))];
        return new TableColumns(
            Indices(t.Key.Skip(1)),
            Indices(t.ComparedColumns),
            Indices(new[] { TableDefinition.SourceColumn, TableDefinition.IngestedAtColumn }.Where(c => t.Schema.FieldsList.Any(f => f.Name == c))));
    });

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<TableDefinition, TableColumns> Positions = [];

    private sealed record TableColumns(int[] Key, int[] Compared, int[] Landing);

    private static RecordBatch Sorted(TableDefinition table, IReadOnlyList<RecordBatch> batches, List<RowRef> picks, int[] thenBy)
    {
        var array = picks.ToArray();
        Sort(batches, array, [.. KeyColumns(table), .. thenBy]);
        return ArrowRows.Take(table.Schema, batches, array);
    }

    /// <summary>Picks put in <see cref="Combine"/>'s order: by key, then source and landing time; ties keep their pick order.</summary>
    public static void SortCombined(TableDefinition table, IReadOnlyList<RecordBatch> batches, Span<RowRef> picks) =>
        Sort(batches, picks, [.. KeyColumns(table), .. LandingOrder(table)]);

    /// <summary>Compares two rows of one symbol by the key after the symbol (the date, then any other key columns).</summary>
    public static int CompareKeys(TableDefinition table, RecordBatch a, int i, RecordBatch b, int j) => CompareRows(a, i, b, j, KeyColumns(table));

    private static void Sort(IReadOnlyList<RecordBatch> batches, Span<RowRef> picks, int[] order)
    {
        var array = picks.ToArray();
        var index = new int[array.Length];
        for (var i = 0; i < index.Length; i++)
        {
            index[i] = i;
        }
        System.Array.Sort(index, (x, y) =>
        {
            var c = CompareRows(batches[array[x].Source], array[x].Row, batches[array[y].Source], array[y].Row, order);
            // Ties keep their pick order: the sort is stable.
            return c != 0 ? c : x.CompareTo(y);
        });
        for (var i = 0; i < index.Length; i++)
        {
            picks[i] = array[index[i]];
        }
    }

    private static int CompareRows(RecordBatch a, int i, RecordBatch b, int j, int[] columns)
    {
        foreach (var c in columns)
        {
            var x = a.Column(c);
            var y = b.Column(c);
            var xn = x.IsNull(i);
            var yn = y.IsNull(j);
            if (xn || yn)
            {
                if (xn != yn)
                {
                    return xn ? -1 : 1;
                }
                continue;
            }
            var r = (x, y) switch
            {
                (Date32Array s, Date32Array t) => s.Values[i].CompareTo(t.Values[j]),
                (StringArray s, StringArray t) => s.GetBytes(i).SequenceCompareTo(t.GetBytes(j)),
                (TimestampArray s, TimestampArray t) => s.Values[i].CompareTo(t.Values[j]),
                (Int64Array s, Int64Array t) => s.Values[i].CompareTo(t.Values[j]),
                (Int32Array s, Int32Array t) => s.Values[i].CompareTo(t.Values[j]),
                (DoubleArray s, DoubleArray t) => s.Values[i].CompareTo(t.Values[j]),
                _ => 0,
            };
            if (r != 0)
            {
                return r;
            }
        }
        return 0;
    }
}
