using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion.Gold;
using Lakehouse.Flight.Server.Internal;
using Lakehouse.Flight.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Server.Jobs;

/// <summary>
/// Finishes what a crashed writer's commit promised (docs/decisions.md D34, D35): commits a repair finished
/// (at the store's open, or a later repair pass of this server) are recorded by the store in
/// <c>_metadata/recovered/</c>; this service rebuilds the gold of their symbols once the store's index is
/// loaded (its ready gate), then whenever the store signals a new one, and every
/// <see cref="Rescan"/> for records other processes (the CLI) left. <c>/health</c> says <c>warming</c>
/// with <c>gold</c> loading until the records found at start are finished. A failed rebuild (a full disk)
/// leaves the records for the next pass or start.
/// </summary>
internal sealed class RecoveredGold : BackgroundService
{
    /// <summary>How often records of other processes are looked for.</summary>
    public static readonly TimeSpan Rescan = TimeSpan.FromSeconds(30);

    private readonly LakeStore _store;
    private readonly GoldBuilder _gold;
    private readonly StartupState _startup;
    private readonly ILogger<RecoveredGold> _logger;
    private readonly SemaphoreSlim _signal = new(0);

    public RecoveredGold(LakeStore store, GoldBuilder gold, StartupState startup, ILogger<RecoveredGold> logger)
    {
        _store = store;
        _gold = gold;
        _startup = startup;
        _logger = logger;
        // Before the server listens: /health never says ok while gold a recovery promised is missing.
        if (store.HasRecoveredCommits)
        {
            startup.GoldPending();
        }
        store.CommitsRecovered += Signal;
    }

    private void Signal()
    {
        if (_signal.CurrentCount == 0)
        {
            _signal.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await _store.Ready.WaitAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception) when (stoppingToken.IsCancellationRequested || _store.Ready.IsFaulted)
        {
            _startup.GoldDone();
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var rebuilt = await Task.Run(() => _gold.FinishRecoveredAsync(stoppingToken), stoppingToken).ConfigureAwait(false);
                if (rebuilt.Count > 0)
                {
                    ServerLog.RecoveredGold(_logger, rebuilt.Select(r => r.Symbol).Distinct(StringComparer.Ordinal).Count(), rebuilt.Count);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is LakehouseException or IOException or UnauthorizedAccessException or InvalidDataException)
            {
                // The records stay: the next signal, rescan or start finishes them.
                ServerLog.Failed(_logger, ex, "gold rebuild after recovery");
            }
            finally
            {
                _startup.GoldDone();
            }
            try
            {
                await _signal.WaitAsync(Rescan, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public override void Dispose()
    {
        _store.CommitsRecovered -= Signal;
        _signal.Dispose();
        base.Dispose();
    }
}
