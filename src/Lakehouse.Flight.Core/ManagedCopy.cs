using System.Runtime.InteropServices;
using Apache.Arrow;
using Apache.Arrow.Types;

namespace Lakehouse.Flight.Core;

/// <summary>
/// Copies batches of the table types (utf8, date32, float64, int64, int32, timestamp) into one batch whose every
/// buffer is a fresh managed array: what the Parquet reader hands over lives in native memory owned by Arrow C++,
/// released as soon as the copy is made, so nothing kept (a cache entry, a decoded row group) can outlive its buffers.
/// </summary>
internal static class ManagedCopy
{
    /// <summary>Whether every column is of a type this copier handles (a table of other types uses Arrow's concatenator).</summary>
    public static bool Supports(Schema schema) =>
        schema.FieldsList.All(f => f.DataType is StringType or Date32Type or DoubleType or Int64Type or Int32Type or TimestampType);

    public static RecordBatch Concatenate(Schema schema, IReadOnlyList<RecordBatch> batches)
    {
        var length = 0;
        foreach (var b in batches)
        {
            length += b.Length;
        }
        var arrays = new IArrowArray[schema.FieldsList.Count];
        for (var c = 0; c < arrays.Length; c++)
        {
            var parts = new IArrowArray[batches.Count];
            for (var i = 0; i < parts.Length; i++)
            {
                parts[i] = batches[i].Column(c);
            }
            arrays[c] = Column(schema.FieldsList[c].DataType, parts, length);
        }
        return new RecordBatch(schema, arrays, length);
    }

    private static IArrowArray Column(IArrowType type, IArrowArray[] parts, int length)
    {
        var (validity, nulls) = Validity(parts, length);
        switch (type)
        {
            case StringType:
                return Strings(parts, length, validity, nulls);
            case Date32Type:
                return new Date32Array(Values<int>(parts, length), validity, length, nulls, 0);
            case DoubleType:
                return new DoubleArray(Values<double>(parts, length), validity, length, nulls, 0);
            case Int64Type:
                return new Int64Array(Values<long>(parts, length), validity, length, nulls, 0);
            case Int32Type:
                return new Int32Array(Values<int>(parts, length), validity, length, nulls, 0);
            case TimestampType t:
                return new TimestampArray(t, Values<long>(parts, length), validity, length, nulls, 0);
            default:
                throw new NotSupportedException($"no copy for {type.Name}");
        }
    }

    private static ArrowBuffer Values<T>(IArrowArray[] parts, int length)
        where T : struct, IEquatable<T>
    {
        var bytes = new byte[length * Marshal.SizeOf<T>()];
        var values = MemoryMarshal.Cast<byte, T>(bytes.AsSpan());
        var at = 0;
        foreach (var p in parts)
        {
            var span = ((PrimitiveArray<T>)p).Values;
            span.CopyTo(values[at..]);
            at += span.Length;
        }
        return new ArrowBuffer(bytes);
    }

    private static StringArray Strings(IArrowArray[] parts, int length, ArrowBuffer validity, int nulls)
    {
        long bytes = 0;
        foreach (var p in parts)
        {
            var s = (StringArray)p;
            var offsets = s.ValueOffsets;
            bytes += offsets[s.Length] - offsets[0];
        }
        var data = new byte[checked((int)bytes)];
        var offsetBytes = new byte[(length + 1) * sizeof(int)];
        var outOffsets = MemoryMarshal.Cast<byte, int>(offsetBytes.AsSpan());
        var row = 0;
        var at = 0;
        foreach (var p in parts)
        {
            var s = (StringArray)p;
            var offsets = s.ValueOffsets;
            var first = offsets[0];
            var size = offsets[s.Length] - first;
            s.Values.Slice(first, size).CopyTo(data.AsSpan(at));
            for (var i = 0; i < s.Length; i++)
            {
                outOffsets[row++] = at + offsets[i] - first;
            }
            at += size;
        }
        outOffsets[length] = at;
        return new StringArray(length, new ArrowBuffer(offsetBytes), new ArrowBuffer(data), validity, nulls, 0);
    }

    private static (ArrowBuffer Bits, int Nulls) Validity(IArrowArray[] parts, int length)
    {
        var nulls = 0;
        foreach (var p in parts)
        {
            nulls += p.NullCount;
        }
        if (nulls == 0)
        {
            return (ArrowBuffer.Empty, 0);
        }
        var bits = new byte[(length + 7) / 8];
        var row = 0;
        foreach (var p in parts)
        {
            for (var i = 0; i < p.Length; i++, row++)
            {
                if (!p.IsNull(i))
                {
                    bits[row >> 3] |= (byte)(1 << (row & 7));
                }
            }
        }
        return (new ArrowBuffer(bits), nulls);
    }
}
