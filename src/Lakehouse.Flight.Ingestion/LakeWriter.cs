using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Ingestion.Gold;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Ingestion;

/// <summary>What one write committed, and what followed in gold.</summary>
/// <param name="Reports">One StorageReport per table and symbol the commit wrote.</param>
/// <param name="Gold">Reports of the gold rebuild for the symbols whose silver prices changed (also in gold's manifests).</param>
/// <param name="GoldError">Why that rebuild failed, or null: the commit stands and gold is stale for <see cref="StaleSymbols"/>.</param>
public sealed record LakeWriteResult(IReadOnlyList<StorageReport> Reports, IReadOnlyList<StorageReport> Gold, LakehouseException? GoldError)
{
    /// <summary>Symbols whose gold the failed rebuild left behind silver (empty when gold is current).</summary>
    public IReadOnlyList<string> StaleSymbols => GoldError is null ? [] : GoldBuilder.ChangedSymbols(Reports);

    /// <summary>The commit's reports, or the gold failure thrown for callers that report a write whole or not at all.</summary>
    public IReadOnlyList<StorageReport> ReportsOrThrow() => GoldError is null ? Reports : throw GoldError;
}

/// <summary>
/// The write path of everything that changes silver (ingestion, promotion, uploads, the legacy migration):
/// commits the table writes atomically, then rebuilds gold for the symbols whose silver prices changed,
/// under the write's run id. Uploads the store applies from its write-ahead log are committed by the store
/// itself; the server hands their reports to <see cref="AfterCommitAsync"/>, the same rule. A gold failure
/// does not undo the commit; it comes back in <see cref="LakeWriteResult.GoldError"/> for the caller to report.
/// </summary>
public sealed class LakeWriter(LakeStore store, GoldBuilder gold)
{
    /// <param name="writes">The tables' rows, committed together.</param>
    /// <param name="runId">The run the commit belongs to (a new one when null).</param>
    /// <param name="cancellationToken">Cancels before the commit point.</param>
    /// <param name="runSymbols">
    /// How many symbols the whole run writes when this commit is one chunk of it (an ingest commits 1M rows at a time):
    /// whether reports are written is decided for the run, not per chunk (<see cref="GoldBuilder.RefreshAsync"/>).
    /// </param>
    public async Task<LakeWriteResult> WriteAsync(IReadOnlyList<TableWrite> writes, string? runId = null, CancellationToken cancellationToken = default,
        int? runSymbols = null)
    {
        var committed = await store.WriteAsync(ReadAfterForGold(writes, runSymbols), runId, cancellationToken).ConfigureAwait(false);
        return await AfterCommitAsync(committed, cancellationToken, runSymbols).ConfigureAwait(false);
    }

    /// <summary>
    /// A write of few symbols is followed by gold reading each changed symbol's silver history whole (for its report):
    /// the store builds those cache entries while the commit encodes its files (<see cref="TableWrite.ReadAfter"/>).
    /// </summary>
    private static IReadOnlyList<TableWrite> ReadAfterForGold(IReadOnlyList<TableWrite> writes, int? runSymbols) =>
        [.. writes.Select(w => w.Table == PriceTables.Silver && !w.ReadAfter && PriceColumns.Symbol.Find(w.Rows) is { } symbols
            && (runSymbols ?? RecordBatches.Runs(symbols).Count()) <= GoldBuilder.ReportSymbolsPerWrite
            ? w with { ReadAfter = true } : w)];

    /// <summary>What follows a commit: gold for the symbols whose silver prices <paramref name="committed"/> changed.</summary>
    /// <param name="committed">The commit's reports.</param>
    /// <param name="cancellationToken">Cancels the gold rebuild.</param>
    /// <param name="runSymbols">How many symbols the whole run writes when this commit is one chunk of it.</param>
    public async Task<LakeWriteResult> AfterCommitAsync(IReadOnlyList<StorageReport> committed, CancellationToken cancellationToken = default,
        int? runSymbols = null)
    {
        try
        {
            var rebuilt = await gold.RefreshAsync(committed, cancellationToken, runSymbols).ConfigureAwait(false);
            return new LakeWriteResult(committed, rebuilt.Reports, null);
        }
        catch (LakehouseException ex)
        {
            return new LakeWriteResult(committed, [], ex);
        }
    }
}
