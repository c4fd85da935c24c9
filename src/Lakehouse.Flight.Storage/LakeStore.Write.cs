using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Storage;

/// <summary>Rows for one table of a write.</summary>
/// <param name="Table">A table of the store's catalogue.</param>
/// <param name="Rows">The rows, columns by name (lineage columns may be left out: they are stamped).</param>
/// <param name="Source">The source partition of a per-source table, else the source stamped on the rows (null keeps theirs).</param>
/// <param name="Rejected">Rows the source already refused, per symbol, with reasons: counted in the reports and manifests.</param>
/// <param name="ReadAfter">
/// The caller reads the changed symbols' rows whole right after the commit (gold after a small write): their cache
/// entries are built while the commit encodes its files, and the commit splices its rows into them.
/// </param>
public sealed record TableWrite(TableDefinition Table, RecordBatch Rows, string? Source = null,
    IReadOnlyDictionary<string, IReadOnlyList<string>>? Rejected = null, bool ReadAfter = false);

public sealed partial class LakeStore
{
    /// <summary>
    /// Upserts bars into silver by (symbol, date): each valid row is inserted, updated (some value
    /// differs) or unchanged; invalid rows are rejected with a reason. All symbols commit together or
    /// not at all. Returns one report per symbol.
    /// </summary>
    /// <exception cref="LakehouseException">A bad symbol, or a duplicate (symbol, date) in <paramref name="bars"/>.</exception>
    public Task<IReadOnlyList<StorageReport>> UpsertAsync(IReadOnlyList<PriceBar> bars, string? runId = null,
        CancellationToken cancellationToken = default) =>
        WriteAsync([new TableWrite(PriceTables.Silver, PriceBarBatches.ToBatch(bars))], runId, cancellationToken);

    /// <summary>
    /// Lands raw bars in bronze under <paramref name="source"/> (append-only; rows already landed with
    /// the same values add nothing) and, with <paramref name="promote"/>, upserts them into silver in
    /// the same commit. Returns bronze reports, then silver reports.
    /// </summary>
    public Task<IReadOnlyList<StorageReport>> LandAsync(IReadOnlyList<PriceBar> bars, string source, bool promote,
        string? runId = null, CancellationToken cancellationToken = default)
    {
        var normalized = Sources.Normalize(source);
        var batch = PriceBarBatches.ToBatch(bars);
        TableWrite[] writes = promote
            ? [new(PriceTables.Bronze, batch, normalized), new(PriceTables.Silver, batch, normalized)]
            : [new(PriceTables.Bronze, batch, normalized)];
        return WriteAsync(writes, runId, cancellationToken);
    }

    /// <summary>
    /// Writes rows into tables of the catalogue in one commit: all tables and symbols, or nothing.
    /// Upsert tables count inserted, updated, unchanged and rejected (with reasons); per-source
    /// (append) tables count rows landed as inserted and rows already there as unchanged. Returns one
    /// report per table and symbol, in the order of <paramref name="writes"/>.
    /// </summary>
    /// <exception cref="LakehouseException">Rows that do not fit the table (a missing column, a null or duplicate key, a bad symbol).</exception>
    public async Task<IReadOnlyList<StorageReport>> WriteAsync(IReadOnlyList<TableWrite> writes, string? runId = null,
        CancellationToken cancellationToken = default)
    {
        // Uploads acknowledged before this write are applied first: writes land in the order they were acknowledged.
        await UploadBarrierAsync(cancellationToken).ConfigureAwait(false);
        return await WriteCoreAsync(writes, runId ?? NewRunId(), TruncateToMicros(DateTimeOffset.UtcNow), cancellationToken).ConfigureAwait(false);
    }

    private Task<IReadOnlyList<StorageReport>> WriteCoreAsync(IReadOnlyList<TableWrite> writes, string runId, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        // Shaped and checked before any lock: a bad write is refused here, before any file.
        var prepared = new List<(TableId Table, TableWrite Write, RecordBatch Rows, List<SymbolRows> Symbols)>(writes.Count);
        foreach (var w in writes)
        {
            var (table, source) = Resolve(w.Table, w.Source);
            var rows = IncomingRows.Prepare(w.Table, w.Rows, source, runId, now);
            prepared.Add((table, w, rows, IncomingRows.Group(w.Table, rows)));
        }
        var tables = writes.Select(w => w.Table).Distinct().ToArray();
        return _committer.WriteAsync(tables, "write", runId, staging =>
        {
            var reports = new List<StorageReport>();
            foreach (var (table, write, rows, symbols) in prepared)
            {
                var location = Paths.Location(table.Definition);
                reports.AddRange(staging.StageSymbols(table, write, rows, symbols, runId, now, location, cancellationToken));
                foreach (var symbol in write.ReadAfter ? symbols : [])
                {
                    staging.ReadAfter(table, symbol.Symbol);
                }
                foreach (var (symbol, reasons) in write.Rejected ?? new Dictionary<string, IReadOnlyList<string>>())
                {
                    if (reasons.Count > 0 && !symbols.Any(s => s.Symbol == symbol))
                    {
                        // Every row of the symbol was refused by its source: the manifest still says so.
                        reports.Add(new StorageReport
                        {
                            RunId = runId, Ts = now, Source = table.Source ?? write.Source ?? "", Layer = Layers.Name(table.Layer), Table = table.Table,
                            Location = location, Symbol = symbol, Rows = reasons.Count, Rejected = reasons.Count,
                            RejectReasons = reasons.Take(10).ToArray(),
                        });
                    }
                }
            }
            return reports;
        }, cancellationToken);
    }

    private static DateTimeOffset TruncateToMicros(DateTimeOffset t) => new(t.UtcTicks - (t.UtcTicks % 10), TimeSpan.Zero);
}
