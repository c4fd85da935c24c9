using Apache.Arrow;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>Batch plumbing: concatenate, slice by date, project, empty arrays.</summary>
internal static class ArrowConcat
{
    public static RecordBatch Concatenate(IReadOnlyList<RecordBatch> batches) => RecordBatches.Concatenate(batches);

    /// <summary>One batch on the managed heap (for long-lived symbol entries); a single batch is copied too, so slices of an old entry do not pin it.</summary>
    public static RecordBatch ConcatenateManaged(IReadOnlyList<RecordBatch> batches) =>
        // Our copier, not Arrow's concatenator: that one hands a single array back as it is (a slice keeps its whole
        // parent's buffers alive: a cached run would pin its decoded row group) and copies validity bit by bit, slow
        // on the cache splice of a daily append (docs/decisions.md D36).
        ManagedCopy.Supports(batches[0].Schema)
            ? ManagedCopy.Concatenate(batches[0].Schema, batches)
            : RecordBatches.Concatenate(batches.Count == 1 ? [batches[0], batches[0].Slice(0, 0)] : batches, ManagedAllocator.Instance);

    /// <summary>Rows of a date-sorted batch within [from, to] (day numbers since the Unix epoch), zero-copy.</summary>
    public static RecordBatch SliceByDate(RecordBatch batch, int dateColumn, int? from, int? to)
    {
        if (from is null && to is null)
        {
            return batch;
        }
        var days = ((Date32Array)batch.Column(dateColumn)).Values;
        var start = from is { } f ? LowerBound(days, f) : 0;
        var end = to is { } t ? LowerBound(days, t + 1) : days.Length;
        if (start == 0 && end == days.Length)
        {
            return batch;
        }
        return batch.Slice(start, Math.Max(0, end - start));
    }

    public static RecordBatch Project(RecordBatch batch, Schema projected, int[] indices)
    {
        if (indices.Length == batch.ColumnCount && indices.Select((x, i) => x == i).All(b => b))
        {
            return batch;
        }
        var arrays = new IArrowArray[indices.Length];
        for (var i = 0; i < indices.Length; i++)
        {
            arrays[i] = batch.Column(indices[i]);
        }
        return new RecordBatch(projected, arrays, batch.Length);
    }

    private static int LowerBound(ReadOnlySpan<int> values, int target)
    {
        int lo = 0, hi = values.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (values[mid] < target)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        return lo;
    }
}
