using System.Diagnostics;
using System.Globalization;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Benchmarks.E2e;

/// <summary>
/// <c>compaction --symbols N --days D [--from YYYY-MM-DD] [--history-years Y] --data-dir DIR</c>: what the compactor
/// writes for a run of daily appends. A fresh lake (optionally Y years of history before <c>--from</c>, written as the
/// generator does, 500 symbols a commit) gets D business days of N symbols each, landed in bronze and promoted to
/// silver in one commit per day (as a daily DoPut is), and after each day one compaction pass (what the server's
/// compactor does between two daily appends). Reports, per table: rows the days added, rows and bytes the passes
/// wrote (the write amplification), the bytes every file ever written takes against the current files' (the history
/// as-of reads keep until vacuum), and how many files a symbol's rows lie in at the end (what a symbol's full read
/// opens). In-process, no server: the figures are counts and sizes; the times are wall times of this process.
/// </summary>
internal static class CompactionHarness
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        string? Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
        var symbolCount = int.Parse(Arg("--symbols") ?? "2000", CultureInfo.InvariantCulture);
        var days = int.Parse(Arg("--days") ?? "260", CultureInfo.InvariantCulture);
        var from = DateOnly.Parse(Arg("--from") ?? "2025-01-01", CultureInfo.InvariantCulture);
        var historyYears = int.Parse(Arg("--history-years") ?? "0", CultureInfo.InvariantCulture);
        var dir = Arg("--data-dir");
        if (dir is null)
        {
            Console.Error.WriteLine("compaction needs --data-dir DIR (created fresh; deleted when done)");
            return 2;
        }
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
        try
        {
            return await RunAsync(dir, symbolCount, days, from, historyYears);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<int> RunAsync(string dir, int symbolCount, int days, DateOnly from, int historyYears)
    {
        var store = LakeStore.Open(new StoreOptions { DataDir = dir, CacheBytes = 0 });
        store.WaitReady();
        var symbols = Universe.Symbols(symbolCount);
        TableDefinition[] tables = [PriceTables.Bronze, PriceTables.Silver];
        var seen = tables.ToDictionary(t => t, _ => new Dictionary<string, long>(StringComparer.Ordinal));
        var appended = tables.ToDictionary(t => t, _ => (Rows: 0L, Bytes: 0L));
        var compacted = tables.ToDictionary(t => t, _ => (Rows: 0L, Bytes: 0L));

        // New files of each table since the last look: (rows, bytes).
        Dictionary<TableDefinition, (long Rows, long Bytes)> Added()
        {
            var added = new Dictionary<TableDefinition, (long Rows, long Bytes)>();
            foreach (var t in tables)
            {
                long rows = 0, bytes = 0;
                foreach (var f in store.Metadata.Current.Table(t).Files.Values)
                {
                    if (seen[t].TryAdd(f.Name, f.Bytes))
                    {
                        rows += f.Rows;
                        bytes += f.Bytes;
                    }
                }
                added[t] = (rows, bytes);
            }
            return added;
        }

        if (historyYears > 0)
        {
            var sw = Stopwatch.StartNew();
            for (var i = 0; i < symbols.Count; i += 500)
            {
                await store.LandAsync(SyntheticBars.Generate(symbols.Skip(i).Take(500), from.AddYears(-historyYears), from.AddDays(-1)), "synthetic", promote: true);
            }
            await store.CompactAsync();
            Added();
            Console.WriteLine($"history: {historyYears} year(s) of {symbolCount:N0} symbols in {sw.Elapsed.TotalSeconds:F0} s");
        }

        var appendMs = new List<double>();
        var compactMs = new List<double>();
        var day = from;
        for (var d = 0; d < days; d++)
        {
            while (day.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday)
            {
                day = day.AddDays(1);
            }
            var bars = SyntheticBars.Generate(symbols, day, day);
            var sw = Stopwatch.StartNew();
            await store.LandAsync(bars, "synthetic", promote: true);
            appendMs.Add(sw.Elapsed.TotalMilliseconds);
            foreach (var (t, a) in Added())
            {
                appended[t] = (appended[t].Rows + a.Rows, appended[t].Bytes + a.Bytes);
            }
            sw.Restart();
            await store.CompactAsync();
            compactMs.Add(sw.Elapsed.TotalMilliseconds);
            foreach (var (t, a) in Added())
            {
                compacted[t] = (compacted[t].Rows + a.Rows, compacted[t].Bytes + a.Bytes);
            }
            if ((d + 1) % 20 == 0)
            {
                Console.WriteLine($"  day {d + 1}/{days} ({day:yyyy-MM-dd}): silver {store.Metadata.Current.Table(PriceTables.Silver).Files.Count} files, compaction wrote {compacted[PriceTables.Silver].Rows:N0} rows so far");
            }
            day = day.AddDays(1);
        }

        Console.WriteLine();
        Console.WriteLine($"{days} daily appends of {symbolCount:N0} symbols from {from:yyyy-MM-dd} (history {historyYears} year(s)), one compaction pass after each");
        Console.WriteLine("| table | rows appended | rows compaction wrote | amplification (rows written / appended) | bytes ever written / current bytes | files now | max files of one symbol (newest band / all bands) |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var t in tables)
        {
            var state = store.Metadata.Current.Table(t);
            var current = state.Files.Values.Sum(f => f.Bytes);
            var ever = seen[t].Values.Sum();
            var newestBand = state.Files.Values.Max(f => f.Band);
            var runs = state.Symbols!.Values;
            var maxNewest = runs.Max(r => r.Count(x => x.File.Band == newestBand));
            var maxAll = runs.Max(r => r.Length);
            var (aRows, _) = appended[t];
            var (cRows, _) = compacted[t];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {t.Id} | {aRows:N0} | {cRows:N0} | {(aRows + cRows) / (double)aRows:F2}x | {ever / 1e6:F1} / {current / 1e6:F1} MB ({ever / (double)current:F2}x) | {state.Files.Count} | {maxNewest} / {maxAll} |"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"append (bronze + silver commit) median {Stats.Median(appendMs):F0} ms; compaction pass median {Stats.Median(compactMs):F0} ms, total {compactMs.Sum() / 1000:F1} s, largest {compactMs.Max() / 1000:F1} s"));
        return 0;
    }
}
