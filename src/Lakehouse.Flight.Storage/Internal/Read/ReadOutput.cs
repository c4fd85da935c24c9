using Apache.Arrow;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// The output side of a read, whatever resolved its rows (the current version's cached slices, an older version's runs):
/// the limit, the projection, and batch sizes. Slices of at least the caller's threshold go out as they are (zero-copy),
/// cut to the target batch size; smaller ones are copied together into batches of about the target.
/// </summary>
internal sealed class ReadOutput(Schema schema, int[] indices, long limit, int targetRows)
{
    private readonly List<RecordBatch> _small = [];
    private int _smallRows;
    private readonly int _target = Math.Max(1, targetRows);

    /// <summary>Rows still to send before the limit (long.MaxValue without one).</summary>
    public long Remaining { get; private set; } = limit > 0 ? limit : long.MaxValue;

    /// <summary>The limit is reached: the caller stops reading.</summary>
    public bool Done => Remaining == 0;

    /// <summary>Takes one slice (the table's full schema, in key order) and adds the batches it completes to <paramref name="ready"/>.</summary>
    /// <param name="slice">The next rows.</param>
    /// <param name="passThroughRows">Slices at least this long are sent as they are; shorter ones are coalesced.</param>
    /// <param name="ready">Where completed batches go, in order.</param>
    public void Add(RecordBatch slice, int passThroughRows, List<RecordBatch> ready)
    {
        if (slice.Length == 0 || Done)
        {
            return;
        }
        var batch = slice.Length > Remaining ? slice.Slice(0, (int)Remaining) : slice;
        Remaining -= batch.Length;
        batch = ArrowConcat.Project(batch, schema, indices);
        if (batch.Length < passThroughRows)
        {
            _small.Add(batch);
            _smallRows += batch.Length;
            if (_smallRows >= _target)
            {
                Flush(ready);
            }
            return;
        }
        Flush(ready);
        for (var start = 0; start < batch.Length; start += _target)
        {
            ready.Add(start == 0 && batch.Length <= _target ? batch : batch.Slice(start, Math.Min(_target, batch.Length - start)));
        }
    }

    /// <summary>Adds the coalesced small slices, if any, as one batch.</summary>
    public void Flush(List<RecordBatch> ready)
    {
        if (_small.Count > 0)
        {
            ready.Add(ArrowConcat.Concatenate(_small));
            _small.Clear();
            _smallRows = 0;
        }
    }
}
