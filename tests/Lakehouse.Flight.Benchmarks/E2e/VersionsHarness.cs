using System.Diagnostics;
using System.Globalization;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Ingestion.Gold;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Benchmarks.E2e;

/// <summary>
/// Issue 23's targets, in process over one lake (docs/benchmarks.md "Versions"): a universe is loaded, then
/// <c>--appends</c> daily appends of every symbol (bronze + silver, then gold, as a DoPut with promote does), with a
/// compaction every 100 appends as the server's background service would; then an as-of point read at a version that
/// many commits old against a current read (p50), a full scan at that version against the current one, the bytes the
/// kept history takes against the bytes of the rows the appends added, and the time to list the table's versions
/// (after <c>--extra-commits</c> one-row corrections, to reach a long log).
/// </summary>
internal static class VersionsHarness
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var symbols = 500;
        var years = 2;
        var appends = 1000;
        var extraCommits = 0;
        var points = 200;
        string? dataDir = null;
        long? reuseAt = null;
        var scans = 3;
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--symbols": symbols = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--years": years = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--appends": appends = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--extra-commits": extraCommits = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--points": points = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--data-dir": dataDir = args[++i]; break;
                case "--reuse-at": reuseAt = long.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--scans": scans = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default:
                    Console.Error.WriteLine($"versions: unknown option {args[i]} (--symbols N --years N --appends N --extra-commits N --points N --data-dir DIR [--reuse-at VERSION] [--scans N])");
                    return 2;
            }
        }
        var lake = Path.Combine(dataDir ?? Path.Combine(Path.GetTempPath(), "lakehouse-versions-" + Guid.NewGuid().ToString("N")), "lake");
        if (reuseAt is { } at)
        {
            return Reuse(lake, at, points, scans);
        }
        if (Directory.Exists(lake))
        {
            Directory.Delete(lake, recursive: true);
        }
        var store = LakeStore.Open(new StoreOptions { DataDir = lake });
        store.WaitReady();
        var writer = new LakeWriter(store, new GoldBuilder(store));
        var universe = Universe.Symbols(symbols);
        // The appends end before today (a later date is refused by the validator): the universe ends that many
        // business days (and a margin) ago.
        var to = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-(appends * 7 / 5) - 14);
        var from = new DateOnly(to.Year - years + 1, 1, 1);
        Console.WriteLine($"versions: {symbols} symbols x {years} years, then {appends} daily appends, under {lake}");

        var sw = Stopwatch.StartNew();
        foreach (var chunk in universe.Chunk(100))
        {
            var bars = SyntheticBars.Generate(chunk, from, to);
            await Land(store, writer, bars).ConfigureAwait(false);
        }
        await store.CompactAsync().ConfigureAwait(false);
        var loadedBytes = StoreBytes(lake);
        var currentBefore = CurrentBytes(store);
        Console.WriteLine($"  loaded {symbols} x {from}..{to} in {sw.Elapsed.TotalSeconds:F1} s; store {loadedBytes:N0} bytes; version {store.LatestVersion}");

        sw.Restart();
        var day = to;
        var firstAppendVersion = store.LatestVersion;
        long addedRows = 0;
        for (var a = 0; a < appends; a++)
        {
            day = NextBusinessDay(day);
            var bars = SyntheticBars.Generate(universe, day, day);
            addedRows += bars.Count;
            var before = store.LatestVersion;
            await Land(store, writer, bars).ConfigureAwait(false);
            if (store.LatestVersion < before + 2)
            {
                throw new InvalidOperationException($"the append of {day} committed {store.LatestVersion - before} version(s), not silver and gold");
            }
            if ((a + 1) % 100 == 0)
            {
                await store.CompactAsync().ConfigureAwait(false);
                Console.WriteLine($"  {a + 1} appends ({sw.Elapsed.TotalSeconds:F0} s), version {store.LatestVersion}");
            }
        }
        await store.CompactAsync().ConfigureAwait(false);
        var latest = store.LatestVersion;
        var storeAfter = StoreBytes(lake);
        var currentAfter = CurrentBytes(store);
        // What the appends added as current data (compacted), and what the store grew by (current + superseded kept).
        var addedCurrent = currentAfter - currentBefore;
        var grown = storeAfter - loadedBytes;
        Console.WriteLine($"  {appends} appends ({addedRows:N0} rows per table) in {sw.Elapsed.TotalSeconds:F1} s; versions {firstAppendVersion} -> {latest}");
        Console.WriteLine($"  disk: current files grew {addedCurrent:N0} bytes, the store (current + kept history) {grown:N0} bytes: {(double)grown / addedCurrent:F2}x");

        // As-of point reads: 1 symbol x 1 month, at the version before the appends (~appends x 2 commits old) and now.
        var old = ReadAsOf.AtVersion(firstAppendVersion);
        var rng = new Random(7);
        var queries = Enumerable.Range(0, points).Select(_ =>
        {
            var s = universe[rng.Next(universe.Count)];
            var m = new DateOnly(from.Year, 1, 1).AddMonths(rng.Next(years * 12));
            return TableQuery.Create("silver", PriceTables.PricesDaily, [s], m.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                m.AddMonths(1).AddDays(-1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        }).ToArray();
        var current = PointReads(store, queries, null);
        var asOf = PointReads(store, queries, old);
        Console.WriteLine($"  point read p50 / p99: current {Stats.Median(current):F3} / {Stats.Percentile(current, 99):F3} ms; "
            + $"as of version {firstAppendVersion} ({latest - firstAppendVersion} commits old) {Stats.Median(asOf):F3} / {Stats.Percentile(asOf, 99):F3} ms: "
            + $"{Stats.Median(asOf) / Stats.Median(current):F2}x");

        // Full scans, three each, alternated.
        var scanNow = new List<double>();
        var scanOld = new List<double>();
        for (var r = 0; r < 3; r++)
        {
            scanNow.Add(Scan(store, TableQuery.Create()));
            scanOld.Add(Scan(store, TableQuery.Create().WithAsOf(old)));
        }
        Console.WriteLine($"  full scan MB/s, median of 3: current {Stats.Median(scanNow):F0}, as of version {firstAppendVersion} {Stats.Median(scanOld):F0}: "
            + $"{Stats.Median(scanOld) / Stats.Median(scanNow):F2}x");

        // A long log: one-row corrections of a past day, each a version of silver.
        sw.Restart();
        var bar = SyntheticBars.Generate([universe[0]], day, day)[0];
        if (extraCommits > 0 && bar.Date > DateOnly.FromDateTime(DateTime.UtcNow))
        {
            throw new InvalidOperationException($"the last append ({day}) is after today: fewer --appends");
        }
        for (var c = 0; c < extraCommits; c++)
        {
            await store.WriteAsync([new TableWrite(PriceTables.Silver, PriceBarBatches.ToBatch([bar with { Volume = bar.Volume + c + 1 }]), "bench")])
                .ConfigureAwait(false);
        }
        if (extraCommits > 0)
        {
            Console.WriteLine($"  {extraCommits} one-row corrections in {sw.Elapsed.TotalSeconds:F1} s; version {store.LatestVersion}");
        }
        var listings = new List<double>();
        var listed = 0;
        for (var r = 0; r < 5; r++)
        {
            var t = Stopwatch.GetTimestamp();
            listed = store.ListVersions(PriceTables.Silver, limit: int.MaxValue).Count;
            listings.Add(Stats.Ms(t));
        }
        var fresh = LakeStore.Open(new StoreOptions { DataDir = lake });
        fresh.WaitReady();
        var t0 = Stopwatch.GetTimestamp();
        var freshListed = fresh.ListVersions(PriceTables.Silver, limit: int.MaxValue).Count;
        var freshMs = Stats.Ms(t0);
        Console.WriteLine($"  list-versions of silver: {listed:N0} versions, median of 5 {Stats.Median(listings):F1} ms; on a store opened afresh {freshListed:N0} in {freshMs:F1} ms");
        return 0;
    }

    /// <summary>
    /// A lake this harness made before (<c>--reuse-at</c> the old version to scan): the first listing of silver's
    /// versions in this process (what <c>lakehouse versions</c> or a restarted server pays), the listing again (in
    /// memory), then <c>--scans</c> full scans of silver at that version and at the current one, alternated.
    /// </summary>
    private static int Reuse(string lake, long oldVersion, int points, int scans)
    {
        _ = points;
        var store = LakeStore.Open(new StoreOptions { DataDir = lake });
        store.WaitReady();
        Console.WriteLine($"versions: reusing {lake} at version {store.LatestVersion}; old version {oldVersion}");
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var t0 = Stopwatch.GetTimestamp();
        var listed = store.ListVersions(PriceTables.Silver, limit: int.MaxValue).Count;
        var firstMs = Stats.Ms(t0);
        var firstCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds;
        var listings = new List<double>();
        for (var r = 0; r < 5; r++)
        {
            var t = Stopwatch.GetTimestamp();
            store.ListVersions(PriceTables.Silver, limit: int.MaxValue);
            listings.Add(Stats.Ms(t));
        }
        Console.WriteLine($"  list-versions of silver: {listed:N0} versions; first listing of this process {firstMs:F1} ms ({firstCpu:F0} ms CPU, "
            + $"{store.Summaries.Rebuilt} summary files rebuilt from entries), then median of 5 {Stats.Median(listings):F1} ms");
        if (scans > 0)
        {
            var old = ReadAsOf.AtVersion(oldVersion);
            var scanNow = new List<double>();
            var scanOld = new List<double>();
            var process = Process.GetCurrentProcess();
            for (var r = 0; r < scans; r++)
            {
                var cpu0 = process.TotalProcessorTime;
                scanNow.Add(Scan(store, TableQuery.Create()));
                process.Refresh();
                var cpu1 = process.TotalProcessorTime;
                scanOld.Add(Scan(store, TableQuery.Create().WithAsOf(old)));
                process.Refresh();
                var cpu2 = process.TotalProcessorTime;
                Console.WriteLine($"    scan {r + 1}: current {scanNow[^1]:F0} MB/s ({(cpu1 - cpu0).TotalMilliseconds:F0} ms CPU), "
                    + $"as of version {oldVersion} {scanOld[^1]:F0} MB/s ({(cpu2 - cpu1).TotalMilliseconds:F0} ms CPU)");
            }
            Console.WriteLine($"  full scan MB/s, median of {scans}: current {Stats.Median(scanNow):F0}, as of version {oldVersion} {Stats.Median(scanOld):F0}: "
                + $"{Stats.Median(scanOld) / Stats.Median(scanNow):F2}x");
        }
        return 0;
    }

    private static async Task Land(LakeStore store, LakeWriter writer, IReadOnlyList<PriceBar> bars)
    {
        var batch = PriceBarBatches.ToBatch(bars);
        var committed = await store.WriteAsync([new TableWrite(PriceTables.Bronze, batch, "bench"), new TableWrite(PriceTables.Silver, batch, "bench")])
            .ConfigureAwait(false);
        var result = await writer.AfterCommitAsync(committed).ConfigureAwait(false);
        if (result.GoldError is { } error)
        {
            throw error;
        }
    }

    private static List<double> PointReads(LakeStore store, TableQuery[] queries, ReadAsOf? asOf)
    {
        foreach (var q in queries)
        {
            _ = store.Read(asOf is null ? q : q.WithAsOf(asOf)).Sum(b => b.Length);
        }
        var samples = new List<double>(queries.Length);
        foreach (var q in queries)
        {
            var t = Stopwatch.GetTimestamp();
            _ = store.Read(asOf is null ? q : q.WithAsOf(asOf)).Sum(b => b.Length);
            samples.Add(Stats.Ms(t));
        }
        return samples;
    }

    private static double Scan(LakeStore store, TableQuery query)
    {
        var t = Stopwatch.GetTimestamp();
        long bytes = 0;
        foreach (var b in store.Read(query))
        {
            bytes += Stats.ArrowBytes(b);
        }
        return bytes / 1e6 / Stopwatch.GetElapsedTime(t).TotalSeconds;
    }

    /// <summary>Bytes of every data file in the file store (current and superseded, not yet vacuumed).</summary>
    private static long StoreBytes(string lake) =>
        new DirectoryInfo(Path.Combine(lake, "_metadata", "data")).EnumerateFiles("*.parquet", SearchOption.AllDirectories).Sum(f => f.Length);

    /// <summary>Bytes of the current version's data files, every table.</summary>
    private static long CurrentBytes(LakeStore store) =>
        store.Catalog.Tables.Sum(t => store.Stats(t).Bytes);

    private static DateOnly NextBusinessDay(DateOnly d)
    {
        do
        {
            d = d.AddDays(1);
        }
        while (d.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday);
        return d;
    }
}
