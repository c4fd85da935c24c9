using Lakehouse.Flight.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Server.Internal;

/// <summary>
/// Keeps the compacted copies current (docs/decisions.md D23): a first pass once the warm-up is done (so
/// the copies missing at start are written from the warmed symbol entries, not decoded again), then every
/// <see cref="LakehouseServerOptions.CompactIntervalSeconds"/> a pass over the symbols written since.
/// A pass takes no writer lock and runs on one thread; a stop cancels it between symbols.
/// </summary>
internal sealed class CompactionService(PriceStore store, LakehouseServerOptions options, ILogger<CompactionService> logger) : BackgroundService
{
    private readonly SemaphoreSlim _signal = new(0);
    private int _started;

    /// <summary>Runs a pass now (the warm-up calls it when it is done).</summary>
    public void Trigger()
    {
        Volatile.Write(ref _started, 1);
        if (_signal.CurrentCount == 0)
        {
            _signal.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.CompactCopies || options.CompactIntervalSeconds <= 0)
        {
            return;
        }
        if (!options.WarmCache)
        {
            Trigger();
        }
        var interval = TimeSpan.FromSeconds(options.CompactIntervalSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _signal.WaitAsync(interval, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            if (Volatile.Read(ref _started) == 0)
            {
                continue;
            }
            try
            {
                await Task.Run(() => store.Compact(cancellationToken: stoppingToken), stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                // The copies are a cache: reads use the month files until a later pass succeeds.
                ServerLog.Failed(logger, ex, "compaction");
            }
        }
    }

    public override void Dispose()
    {
        _signal.Dispose();
        base.Dispose();
    }
}
