using Apache.Arrow;
using Apache.Arrow.Types;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>A row of one of several batches (a merge picks rows from the old file and the upload).</summary>
internal readonly record struct RowRef(int Source, int Row);

/// <summary>Row-level plumbing over the table types (utf8, date32, float64, int64, int32, timestamp): gather, compare, hash.</summary>
internal static class ArrowRows
{
    public static readonly int UnixEpochDay = DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;

    public static int DayNumber(DateOnly d) => d.DayNumber - UnixEpochDay;

    /// <summary>A new batch of <paramref name="schema"/> holding the picked rows, in pick order.</summary>
    public static RecordBatch Take(Schema schema, IReadOnlyList<RecordBatch> sources, ReadOnlySpan<RowRef> picks)
    {
        var arrays = new IArrowArray[schema.FieldsList.Count];
        var columns = new IArrowArray[sources.Count];
        for (var c = 0; c < arrays.Length; c++)
        {
            for (var s = 0; s < sources.Count; s++)
            {
                columns[s] = sources[s].Column(c);
            }
            arrays[c] = TakeColumn(schema.FieldsList[c].DataType, columns, picks);
        }
        return new RecordBatch(schema, arrays, picks.Length);
    }

    private static IArrowArray TakeColumn(IArrowType type, IArrowArray[] columns, ReadOnlySpan<RowRef> picks)
    {
        switch (type)
        {
            case StringType:
                {
                    var b = new StringArray.Builder();
                    foreach (var p in picks)
                    {
                        var a = (StringArray)columns[p.Source];
                        if (a.IsNull(p.Row))
                        {
                            b.AppendNull();
                        }
                        else
                        {
                            b.Append(a.GetBytes(p.Row));
                        }
                    }
                    return b.Build();
                }
            case Date32Type:
                return TakePrimitive<int>(columns, picks, (v, bits, n, nulls) => new Date32Array(v, bits, n, nulls, 0));
            case DoubleType:
                return TakePrimitive<double>(columns, picks, (v, bits, n, nulls) => new DoubleArray(v, bits, n, nulls, 0));
            case Int64Type:
                return TakePrimitive<long>(columns, picks, (v, bits, n, nulls) => new Int64Array(v, bits, n, nulls, 0));
            case Int32Type:
                return TakePrimitive<int>(columns, picks, (v, bits, n, nulls) => new Int32Array(v, bits, n, nulls, 0));
            case TimestampType t:
                return TakePrimitive<long>(columns, picks, (v, bits, n, nulls) => new TimestampArray(t, v, bits, n, nulls, 0));
            default:
                throw new NotSupportedException($"no gather for {type.Name}");
        }
    }

    private static IArrowArray TakePrimitive<T>(IArrowArray[] columns, ReadOnlySpan<RowRef> picks, Func<ArrowBuffer, ArrowBuffer, int, int, IArrowArray> build)
        where T : struct, IEquatable<T>
    {
        var values = new T[picks.Length];
        var bits = new byte[(picks.Length + 7) / 8];
        var nulls = 0;
        for (var i = 0; i < picks.Length; i++)
        {
            var a = (PrimitiveArray<T>)columns[picks[i].Source];
            var row = picks[i].Row;
            if (a.IsNull(row))
            {
                nulls++;
                continue;
            }
            values[i] = a.Values[row];
            bits[i >> 3] |= (byte)(1 << (i & 7));
        }
        var data = new ArrowBuffer(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
        return build(data, nulls == 0 ? ArrowBuffer.Empty : new ArrowBuffer(bits), picks.Length, nulls);
    }

    /// <summary>True when the cells of <paramref name="columns"/> are equal (nulls equal nulls; doubles by <c>Equals</c>, so NaN = NaN).</summary>
    public static bool SameValues(RecordBatch a, int i, RecordBatch b, int j, int[] columns)
    {
        foreach (var c in columns)
        {
            if (!SameCell(a.Column(c), i, b.Column(c), j))
            {
                return false;
            }
        }
        return true;
    }

    private static bool SameCell(IArrowArray x, int i, IArrowArray y, int j)
    {
        var xn = x.IsNull(i);
        if (xn || y.IsNull(j))
        {
            return xn && y.IsNull(j);
        }
        return (x, y) switch
        {
            (StringArray s, StringArray t) => s.GetBytes(i).SequenceEqual(t.GetBytes(j)),
            (DoubleArray s, DoubleArray t) => s.Values[i].Equals(t.Values[j]),
            (Int64Array s, Int64Array t) => s.Values[i] == t.Values[j],
            (Int32Array s, Int32Array t) => s.Values[i] == t.Values[j],
            (Date32Array s, Date32Array t) => s.Values[i] == t.Values[j],
            (TimestampArray s, TimestampArray t) => s.Values[i] == t.Values[j],
            _ => throw new NotSupportedException($"no comparison for {x.Data.DataType.Name}"),
        };
    }

    public static int HashOf(RecordBatch batch, int row, int[] columns)
    {
        var h = new HashCode();
        foreach (var c in columns)
        {
            var a = batch.Column(c);
            if (a.IsNull(row))
            {
                h.Add(0x5bd1e995);
                continue;
            }
            switch (a)
            {
                case StringArray s:
                    h.AddBytes(s.GetBytes(row));
                    break;
                case DoubleArray d:
                    h.Add(d.Values[row]);
                    break;
                case Int64Array l:
                    h.Add(l.Values[row]);
                    break;
                case Int32Array x:
                    h.Add(x.Values[row]);
                    break;
                case Date32Array d32:
                    h.Add(d32.Values[row]);
                    break;
                case TimestampArray t:
                    h.Add(t.Values[row]);
                    break;
            }
        }
        return h.ToHashCode();
    }
}

/// <summary>Rows of several batches as hash-set members, equal when the given columns are equal.</summary>
internal sealed class RowEquality(IReadOnlyList<RecordBatch> batches, int[] columns) : IEqualityComparer<RowRef>
{
    public bool Equals(RowRef x, RowRef y) => ArrowRows.SameValues(batches[x.Source], x.Row, batches[y.Source], y.Row, columns);

    public int GetHashCode(RowRef obj) => ArrowRows.HashOf(batches[obj.Source], obj.Row, columns);
}
