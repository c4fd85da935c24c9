using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Ingestion;

/// <summary>
/// The promote policy: silver is re-derived from bronze, and for each (symbol, date) the raw row that
/// landed last wins, whatever its source (a vendor's correction supersedes the first print). Gold is
/// then rebuilt for the symbols whose silver changed; the result lists the silver reports (gold's are in its manifests).
/// </summary>
public sealed class BronzePromoter(LakeStore store, LakeWriter writer)
{
    /// <exception cref="LakehouseException">Unavailable when gold's rebuild failed after silver committed (the message says how to rebuild).</exception>
    public async Task<IReadOnlyList<StorageReport>> PromoteAsync(string? source, IReadOnlyList<string> symbols,
        DateOnly? from, DateOnly? to, string? runId = null, CancellationToken cancellationToken = default)
    {
        var onlySource = string.IsNullOrWhiteSpace(source) ? null : Sources.Normalize(source);
        var query = TableQuery.Create("bronze", PriceTables.PricesDaily, symbols,
            from?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            to?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        var latest = new Dictionary<(string, DateOnly), PriceBar>();
        foreach (var batch in store.Read(query, cancellationToken))
        {
            foreach (var bar in PriceBarBatches.ToBars(batch))
            {
                if (onlySource is not null && bar.Source != onlySource)
                {
                    continue;
                }
                var key = (bar.Symbol, bar.Date);
                if (!latest.TryGetValue(key, out var seen) || bar.IngestedAt > seen.IngestedAt)
                {
                    latest[key] = bar;
                }
            }
        }
        var bars = latest.Values.OrderBy(b => b.Symbol, StringComparer.Ordinal).ThenBy(b => b.Date).ToArray();
        var written = await writer.WriteAsync([new TableWrite(PriceTables.Silver, PriceBarBatches.ToBatch(bars))], runId, cancellationToken)
            .ConfigureAwait(false);
        return written.ReportsOrThrow();
    }
}
