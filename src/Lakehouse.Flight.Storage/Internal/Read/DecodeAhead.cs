using System.Runtime.ExceptionServices;
using Apache.Arrow;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// Row groups decoded ahead of a reader that takes them in order (a scan at an older version, decisions D38): up to
/// <c>workers</c> decodes run side by side on the thread pool, for groups at most <c>window</c> past the last one the
/// reader took, into no cache. The reader holds what it took until it drops it, so memory is the window plus the
/// groups the reader still needs (the files of one symbol's years), whatever the length of the read. A decode's error
/// is thrown to the reader when it takes that group, in order. No thread waits for room: a decode is queued when the
/// reader's progress makes room for it.
/// </summary>
internal sealed class DecodeAhead : IDisposable
{
    // A monitor, not a Lock: the reader waits on it for a decode to finish.
    private readonly object _gate = new();
    private readonly RecordBatch?[] _decoded;
    private readonly ExceptionDispatchInfo?[] _failed;
    private readonly bool[] _done;
    private readonly Func<int, RecordBatch> _decode;
    private readonly int _window;
    private readonly int _workers;
    private readonly CancellationToken _cancellationToken;
    private readonly CancellationTokenRegistration _cancelled;
    private int _next;
    private int _taken = -1;
    private int _running;
    private bool _stopped;

    /// <param name="count">Groups to decode, numbered in the order the reader first takes them.</param>
    /// <param name="decode">Decodes group i (once per group, on a pool thread).</param>
    /// <param name="window">How far past the last group taken a decode may run.</param>
    /// <param name="workers">Decodes at once.</param>
    /// <param name="cancellationToken">A reader waiting for a group then gets OperationCanceledException; no more decodes start.</param>
    public DecodeAhead(int count, Func<int, RecordBatch> decode, int window, int workers, CancellationToken cancellationToken)
    {
        _decoded = new RecordBatch?[count];
        _failed = new ExceptionDispatchInfo?[count];
        _done = new bool[count];
        _decode = decode;
        _window = Math.Max(1, window);
        _workers = Math.Max(1, workers);
        _cancellationToken = cancellationToken;
        _cancelled = cancellationToken.Register(() =>
        {
            lock (_gate)
            {
                _stopped = true;
                Monitor.PulseAll(_gate);
            }
        });
        lock (_gate)
        {
            Schedule();
        }
    }

    public int Count => _decoded.Length;

    /// <summary>Group <paramref name="i"/>, waiting for its decode; taking a group lets the decodes run further ahead.</summary>
    public RecordBatch Take(int i)
    {
        lock (_gate)
        {
            if (i > _taken)
            {
                _taken = i;
                Schedule();
            }
            if (!_done[i] && i >= _next)
            {
                // Not queued (every worker is busy behind it): the reader decodes it itself rather than wait.
                _next = i + 1;
                RecordBatch? batch = null;
                ExceptionDispatchInfo? failure = null;
                Monitor.Exit(_gate);
                try
                {
                    batch = _decode(i);
                }
                catch (Exception ex)
                {
                    failure = ExceptionDispatchInfo.Capture(ex);
                }
                finally
                {
                    Monitor.Enter(_gate);
                }
                _decoded[i] = batch;
                _failed[i] = failure;
                _done[i] = true;
            }
            while (!_done[i])
            {
                _cancellationToken.ThrowIfCancellationRequested();
                Monitor.Wait(_gate);
            }
            _failed[i]?.Throw();
            return _decoded[i] ?? throw new InvalidOperationException($"row group {i} was dropped");
        }
    }

    /// <summary>The reader needs group <paramref name="i"/> no more: it is no longer held here.</summary>
    public void Drop(int i)
    {
        lock (_gate)
        {
            _decoded[i] = null;
        }
    }

    /// <summary>Queues decodes while there is a free worker and a group within the window (under the gate).</summary>
    private void Schedule()
    {
        while (!_stopped && _running < _workers && _next < _decoded.Length && _next <= _taken + _window)
        {
            var i = _next++;
            _running++;
            ThreadPool.UnsafeQueueUserWorkItem(static s => s.Owner.Run(s.Index), (Owner: this, Index: i), preferLocal: false);
        }
    }

    private void Run(int i)
    {
        RecordBatch? batch = null;
        ExceptionDispatchInfo? failure = null;
        try
        {
            batch = _decode(i);
        }
        catch (Exception ex)
        {
            failure = ExceptionDispatchInfo.Capture(ex);
        }
        lock (_gate)
        {
            _decoded[i] = batch;
            _failed[i] = failure;
            _done[i] = true;
            _running--;
            Schedule();
            Monitor.PulseAll(_gate);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _stopped = true;
            // The decodes under way finish (a file handle each) before the read is over.
            while (_running > 0)
            {
                Monitor.Wait(_gate);
            }
            System.Array.Clear(_decoded);
        }
        _cancelled.Dispose();
    }
}
