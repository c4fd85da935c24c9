using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Ingestion.Legacy.Internal;

namespace Lakehouse.Flight.Ingestion.Legacy;

public sealed partial class LegacyMigration
{
    /// <summary>
    /// Reads the chunk's symbols back from silver and checks, per symbol, the row count and value
    /// checksum at the legacy keys against what was read from the file (silver may also hold other
    /// dates from other sources; those are not the migration's to check).
    /// </summary>
    private void Verify(MigrationRun run, SortedDictionary<string, Dictionary<int, LegacyRow>> final, CancellationToken cancellationToken)
    {
        var lake = final.Keys.ToDictionary(s => s, _ => new ValueChecksum(), StringComparer.Ordinal);
        foreach (var (symbol, day, bar) in Silver(final, cancellationToken))
        {
            if (final[symbol].ContainsKey(day))
            {
                lake[symbol].Add(day, bar.Open, bar.High, bar.Low, bar.Close, bar.AdjClose, bar.Volume);
            }
        }
        foreach (var (symbol, byDay) in final)
        {
            var legacy = new ValueChecksum();
            foreach (var (day, r) in byDay)
            {
                legacy.Add(day, r.Open, r.High, r.Low, r.Close, r.AdjClose, r.Volume);
            }
            run.Checks.Add(new SymbolCheck(symbol, legacy.Rows, legacy.Hex, lake[symbol].Rows, lake[symbol].Hex));
        }
    }

    /// <summary>A dry run: what an upsert of the chunk would do to silver, as silver reports that are not written.</summary>
    private IEnumerable<StorageReport> Compare(MigrationRun run, SortedDictionary<string, Dictionary<int, LegacyRow>> final,
        Dictionary<string, List<string>> rejected, CancellationToken cancellationToken)
    {
        var same = final.Keys.ToDictionary(s => s, _ => 0L, StringComparer.Ordinal);
        var differ = final.Keys.ToDictionary(s => s, _ => 0L, StringComparer.Ordinal);
        foreach (var (symbol, day, bar) in Silver(final, cancellationToken))
        {
            if (final[symbol].TryGetValue(day, out var r))
            {
                var equal = r.Open.Equals(bar.Open) && r.High.Equals(bar.High) && r.Low.Equals(bar.Low) && r.Close.Equals(bar.Close)
                    && Nullable.Equals(r.AdjClose, bar.AdjClose) && r.Volume == bar.Volume;
                if (equal)
                {
                    same[symbol]++;
                }
                else
                {
                    differ[symbol]++;
                }
            }
        }
        var location = store.Paths.DisplayRoot.Replace('\\', '/') + "/silver/" + PriceTables.PricesDaily;
        foreach (var symbol in final.Keys.Union(rejected.Keys).Order(StringComparer.Ordinal))
        {
            var byDay = final.GetValueOrDefault(symbol);
            var reasons = rejected.GetValueOrDefault(symbol) ?? [];
            var rows = byDay?.Count ?? 0;
            yield return new StorageReport
            {
                RunId = run.RunId, Ts = DateTimeOffset.UtcNow, Layer = "silver", Table = PriceTables.PricesDaily, Location = location,
                Source = string.Join(',', (byDay?.Values.Select(r => r.Source).Distinct() ?? []).Select(s => run.SourceNames[s])),
                Symbol = symbol,
                DateFrom = byDay is { Count: > 0 } ? Iso(byDay.Keys.Min()) : null,
                DateTo = byDay is { Count: > 0 } ? Iso(byDay.Keys.Max()) : null,
                Rows = rows + reasons.Count,
                Inserted = rows - same.GetValueOrDefault(symbol) - differ.GetValueOrDefault(symbol),
                Updated = differ.GetValueOrDefault(symbol),
                Unchanged = same.GetValueOrDefault(symbol),
                Rejected = reasons.Count,
                RejectReasons = reasons.Count == 0 ? null : reasons.Take(10).ToArray(),
            };
        }
    }

    private IEnumerable<(string Symbol, int Day, LegacyRow Bar)> Silver(SortedDictionary<string, Dictionary<int, LegacyRow>> final,
        CancellationToken cancellationToken)
    {
        if (final.Count == 0)
        {
            yield break;
        }
        var query = TableQuery.Create(Layers.Name(Layer.Silver), PriceTables.PricesDaily, final.Keys);
        foreach (var batch in store.Read(query, cancellationToken))
        {
            var c = new PriceArrays(batch);
            for (var i = 0; i < batch.Length; i++)
            {
                var day = c.Date.Values[i];
                yield return (c.Symbol.GetString(i), day,
                    new LegacyRow(day, c.Open.Values[i], c.High.Values[i], c.Low.Values[i], c.Close.Values[i], c.AdjClose.GetValue(i), c.Volume.Values[i], -1));
            }
        }
    }
}
