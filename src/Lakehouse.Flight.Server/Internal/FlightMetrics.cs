namespace Lakehouse.Flight.Server.Internal;

/// <summary>Counters of the running server (tests read them to prove streaming and cancellation).</summary>
internal sealed class FlightMetrics
{
    private long _batchesRead;
    private long _messagesSent;
    private long _activeStreams;
    private long _uploadsEnded;
    private long _fastStreams;

    /// <summary>Batches pulled from the store by DoGet.</summary>
    public long BatchesRead => Interlocked.Read(ref _batchesRead);

    /// <summary>Record batch messages written by DoGet.</summary>
    public long MessagesSent => Interlocked.Read(ref _messagesSent);

    /// <summary>DoGet calls in progress.</summary>
    public long ActiveStreams => Interlocked.Read(ref _activeStreams);

    /// <summary>DoPut calls that ended, whether they landed data or not.</summary>
    public long UploadsEnded => Interlocked.Read(ref _uploadsEnded);

    /// <summary>DoGet calls served by <see cref="FastDoGet"/> rather than the stock Flight writer.</summary>
    public long FastStreams => Interlocked.Read(ref _fastStreams);

    public void FastStreamStarted() => Interlocked.Increment(ref _fastStreams);

    public void UploadEnded() => Interlocked.Increment(ref _uploadsEnded);

    public void BatchRead() => Interlocked.Increment(ref _batchesRead);

    public void MessageSent() => Interlocked.Increment(ref _messagesSent);

    public void StreamStarted() => Interlocked.Increment(ref _activeStreams);

    public void StreamEnded() => Interlocked.Decrement(ref _activeStreams);
}
