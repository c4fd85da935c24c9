using System.Collections.Concurrent;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// Writer locks, one per table (and one for the layout migration): a semaphore for threads of this process, then an
/// exclusive lock file for other processes on the same data dir (the CLI beside a running server). Keys are always
/// taken in ordinal order, so two writers over overlapping sets of tables cannot deadlock.
/// </summary>
internal sealed class LakeLocks
{
    private readonly string _lockDir;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _local = new(StringComparer.Ordinal);
    private readonly TimeSpan _timeout;

    public LakeLocks(string lockDir, TimeSpan timeout)
    {
        _lockDir = lockDir;
        _timeout = timeout;
    }

    public async Task<IAsyncDisposable> AcquireAsync(IEnumerable<string> keys, CancellationToken cancellationToken)
    {
        var ordered = keys.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var held = new Held();
        try
        {
            foreach (var key in ordered)
            {
                var sem = _local.GetOrAdd(key, _ => new SemaphoreSlim(1, 1));
                if (!await sem.WaitAsync(_timeout, cancellationToken).ConfigureAwait(false))
                {
                    throw new TimeoutException($"timed out after {_timeout.TotalSeconds:0}s waiting for the writer lock on {key}");
                }
                held.Semaphores.Add(sem);
                held.Files.Add(await LockFileAsync(key, cancellationToken).ConfigureAwait(false));
            }
            return held;
        }
        catch
        {
            await held.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task<FileStream> LockFileAsync(string key, CancellationToken cancellationToken)
    {
        var path = Path.Combine(_lockDir, key + ".lock");
        var deadline = DateTime.UtcNow + _timeout;
        var delay = 1;
        while (true)
        {
            try
            {
                // FileShare.None takes an exclusive advisory lock (flock) on Unix; released on close or process death.
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (Exception ex) when (StorageFaults.IsReadOnly(ex))
            {
                // Not contention: no writer can ever take this lock, so say why now instead of after the timeout.
                throw StorageFaults.ReadOnly();
            }
            catch (IOException ex) when (StorageFaults.IsDiskFull(ex))
            {
                throw StorageFaults.DiskFull(0, StorageFaults.FreeBytes(_lockDir));
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay = Math.Min(delay * 2, 50);
            }
            catch (IOException ex)
            {
                throw new TimeoutException($"timed out after {_timeout.TotalSeconds:0}s waiting for another process's writer lock on {key}", ex);
            }
        }
    }

    private sealed class Held : IAsyncDisposable
    {
        public List<SemaphoreSlim> Semaphores { get; } = [];
        public List<FileStream> Files { get; } = [];

        public ValueTask DisposeAsync()
        {
            for (var i = Files.Count - 1; i >= 0; i--)
            {
                Files[i].Dispose();
            }
            for (var i = Semaphores.Count - 1; i >= 0; i--)
            {
                Semaphores[i].Release();
            }
            Files.Clear();
            Semaphores.Clear();
            return ValueTask.CompletedTask;
        }
    }
}
