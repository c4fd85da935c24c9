using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Storage;
using Microsoft.Extensions.Hosting;

namespace Lakehouse.Flight.Server.Jobs;

/// <summary>
/// Applies uploads acknowledged once durable (DoPut with <c>"wait": false</c>) to bronze and silver in
/// the background, then rebuilds gold for the symbols each commit changed through <see cref="LakeWriter.AfterCommitAsync"/>,
/// the rule every write follows (a failed rebuild is thrown to the store, which logs it and keeps the commit).
/// Also adopts uploads a dead server left in the write-ahead log. Stops between commits at shutdown;
/// what is left is applied at the next start.
/// </summary>
internal sealed class UploadApplier : BackgroundService
{
    /// <summary>How often the log is looked at for uploads of processes that died.</summary>
    public static readonly TimeSpan Rescan = TimeSpan.FromSeconds(30);

    private readonly LakeStore _store;

    public UploadApplier(LakeStore store, LakeWriter writer)
    {
        _store = store;
        _store.OnUploadApplied(async (reports, ct) => _ = (await writer.AfterCommitAsync(reports, ct).ConfigureAwait(false)).ReportsOrThrow());
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Run(() => _store.RunUploadApplierAsync(Rescan, stoppingToken), stoppingToken);
}
