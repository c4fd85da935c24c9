using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Ingestion.Legacy.Internal;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Ingestion.Legacy;

public sealed partial class LegacyMigration
{
    /// <summary>Pass 2 for one chunk: read its rows, resolve duplicates, commit bronze + silver atomically, read silver back and compare.</summary>
    private async Task MigrateChunkAsync(MigrationRun run, int[] chunk, CancellationToken cancellationToken)
    {
        var rows = chunk.ToDictionary(id => id, _ => new List<LegacyRow>());
        var rejected = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        await ReadChunkAsync(run, chunk, rows, rejected, cancellationToken).ConfigureAwait(false);

        // Last one wins: a later row in the file replaces an earlier one with the same (symbol, date).
        var final = new SortedDictionary<string, Dictionary<int, LegacyRow>>(StringComparer.Ordinal);
        foreach (var (id, list) in rows)
        {
            var symbol = run.Names[id];
            var byDay = new Dictionary<int, LegacyRow>(list.Count);
            foreach (var row in list)
            {
                if (!byDay.TryAdd(row.Day, row))
                {
                    run.Duplicates++;
                    run.Note($"{symbol} {Iso(row.Day)}: duplicate key; the later row in the file wins");
                    byDay[row.Day] = row;
                }
            }
            if (byDay.Count > 0)
            {
                final[symbol] = byDay;
            }
        }
        var migrated = final.Values.Sum(d => (long)d.Count);
        if (run.DryRun)
        {
            run.Reports.AddRange(Compare(run, final, rejected, cancellationToken));
            run.RowsMigrated += migrated;
            return;
        }
        if (migrated > 0)
        {
            var writes = new List<TableWrite>();
            var sources = final.Values.SelectMany(d => d.Values).Select(r => r.Source).Distinct().Order().ToArray();
            foreach (var source in sources)
            {
                writes.Add(new TableWrite(PriceTables.Bronze, Batch(run, final, source), run.SourceNames[source]));
            }
            var reasons = rejected.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)kv.Value, StringComparer.Ordinal);
            // One source: stamp it; several: each row keeps the source column it carries.
            writes.Add(new TableWrite(PriceTables.Silver, Batch(run, final, null), sources.Length == 1 ? run.SourceNames[sources[0]] : null, reasons));
            // Gold follows silver as after any write; its reports go to the gold manifests, not the migration's result.
            var written = await writer.WriteAsync(writes, run.RunId, cancellationToken).ConfigureAwait(false);
            run.Reports.AddRange(written.ReportsOrThrow());
        }
        run.RowsMigrated += migrated;
        Verify(run, final, cancellationToken);
    }

    private static async Task ReadChunkAsync(MigrationRun run, int[] chunk, Dictionary<int, List<LegacyRow>> rows,
        Dictionary<string, List<string>> rejected, CancellationToken cancellationToken)
    {
        var file = run.File;
        var layout = file.Layout;
        var fields = file.Schema.FieldsList;
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        for (var rg = 0; rg < run.GroupsOf.Count; rg++)
        {
            if (!run.GroupsOf[rg].Overlaps(chunk))
            {
                continue;
            }
            var rowInGroup = 0;
            await foreach (var batch in file.ReadAsync(rg, layout.Columns, cancellationToken).ConfigureAwait(false))
            {
                using (batch)
                {
                    IArrowArray? Col(int field) => field < 0 ? null : batch.Column(batch.Schema.GetFieldIndex(fields[field].Name));
                    var c = new Columns(Col(layout.Symbol)!, Col(layout.Date)!, Col(layout.Open)!, Col(layout.High)!, Col(layout.Low)!,
                        Col(layout.Close)!, Col(layout.AdjClose), Col(layout.Volume)!, run.FixedSource is null ? Col(layout.Source) : null);
                    for (var i = 0; i < batch.Length; i++)
                    {
                        var id = run.SymbolId(LegacyValues.String(c.Symbol, i), out _);
                        if (id < 0 || !rows.TryGetValue(id, out var list))
                        {
                            continue;
                        }
                        var symbol = run.Names[id];
                        if (Parse(run, c, i, symbol, today, out var row) is { } problem)
                        {
                            var reason = $"{symbol} (row group {rg}, row {rowInGroup + i}): {problem.Reason}";
                            run.Invalid(problem.Kind, reason);
                            if (!rejected.TryGetValue(symbol, out var reasons))
                            {
                                rejected[symbol] = reasons = [];
                            }
                            reasons.Add(reason);
                            continue;
                        }
                        list.Add(row);
                    }
                    rowInGroup += batch.Length;
                }
            }
        }
    }

    private readonly record struct Columns(IArrowArray Symbol, IArrowArray Date, IArrowArray Open, IArrowArray High, IArrowArray Low,
        IArrowArray Close, IArrowArray? AdjClose, IArrowArray Volume, IArrowArray? Source);

    private static (string Kind, string Reason)? Parse(MigrationRun run, Columns c, int i, string symbol, DateOnly today, out LegacyRow row)
    {
        row = default;
        var day = LegacyValues.Day(c.Date, i, out var dateError);
        if (day is not { } d)
        {
            return ("bad date", dateError!);
        }
        if (d < -700_000 || d > 2_900_000)
        {
            return ("bad date", $"date32 day {d} is out of range");
        }
        var open = LegacyValues.Double(c.Open, i);
        var high = LegacyValues.Double(c.High, i);
        var low = LegacyValues.Double(c.Low, i);
        var close = LegacyValues.Double(c.Close, i);
        if (open is null || high is null || low is null || close is null)
        {
            return ("null price", $"{Iso(d)}: a price is null (open={open}, high={high}, low={low}, close={close})");
        }
        var adj = c.AdjClose is null ? null : LegacyValues.Double(c.AdjClose, i);
        if (!LegacyValues.TryVolume(c.Volume, i, out var volume))
        {
            return ("bad volume", $"{Iso(d)}: volume is null or not a whole number");
        }
        var source = run.SourceId(c.Source is null ? null : LegacyValues.String(c.Source, i), out var sourceError);
        if (source < 0)
        {
            return ("bad source", sourceError!);
        }
        var date = DateOnly.FromDayNumber(LegacyValues.UnixEpochDay + d);
        if (BarValidator.Validate(symbol, date, open.Value, high.Value, low.Value, close.Value, adj, volume, today) is { } rule)
        {
            return (RuleKind(rule), rule);
        }
        row = new LegacyRow(d, open.Value, high.Value, low.Value, close.Value, adj, volume, source);
        return null;
    }

    private static string RuleKind(string reason) =>
        reason.Contains("prices must be", StringComparison.Ordinal) ? "price not finite or <= 0"
        : reason.Contains("adj_close must be", StringComparison.Ordinal) ? "adj_close not finite or <= 0"
        : reason.Contains("min(open, close)", StringComparison.Ordinal) ? "low above min(open, close)"
        : reason.Contains("max(open, close)", StringComparison.Ordinal) ? "high below max(open, close)"
        : reason.Contains("negative", StringComparison.Ordinal) ? "negative volume"
        : reason.Contains("date must be", StringComparison.Ordinal) ? "date out of range"
        : "fails the silver rules";

    /// <summary>
    /// The chunk's rows (of one source, or all with <paramref name="source"/> null), symbol then date, in silver's columns
    /// but <c>ingested_at</c> (the store stamps it).
    /// </summary>
    private static RecordBatch Batch(MigrationRun run, SortedDictionary<string, Dictionary<int, LegacyRow>> final, int? source)
    {
        var symbol = new StringArray.Builder();
        var date = new Date32Array.Builder();
        var open = new DoubleArray.Builder();
        var high = new DoubleArray.Builder();
        var low = new DoubleArray.Builder();
        var close = new DoubleArray.Builder();
        var adj = new DoubleArray.Builder();
        var volume = new Int64Array.Builder();
        var src = new StringArray.Builder();
        var n = 0;
        foreach (var (name, byDay) in final)
        {
            foreach (var day in byDay.Keys.Order())
            {
                var r = byDay[day];
                if (source is { } s && r.Source != s)
                {
                    continue;
                }
                symbol.Append(name);
                date.Append(DateOnly.FromDayNumber(LegacyValues.UnixEpochDay + day));
                open.Append(r.Open);
                high.Append(r.High);
                low.Append(r.Low);
                close.Append(r.Close);
                if (r.AdjClose is { } a)
                {
                    adj.Append(a);
                }
                else
                {
                    adj.AppendNull();
                }
                volume.Append(r.Volume);
                src.Append(run.SourceNames[r.Source]);
                n++;
            }
        }
        return new TableBatchBuilder(PriceTables.Silver)
            .Set(PriceColumns.Symbol, symbol.Build()).Set(PriceColumns.Date, date.Build())
            .Set(PriceColumns.Open, open.Build()).Set(PriceColumns.High, high.Build()).Set(PriceColumns.Low, low.Build())
            .Set(PriceColumns.Close, close.Build()).Set(PriceColumns.AdjClose, adj.Build()).Set(PriceColumns.Volume, volume.Build())
            .Set(PriceColumns.Source, src.Build())
            .BuildSet(n);
    }

    private static string Iso(int day) =>
        DateOnly.FromDayNumber(LegacyValues.UnixEpochDay + day).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
}
