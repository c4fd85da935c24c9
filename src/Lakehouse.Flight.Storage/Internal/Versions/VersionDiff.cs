using Apache.Arrow;
using Apache.Arrow.Types;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// What changed in one symbol's rows between two versions of a table: a merge of both versions' rows (each in key
/// order) by key. A row is <c>added</c> (only in the newer), <c>removed</c> (only in the older) or <c>changed</c> (a
/// compared column differs: lineage such as <c>ingested_at</c> alone does not count). The diff's schema: <c>change</c>,
/// the key columns, then <c>old_&lt;c&gt;</c> and <c>new_&lt;c&gt;</c> for every other column (null on the side that has no row).
/// </summary>
internal static class VersionDiff
{
    public const string ChangeColumn = "change";

    public static Schema SchemaOf(TableDefinition table)
    {
        var fields = new List<Field> { new(ChangeColumn, StringType.Default, nullable: false) };
        fields.AddRange(table.Key.Select(k => table.Schema.GetFieldByName(k)));
        foreach (var f in ValueFields(table))
        {
            fields.Add(new Field("old_" + f.Name, f.DataType, nullable: true));
            fields.Add(new Field("new_" + f.Name, f.DataType, nullable: true));
        }
        return new Schema(fields, null);
    }

    /// <summary>The diff of one symbol's rows (both in key order, the table's full schema); null when nothing changed.</summary>
    public static RecordBatch? Of(TableDefinition table, Schema schema, RecordBatch older, RecordBatch newer)
    {
        var key = table.Key.Select(k => table.Schema.GetFieldIndex(k, StringComparer.Ordinal)).ToArray();
        var values = ValueFields(table).Select(f => table.Schema.GetFieldIndex(f.Name, StringComparer.Ordinal)).ToArray();
        var compared = table.ComparedColumns.Select(c => table.Schema.GetFieldIndex(c, StringComparer.Ordinal)).Where(c => !key.Contains(c)).ToArray();
        var changes = new List<string>();
        var keyPicks = new List<RowRef>();
        var oldPicks = new List<RowRef>();
        var newPicks = new List<RowRef>();
        const int Row = 0, Missing = 1;
        int i = 0, j = 0;
        while (i < older.Length || j < newer.Length)
        {
            var c = i >= older.Length ? 1 : j >= newer.Length ? -1 : CompareKeys(older, i, newer, j, key);
            if (c < 0)
            {
                changes.Add("removed");
                keyPicks.Add(new RowRef(0, i));
                oldPicks.Add(new RowRef(Row, i++));
                newPicks.Add(new RowRef(Missing, 0));
            }
            else if (c > 0)
            {
                changes.Add("added");
                keyPicks.Add(new RowRef(1, j));
                oldPicks.Add(new RowRef(Missing, 0));
                newPicks.Add(new RowRef(Row, j++));
            }
            else
            {
                if (!ArrowRows.SameValues(older, i, newer, j, compared))
                {
                    changes.Add("changed");
                    keyPicks.Add(new RowRef(1, j));
                    oldPicks.Add(new RowRef(Row, i));
                    newPicks.Add(new RowRef(Row, j));
                }
                i++;
                j++;
            }
        }
        if (changes.Count == 0)
        {
            return null;
        }
        var keySchema = new Schema(key.Select(k => table.Schema.GetFieldByIndex(k)), null);
        var valueSchema = new Schema(values.Select(v => table.Schema.GetFieldByIndex(v)), null);
        var nulls = NullRow(valueSchema);
        var keys = ArrowRows.Take(keySchema, [ArrowConcat.Project(older, keySchema, key), ArrowConcat.Project(newer, keySchema, key)],
            keyPicks.ToArray());
        var olds = ArrowRows.Take(valueSchema, [ArrowConcat.Project(older, valueSchema, values), nulls], oldPicks.ToArray());
        var news = ArrowRows.Take(valueSchema, [ArrowConcat.Project(newer, valueSchema, values), nulls], newPicks.ToArray());
        var change = new StringArray.Builder();
        foreach (var c in changes)
        {
            change.Append(c);
        }
        var arrays = new List<IArrowArray> { change.Build() };
        for (var k = 0; k < key.Length; k++)
        {
            arrays.Add(keys.Column(k));
        }
        for (var v = 0; v < values.Length; v++)
        {
            arrays.Add(olds.Column(v));
            arrays.Add(news.Column(v));
        }
        return new RecordBatch(schema, arrays, changes.Count);
    }

    private static IEnumerable<Field> ValueFields(TableDefinition table) =>
        table.Schema.FieldsList.Where(f => !table.Key.Contains(f.Name, StringComparer.Ordinal));

    private static int CompareKeys(RecordBatch a, int i, RecordBatch b, int j, int[] key)
    {
        foreach (var k in key)
        {
            var c = (a.Column(k), b.Column(k)) switch
            {
                (StringArray x, StringArray y) => x.GetBytes(i).SequenceCompareTo(y.GetBytes(j)),
                (Date32Array x, Date32Array y) => x.Values[i].CompareTo(y.Values[j]),
                (Int32Array x, Int32Array y) => x.Values[i].CompareTo(y.Values[j]),
                (Int64Array x, Int64Array y) => x.Values[i].CompareTo(y.Values[j]),
                (TimestampArray x, TimestampArray y) => x.Values[i].CompareTo(y.Values[j]),
                var (x, _) => throw new NotSupportedException($"no key comparison for {x.Data.DataType.Name}"),
            };
            if (c != 0)
            {
                return c;
            }
        }
        return 0;
    }

    /// <summary>One row of nulls in <paramref name="schema"/>: what the side without a row shows.</summary>
    private static RecordBatch NullRow(Schema schema)
    {
        var arrays = schema.FieldsList.Select(f => f.DataType switch
        {
            StringType => (IArrowArray)new StringArray.Builder().AppendNull().Build(),
            Date32Type => new Date32Array.Builder().AppendNull().Build(),
            DoubleType => new DoubleArray.Builder().AppendNull().Build(),
            Int64Type => new Int64Array.Builder().AppendNull().Build(),
            Int32Type => new Int32Array.Builder().AppendNull().Build(),
            TimestampType t => new TimestampArray.Builder(t).AppendNull().Build(),
            var t => throw new NotSupportedException($"no null row for {t.Name}"),
        }).ToArray();
        return new RecordBatch(schema, arrays, 1);
    }
}
