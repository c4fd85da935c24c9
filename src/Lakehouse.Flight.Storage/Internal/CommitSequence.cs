namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// A sequence lock between commits of this process and reads: odd while a commit applies (renames,
/// index, read cache), even otherwise. A read resolves its data between two equal even values, so it
/// sees each symbol it covers as of the same commit. Commits never wait for reads; a read that keeps
/// colliding with commits waits for the apply in progress and, after a few tries, holds the next
/// apply back for the length of one resolution, so it always finishes.
/// </summary>
internal sealed class CommitSequence
{
    /// <summary>Tries without holding commits back.</summary>
    internal const int OptimisticAttempts = 4;

    private readonly SemaphoreSlim _apply = new(1, 1);
    private long _sequence;

    /// <summary>The queryable buffer's own sequence (odd while it changes): an upload enters it without waiting for a commit.</summary>
    private long _pending;
    private readonly object _pendingGate = new();

    /// <summary>Changes the queryable buffer so a read sees all of the change or none of it (it resolves again).</summary>
    public T ChangePending<T>(Func<T> change)
    {
        lock (_pendingGate)
        {
            Interlocked.Increment(ref _pending);
            try
            {
                return change();
            }
            finally
            {
                Interlocked.Increment(ref _pending);
            }
        }
    }

    /// <summary>The buffer's sequence: equal values mean the buffer did not change in between.</summary>
    public long PendingVersion => Interlocked.Read(ref _pending);

    /// <summary>Reads that had to hold commits back (tests and diagnostics).</summary>
    public long Fallbacks => Interlocked.Read(ref _fallbacks);

    private long _fallbacks;

    public void BeginApply()
    {
        _apply.Wait();
        Interlocked.Increment(ref _sequence);
    }

    public void EndApply()
    {
        Interlocked.Increment(ref _sequence);
        _apply.Release();
    }

    /// <summary>Runs <paramref name="resolve"/> until one run saw no commit apply; its result is returned.</summary>
    public T Consistent<T>(Func<T> resolve, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < OptimisticAttempts; attempt++)
        {
            var before = Interlocked.Read(ref _sequence);
            var pending = Interlocked.Read(ref _pending);
            if ((before & 1) == 1)
            {
                // A commit is applying: wait for it to finish (it never waits for reads), then try.
                _apply.Wait(cancellationToken);
                _apply.Release();
                continue;
            }
            if ((pending & 1) == 1)
            {
                // The buffer is changing (a reference swap): wait for it.
                lock (_pendingGate)
                {
                }
                continue;
            }
            var result = resolve();
            if (Interlocked.Read(ref _sequence) == before && Interlocked.Read(ref _pending) == pending)
            {
                return result;
            }
        }
        // Commits kept landing while this read resolved: hold the next one back for one resolution.
        Interlocked.Increment(ref _fallbacks);
        _apply.Wait(cancellationToken);
        try
        {
            lock (_pendingGate)
            {
                return resolve();
            }
        }
        finally
        {
            _apply.Release();
        }
    }
}
