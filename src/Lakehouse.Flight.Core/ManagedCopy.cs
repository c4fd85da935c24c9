using System.Runtime.CompilerServices;
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

    /// <summary>
    /// The batches' rows in one batch of fresh managed buffers, or, with <paramref name="scratch"/>, of buffers carved
    /// from it: valid only until the scratch's next use (a transient window computed from and dropped, with no garbage).
    /// </summary>
    public static RecordBatch Concatenate(Schema schema, IReadOnlyList<RecordBatch> batches, BatchScratch? scratch = null)
    {
        scratch?.Reset();
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
            arrays[c] = Column(schema.FieldsList[c].DataType, parts, length, scratch);
        }
        return new RecordBatch(schema, arrays, length);
    }

    private static IArrowArray Column(IArrowType type, IArrowArray[] parts, int length, BatchScratch? scratch)
    {
        var (validity, nulls) = Validity(parts, length, scratch);
        switch (type)
        {
            case StringType:
                return Strings(parts, length, validity, nulls, scratch);
            case Date32Type:
                return new Date32Array(Values<int>(parts, length, scratch), validity, length, nulls, 0);
            case DoubleType:
                return new DoubleArray(Values<double>(parts, length, scratch), validity, length, nulls, 0);
            case Int64Type:
                return new Int64Array(Values<long>(parts, length, scratch), validity, length, nulls, 0);
            case Int32Type:
                return new Int32Array(Values<int>(parts, length, scratch), validity, length, nulls, 0);
            case TimestampType t:
                return new TimestampArray(t, Values<long>(parts, length, scratch), validity, length, nulls, 0);
            default:
                throw new NotSupportedException($"no copy for {type.Name}");
        }
    }

    private static ArrowBuffer Values<T>(IArrowArray[] parts, int length, BatchScratch? scratch)
        where T : struct, IEquatable<T>
    {
        // Unsafe.SizeOf, not Marshal.SizeOf: the latter is a runtime lookup (a tenth of a daily append's copies).
        var bytes = Bytes(length * Unsafe.SizeOf<T>(), scratch, zeroed: false);
        var values = MemoryMarshal.Cast<byte, T>(bytes.Span);
        var at = 0;
        foreach (var p in parts)
        {
            var span = ((PrimitiveArray<T>)p).Values;
            span.CopyTo(values[at..]);
            at += span.Length;
        }
        return new ArrowBuffer(bytes);
    }

    private static StringArray Strings(IArrowArray[] parts, int length, ArrowBuffer validity, int nulls, BatchScratch? scratch)
    {
        long bytes = 0;
        foreach (var p in parts)
        {
            var s = (StringArray)p;
            var offsets = s.ValueOffsets;
            bytes += offsets[s.Length] - offsets[0];
        }
        var data = Bytes(checked((int)bytes), scratch, zeroed: false);
        var offsetBytes = Bytes((length + 1) * sizeof(int), scratch, zeroed: false);
        var outOffsets = MemoryMarshal.Cast<byte, int>(offsetBytes.Span);
        var row = 0;
        var at = 0;
        foreach (var p in parts)
        {
            var s = (StringArray)p;
            var offsets = s.ValueOffsets;
            var first = offsets[0];
            var size = offsets[s.Length] - first;
            s.Values.Slice(first, size).CopyTo(data.Span[at..]);
            for (var i = 0; i < s.Length; i++)
            {
                outOffsets[row++] = at + offsets[i] - first;
            }
            at += size;
        }
        outOffsets[length] = at;
        return new StringArray(length, new ArrowBuffer(offsetBytes), new ArrowBuffer(data), validity, nulls, 0);
    }

    private static (ArrowBuffer Bits, int Nulls) Validity(IArrowArray[] parts, int length, BatchScratch? scratch)
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
        var memory = Bytes((length + 7) / 8, scratch, zeroed: true);
        var bits = memory.Span;
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
        return (new ArrowBuffer(memory), nulls);
    }

    /// <summary>
    /// A buffer of <paramref name="size"/> bytes: from the scratch, else a fresh array (every byte written by the
    /// caller unless <paramref name="zeroed"/>: no zeroing of what is overwritten anyway).
    /// </summary>
    private static Memory<byte> Bytes(int size, BatchScratch? scratch, bool zeroed)
    {
        if (scratch is not null)
        {
            return scratch.Take(size, zeroed);
        }
        return zeroed ? new byte[size] : GC.AllocateUninitializedArray<byte>(size);
    }
}

/// <summary>
/// Memory that <see cref="Concatenate"/> carves a batch's buffers from, reused by its next call: a loop that builds a
/// short-lived batch per item (a daily append's gold window of each of 20,000 symbols) allocates nothing after its
/// first items. One per thread; a batch from it is valid until its next call.
/// </summary>
public sealed class BatchScratch
{
    private byte[] _arena = new byte[64 << 10];
    private int _used;

    /// <summary>
    /// One batch holding the rows of <paramref name="batches"/> (same schema, of the table types: utf8, date32, float64,
    /// int64, int32, timestamp), in this scratch's memory: valid only until the next call. A single batch is returned as it is.
    /// </summary>
    public RecordBatch Concatenate(IReadOnlyList<RecordBatch> batches)
    {
        ArgumentNullException.ThrowIfNull(batches);
        return batches.Count == 1 ? batches[0] : ManagedCopy.Concatenate(batches[0].Schema, batches, this);
    }

    internal void Reset() => _used = 0;

    internal Memory<byte> Take(int size, bool zeroed)
    {
        // 64-byte aligned starts, as Arrow lays out buffers.
        var start = (_used + 63) & ~63;
        if (start + size > _arena.Length)
        {
            // The buffers already handed out keep the old array alive; the next batch starts in the larger one.
            _arena = GC.AllocateUninitializedArray<byte>(Math.Max(_arena.Length * 2, size + 64));
            start = 0;
        }
        _used = start + size;
        var memory = _arena.AsMemory(start, size);
        if (zeroed)
        {
            memory.Span.Clear();
        }
        return memory;
    }
}
