using System.Diagnostics;
using System.Globalization;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage;
using static Lakehouse.Flight.Benchmarks.E2e.ReportTable;

namespace Lakehouse.Flight.Benchmarks.E2e;

/// <summary>
/// Compacted copies (decisions D22) against the month files, in one run: the compaction itself, cold
/// scans and Warm() in-process with <see cref="StoreOptions.UseCompactCopies"/> off (the old path) and on,
/// then servers started each way (no warm-up, so the first scan is cold) and a server whose cache
/// budget is a quarter of the lake, for peak RSS.
/// </summary>
internal static class CompactRuns
{
    private const string Old = "month files (old path)";
    private const string New = "compacted copies";

    /// <summary>Builds the copies and measures in-process; returns the lake's Arrow bytes (for the budget of the memory run).</summary>
    public static long InProcess(string dataDir, IReadOnlyList<PriceQuery> queries, IReadOnlyList<PriceQuery> warmup, ReportTable t, TextWriter log)
    {
        log.WriteLine("compact: building the copies from the month files");
        var builder = PriceStore.Open(new StoreOptions { DataDir = dataDir, CacheBytes = 0 });
        var start = Stopwatch.GetTimestamp();
        var built = builder.Compact(PriceTables.Silver);
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        t.Add("compaction from the month files (PriceStore.Compact, one thread, cache off)",
            $"{F(built.Rows / seconds)} rows/s ({F(built.Rebuilt)} copy files, {F(built.Rows)} rows in {F(seconds, "F1")} s; {F(built.Bytes / 1e6, "F0")} MB written)");
        var check = PriceStore.Open(new StoreOptions { DataDir = dataDir, CacheBytes = 0 });
        start = Stopwatch.GetTimestamp();
        var checkedPass = check.Compact(PriceTables.Silver);
        t.Add("compaction pass with every copy current (a store's first pass: one stat per month file)",
            $"{F(Stopwatch.GetElapsedTime(start).TotalSeconds, "F2")} s for {F(checkedPass.Checked)} symbols, {F(checkedPass.Rebuilt)} rewritten");
        builder = null!;
        check = null!;

        log.WriteLine("compact: cold scans and Warm(), month files vs copies");
        var oldScan = Scan(dataDir, copies: false);
        var newScan = Scan(dataDir, copies: true);
        t.Add($"in-process full scan, cache cold, {Old}", Rate(oldScan));
        t.Add($"in-process full scan, cache cold, {New}", Rate(newScan), X(newScan.RowsPerSecond, oldScan.RowsPerSecond, Old));
        var (oldParts, oldSeconds, oldStore) = Warm(dataDir, copies: false);
        var (newParts, newSeconds, newStore) = Warm(dataDir, copies: true);
        t.Add($"in-process PriceStore.Warm(), {Old}", $"{F(oldParts)} partitions in {F(oldSeconds, "F2")} s ({F(oldParts / oldSeconds)} partitions/s)");
        t.Add($"in-process PriceStore.Warm(), {New}", $"{F(newParts)} partitions in {F(newSeconds, "F2")} s ({F(newParts / newSeconds)} partitions/s)",
            X(oldSeconds, newSeconds, "faster than " + Old));

        // Warm point queries on both warmed stores, rounds alternated so the machine's load falls on both alike.
        var oldPoints = new List<double>();
        var newPoints = new List<double>();
        InProcessRuns.PointQueries(oldStore, warmup);
        InProcessRuns.PointQueries(newStore, warmup);
        for (var round = 0; round < 3; round++)
        {
            oldPoints.AddRange(InProcessRuns.PointQueries(oldStore, queries));
            newPoints.AddRange(InProcessRuns.PointQueries(newStore, queries));
        }
        t.Add($"in-process point query, cache warm, {Old}", $"median {Ms(Stats.Median(oldPoints))}, p99 {Ms(Stats.Percentile(oldPoints, 99))} ({oldPoints.Count} calls, 3 rounds alternated)");
        t.Add($"in-process point query, cache warm, {New}", $"median {Ms(Stats.Median(newPoints))}, p99 {Ms(Stats.Percentile(newPoints, 99))} ({newPoints.Count} calls)",
            L(Stats.Median(newPoints), Stats.Median(oldPoints), Old));
        return newScan.Bytes;
    }

    private static InProcessRuns.Scan Scan(string dataDir, bool copies)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return InProcessRuns.FullScan(PriceStore.Open(new StoreOptions { DataDir = dataDir, UseCompactCopies = copies }));
    }

    private static (int Partitions, double Seconds, PriceStore Store) Warm(string dataDir, bool copies)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var store = PriceStore.Open(new StoreOptions { DataDir = dataDir, UseCompactCopies = copies });
        var start = Stopwatch.GetTimestamp();
        var n = store.Warm(PriceTables.Silver);
        return (n, Stopwatch.GetElapsedTime(start).TotalSeconds, store);
    }

    /// <summary>Servers with copies off and on: cold and warm 1-stream scans, warm point queries; then peak RSS with a budget of a quarter of the lake.</summary>
    /// <summary>
    /// The server's own cold-scan output with curl as the reader (no .NET client sharing the cores): a
    /// freshly started server, jitted by a point and a full-symbol DoGet, then one cold and one warm full scan.
    /// </summary>
    private static async Task CurlColdScanAsync(E2eOptions o, string dll, string dataDir, bool copies, string label, ReportTable t, TextWriter log)
    {
        var figure = $"curl HTTP/2 DoGet full scan, fresh server, cache cold, {label}";
        if (CurlRuns.Missing() is { } missing)
        {
            t.Unavailable(figure, "curl unavailable: " + missing);
            return;
        }
        log.WriteLine($"compact: server, curl cold scan, {label}");
        var (server, why) = await ServerProcess.StartAsync(dll, dataDir, o.ServerStartTimeout, Environment(copies, cacheBytes: null)).ConfigureAwait(false);
        if (server is null)
        {
            t.Unavailable(figure, "server unavailable: " + why);
            return;
        }
        await using (server.ConfigureAwait(false))
        {
            using (var flight = new FlightRuns(server.Address))
            {
                await JitWarmUpAsync(flight, dataDir, o.To.Year).ConfigureAwait(false);
            }
            var curl = new CurlRuns(server.Address, server.HttpAddress);
            var cold = (await curl.DoGetAsync("{}", 1).ConfigureAwait(false))[0];
            var warm = (await curl.DoGetAsync("{}", 1).ConfigureAwait(false))[0];
            t.Add(figure, $"{F(cold.Bytes / cold.Seconds / 1e6, "F0")} MB/s ({F(cold.Bytes)} bytes in {F(cold.Seconds, "F2")} s)",
                X(cold.Bytes / cold.Seconds, warm.Bytes / warm.Seconds, "of the warm scan that follows"));
            t.Add($"curl HTTP/2 DoGet full scan, same server, warm, {label}", $"{F(warm.Bytes / warm.Seconds / 1e6, "F0")} MB/s");
        }
    }

    public static async Task ServerAsync(E2eOptions o, string dll, string dataDir, long lakeBytes, IReadOnlyList<PriceQuery> queries,
        IReadOnlyList<PriceQuery> warmup, ReportTable t, TextWriter log)
    {
        InProcessRuns.Scan? oldCold = null, oldWarm = null;
        double oldPoint = double.NaN;
        foreach (var copies in new[] { false, true })
        {
            var label = copies ? New : Old;
            log.WriteLine($"compact: server, {label}");
            var (server, why) = await ServerProcess.StartAsync(dll, dataDir, o.ServerStartTimeout, Environment(copies, cacheBytes: null)).ConfigureAwait(false);
            if (server is null)
            {
                t.Unavailable($"DoGet full scans, {label}", "server unavailable: " + why);
                continue;
            }
            await using (server.ConfigureAwait(false))
            {
                using var flight = new FlightRuns(server.Address);
                await JitWarmUpAsync(flight, dataDir, o.To.Year).ConfigureAwait(false);
                server.StartSampling();
                var cold = await flight.FullScanOneStreamAsync().ConfigureAwait(false);
                var warm = await flight.FullScanOneStreamAsync().ConfigureAwait(false);
                var peak = await server.StopSamplingAsync().ConfigureAwait(false);
                await flight.PointQueriesAsync(warmup).ConfigureAwait(false);
                var first = await flight.PointQueriesAsync(queries).ConfigureAwait(false);
                var points = await flight.PointQueriesAsync(queries).ConfigureAwait(false);
                points = Stats.Median(first) < Stats.Median(points) ? first : points;
                t.Add($"DoGet full scan, 1 stream, server cache cold, {label}", Rate(cold),
                    oldCold is { } oc ? X(cold.RowsPerSecond, oc.RowsPerSecond, Old) : "");
                t.Add($"DoGet full scan, 1 stream, server cache warm, {label}", Rate(warm),
                    oldWarm is { } ow ? X(warm.RowsPerSecond, ow.RowsPerSecond, Old) : "");
                t.Add($"DoGet point query, server cache warm, {label}",
                    $"median {Ms(Stats.Median(points))}, p99 {Ms(Stats.Percentile(points, 99))} (the better of two rounds of {points.Count} calls)",
                    double.IsNaN(oldPoint) ? "" : L(Stats.Median(points), oldPoint, Old));
                t.Add($"server peak RSS during those two scans, {label}", $"{F(peak / 1024.0, "N0")} MiB");
                if (!copies)
                {
                    (oldCold, oldWarm, oldPoint) = (cold, warm, Stats.Median(points));
                }
            }
            await CurlColdScanAsync(o, dll, dataDir, copies, label, t, log).ConfigureAwait(false);
        }

        var budget = o.ScanCacheMiB > 0 ? (long)o.ScanCacheMiB << 20 : Math.Max(16L << 20, lakeBytes / 4);
        foreach (var copies in new[] { false, true })
        {
            var label = copies ? New : Old;
            log.WriteLine($"compact: server with a cache budget of {budget >> 20} MiB, {label}");
            var (server, why) = await ServerProcess.StartAsync(dll, dataDir, o.ServerStartTimeout, Environment(copies, budget)).ConfigureAwait(false);
            if (server is null)
            {
                t.Unavailable($"bounded full scan, {label}", "server unavailable: " + why);
                continue;
            }
            await using (server.ConfigureAwait(false))
            {
                using var flight = new FlightRuns(server.Address);
                await JitWarmUpAsync(flight, dataDir, o.To.Year).ConfigureAwait(false);
                var (startRss, _) = server.Memory();
                server.StartSampling();
                var first = await flight.FullScanOneStreamAsync().ConfigureAwait(false);
                var second = await flight.FullScanOneStreamAsync().ConfigureAwait(false);
                var peak = await server.StopSamplingAsync().ConfigureAwait(false);
                var budgetMiB = budget / 1048576.0;
                t.Add($"server with cache budget {F(budgetMiB, "N0")} MiB (lake {F(lakeBytes / 1048576.0, "N0")} MiB of Arrow), two full scans, {label}",
                    $"{Rate(first)} then {F(second.MBPerSecond, "F0")} MB/s; peak RSS {F(peak / 1024.0, "N0")} MiB (idle after start {F(startRss / 1024.0, "N0")} MiB)",
                    $"peak {Ratio(peak / 1024.0 / budgetMiB)} the budget; peak minus idle {Ratio((peak - startRss) / 1024.0 / budgetMiB)} the budget");
            }
        }
    }

    /// <summary>
    /// A fresh server runs its first scan in tier-0 code: before the cold scan, read one symbol whole (its
    /// entry built the way the scan builds them) and one month, so both paths are measured jitted. One
    /// symbol of the universe is then cached; the scan is cold for the others.
    /// </summary>
    private static async Task JitWarmUpAsync(FlightRuns flight, string dataDir, int year)
    {
        var store = PriceStore.Open(new StoreOptions { DataDir = dataDir, CacheBytes = 0 });
        var last = store.SymbolsFor(PriceQuery.Create())[^1];
        for (var i = 0; i < 3; i++)
        {
            await flight.PointQueriesAsync([PriceQuery.Create(symbols: [last]), PriceQuery.Create(symbols: [last], dateFrom: $"{year}-03-01", dateTo: $"{year}-03-31")])
                .ConfigureAwait(false);
        }
    }

    /// <summary>No warm-up (the first scan is cold) and no compactor during the measurement (the copies were built before).</summary>
    private static Dictionary<string, string> Environment(bool copies, long? cacheBytes)
    {
        var env = new Dictionary<string, string>
        {
            ["Lakehouse__WarmCache"] = "false",
            ["Lakehouse__CompactCopies"] = copies ? "true" : "false",
            ["Lakehouse__CompactIntervalSeconds"] = "0",
        };
        if (cacheBytes is { } b)
        {
            env["Lakehouse__CacheBytes"] = b.ToString(CultureInfo.InvariantCulture);
        }
        return env;
    }
}
