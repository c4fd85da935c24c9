using Lakehouse.Flight.Core;
using Apache.Arrow;
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
        var compared = Indices(table, table.ComparedColumns);
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
    /// already in the partition or earlier in the upload; nothing is ever replaced. Sorted by key, then
    /// by when rows landed.
    /// </summary>
    public static MergeResult Append(TableDefinition table, RecordBatch? existing, RecordBatch incoming)
    {
        existing ??= RecordBatches.Empty(table.Schema);
        var batches = new[] { existing, incoming };
        var seen = new HashSet<RowRef>(new RowEquality(batches, Indices(table, table.ComparedColumns)));
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
        var compared = Indices(table, table.ComparedColumns);
        var byKey = new Dictionary<RowRef, int>(existing.Length, new RowEquality(batches, keys));
        for (var i = 0; i < existing.Length; i++)
        {
            byKey[new RowRef(0, i)] = i;
        }
        var inserted = new List<RowRef>();
        var updated = new List<RowRef>();
        long unchanged = 0;
        for (var j = 0; j < incoming.Length; j++)
        {
            var row = new RowRef(1, j);
            if (!byKey.TryGetValue(row, out var i))
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

    /// <summary>
    /// The raw landing's new rows: incoming rows with no identical row (all but lineage) already there or earlier in
    /// the upload, in incoming order, and how many were already there.
    /// </summary>
    public static (RecordBatch Fresh, long Unchanged) AppendNew(TableDefinition table, RecordBatch? existing, RecordBatch incoming)
    {
        existing ??= RecordBatches.Empty(table.Schema);
        var batches = new[] { existing, incoming };
        var seen = new HashSet<RowRef>(new RowEquality(batches, Indices(table, table.ComparedColumns)));
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
        rows.Count == 0 ? RecordBatches.Empty(table.Schema) : ArrowRows.Take(table.Schema, batches, rows.ToArray());

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
    public static int[] KeyColumns(TableDefinition table) => Indices(table, table.Key.Skip(1).ToArray());

    private static int[] LandingOrder(TableDefinition table) =>
        Indices(table, new[] { "source", "ingested_at" }.Where(c => table.Schema.GetFieldIndex(c) >= 0).ToArray());

    private static int[] Indices(TableDefinition table, IReadOnlyList<string> columns) =>
        columns.Select(c => table.Schema.GetFieldIndex(c)).ToArray();

    private static RecordBatch Sorted(TableDefinition table, IReadOnlyList<RecordBatch> batches, List<RowRef> picks, int[] thenBy)
    {
        var order = KeyColumns(table).Concat(thenBy).ToArray();
        var array = picks.ToArray();
        var position = new Dictionary<RowRef, int>(array.Length);
        for (var i = 0; i < array.Length; i++)
        {
            position[array[i]] = i;
        }
        System.Array.Sort(array, (x, y) =>
        {
            var c = CompareRows(batches[x.Source], x.Row, batches[y.Source], y.Row, order);
            // Ties keep their pick order: the sort is stable.
            return c != 0 ? c : position[x].CompareTo(position[y]);
        });
        return ArrowRows.Take(table.Schema, batches, array);
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
