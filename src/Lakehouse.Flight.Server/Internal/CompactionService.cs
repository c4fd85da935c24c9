using Lakehouse.Flight.Core;
using Lakehouse.Flight.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Server.Internal;

/// <summary>
/// The lake's maintenance (docs/decisions.md D35): a first pass once the warm-up is done, then every
/// <see cref="LakehouseServerOptions.CompactIntervalSeconds"/>: repair what another process's crashed writer left
/// (table folders, manifest lines), compact small and overlapping data files, and at most once an hour vacuum the
/// superseded files past <see cref="LakehouseServerOptions.Retention"/>. Compaction holds no writer lock while it
/// reads and encodes; a stop cancels a pass between merges.
/// </summary>
internal sealed class CompactionService(LakeStore store, LakehouseServerOptions options, ILogger<CompactionService> logger) : BackgroundService
{
    private static readonly TimeSpan VacuumEvery = TimeSpan.FromHours(1);

    private readonly SemaphoreSlim _signal = new(0);
    private DateTime _lastVacuum = DateTime.MinValue;
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
        if (options.CompactIntervalSeconds <= 0)
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
                await store.RepairAsync(stoppingToken).ConfigureAwait(false);
                await store.CompactAsync(cancellationToken: stoppingToken).ConfigureAwait(false);
                if (DateTime.UtcNow - _lastVacuum > VacuumEvery)
                {
                    _lastVacuum = DateTime.UtcNow;
                    await store.VacuumAsync(options.Retention, stoppingToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException or TimeoutException
                or LakehouseException)
            {
                // Maintenance only tidies: reads and writes go on with the files as they are until a later pass succeeds.
                ServerLog.Failed(logger, ex, "maintenance");
            }
        }
    }

    public override void Dispose()
    {
        _signal.Dispose();
        base.Dispose();
    }
}
