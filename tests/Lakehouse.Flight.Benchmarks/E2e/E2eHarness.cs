using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage;
using static Lakehouse.Flight.Benchmarks.E2e.ReportTable;

namespace Lakehouse.Flight.Benchmarks.E2e;

/// <summary>
/// One run, one machine, one data set: generate the universe, measure our reader and the baselines
/// in-process, then the server over Flight, and print every figure with its ratio to the baselines.
/// The server parts report "server unavailable: why" instead of failing the run.
/// </summary>
internal static class E2eHarness
{
    public static async Task<int> RunAsync(string[] args)
    {
        E2eOptions o;
        try
        {
            o = E2eOptions.Parse(args);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException)
        {
            Console.Error.WriteLine(ex.Message);
            return 2;
        }
        var log = Console.Out;
        var owned = o.DataDir is null;
        var dataDir = Path.GetFullPath(o.DataDir ?? Path.Combine(Path.GetTempPath(), "lakehouse-bench", $"e2e-{Environment.ProcessId}-{Guid.NewGuid():N}"));
        var table = new ReportTable();
        var total = Stopwatch.GetTimestamp();
        try
        {
            await RunAllAsync(o, dataDir, table, log).ConfigureAwait(false);
        }
        finally
        {
            if (owned && !o.Keep)
            {
                TryDelete(dataDir);
            }
        }
        log.WriteLine();
        log.WriteLine($"## e2e results: {o.Symbols} symbols x {o.Years} years ({o.From:yyyy-MM-dd}..{o.To:yyyy-MM-dd}), " +
            $"{o.PointQueries} point queries, {o.Streams} streams; {Environment.ProcessorCount} cores, {RuntimeInformation.FrameworkDescription}; " +
            $"run took {Stopwatch.GetElapsedTime(total).TotalSeconds:F0} s");
        log.WriteLine();
        table.Print(log);
        return 0;
    }

    private static async Task RunAllAsync(E2eOptions o, string dataDir, ReportTable t, TextWriter log)
    {
        // 1. The universe.
        if (o.Reuse && Directory.Exists(Path.Combine(dataDir, "silver")))
        {
            log.WriteLine($"reusing {dataDir}");
            // Leftovers of the seed-era engine's compacted copies are removed, so a reused lake reads the data files alone.
            TryDelete(Path.Combine(dataDir, "_metadata", "compact"));
        }
        else
        {
            log.WriteLine($"generating {o.Symbols} symbols x {o.Years} years into {dataDir}");
            var (rows, seconds) = Universe.Generate(o, dataDir, log);
            t.Add($"generate: UpsertAsync, {o.ChunkSymbols} symbols x {o.Years} y per call", $"{F(rows / seconds)} rows/s ({F(rows)} rows in {F(seconds, "F1")} s)");
        }

        var queries = PointQueries(o, o.PointQueries, 42);
        var planQueries = PointQueries(o, Math.Min(o.PointQueries, 200), 7);
        // Warm-up calls (JIT, first file opens) with other months, so the measured calls are steady state.
        var warmup = PointQueries(o, 20, 99);

        // 2. In-process baselines: our reader with no network, IPC serialisation, planning.
        log.WriteLine("in-process: point queries (cache off)");
        var cold = LakeStore.Open(new StoreOptions { DataDir = dataDir, CacheBytes = 0 });
        InProcessRuns.PointQueries(cold, warmup);
        var inColdPoint = InProcessRuns.PointQueries(cold, queries);
        log.WriteLine("in-process: full scans");
        var store = LakeStore.Open(new StoreOptions { DataDir = dataDir });
        // The directories are loaded in the background (D25).
        store.WaitReady();
        var indexed = store.DataFiles;
        InProcessRuns.Plans(store, warmup);
        var inPlanSmall = InProcessRuns.Plans(store, planQueries);
        var scanCold = InProcessRuns.FullScan(store);
        var kept = new List<RecordBatch>();
        var scanWarm = InProcessRuns.FullScan(store, kept);
        var inWarmPoint = InProcessRuns.PointQueries(store, queries);
        var inPlanWarm = InProcessRuns.Plans(store, planQueries);
        log.WriteLine("in-process: Arrow IPC serialisation");
        var (ipc, ipcBytes) = InProcessRuns.IpcSerialise(kept, store.SchemaOf(TableQuery.Create()));
        kept.Clear();
        var stats = store.Stats(PriceTables.Silver);
        var managed = GC.GetTotalMemory(forceFullCollection: true);
        var (selfRss, selfHwm) = Stats.ProcMemory();
        log.WriteLine($"in-process: RSS {selfRss:F0} MiB after scans");

        t.Add("in-process point query (1 symbol x 1 month), cache off", $"median {Ms(Stats.Median(inColdPoint))}, p99 {Ms(Stats.Percentile(inColdPoint, 99))} ({inColdPoint.Count} calls)");
        t.Add("in-process point query, cache warm", $"median {Ms(Stats.Median(inWarmPoint))}, p99 {Ms(Stats.Percentile(inWarmPoint, 99))} ({inWarmPoint.Count} calls)");
        t.Add("in-process full scan (LakeStore.Read), cache cold", Rate(scanCold), X(scanCold.RowsPerSecond, scanWarm.RowsPerSecond, "of warm"));
        t.Add("in-process full scan, cache warm", Rate(scanWarm));
        t.Add("in-process store memory, cache warm after full scans (this process; VmRSS, VmHWM)",
            $"RSS {F(selfRss)} MiB, HWM {F(selfHwm)} MiB, managed heap after full GC {F(managed / 1048576.0)} MiB; " +
            $"cache accounts {F(stats.CachedBytes / 1048576.0)} MiB holding {F(stats.CachedRows)} rows",
            Join(X(managed, stats.CachedBytes, "the cache's own accounting (managed heap)"), X(selfRss * 1048576.0, stats.CachedBytes, "it (RSS)")));
        t.Add("Arrow IPC serialisation of the same batches to memory (into a reused 1 MiB buffer; median of 3)", Rate(ipc) + $", {F(ipcBytes / 1e6, "F0")} MB of IPC");

        t.Add($"in-process Plan, 1 symbol x 1 month, {F(indexed)} data files, cache cold (row counts from the files' directories)",
            $"median {Ms(Stats.Median(inPlanSmall))}, p99 {Ms(Stats.Percentile(inPlanSmall, 99))}");
        t.Add($"in-process Plan, 1 symbol x 1 month, {F(indexed)} data files, cache warm",
            $"median {Ms(Stats.Median(inPlanWarm))}, p99 {Ms(Stats.Percentile(inPlanWarm, 99))}");
        store = null!;
        cold = null!;
        GC.Collect();
        GC.WaitForPendingFinalizers();

        // What a server start-up pays to have every partition in memory (LakeStore.Warm, all cores).
        log.WriteLine("in-process: Warm()");
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        var fresh = LakeStore.Open(new StoreOptions { DataDir = dataDir });
        var warmStart = Stopwatch.GetTimestamp();
        var warmed = fresh.Warm(PriceTables.Silver);
        var warmSeconds = Stopwatch.GetElapsedTime(warmStart).TotalSeconds;
        var heapWarm = GC.GetTotalMemory(forceFullCollection: true) - heapBefore;
        var warmStats = fresh.Stats(PriceTables.Silver);
        t.Add("in-process LakeStore.Warm() (decode every file into the cache, all cores)",
            $"{F(warmed / warmSeconds)} rows/s ({F(warmed)} rows in {F(warmSeconds, "F2")} s)",
            X(scanWarm.Rows / warmSeconds, scanCold.RowsPerSecond, "in-process cold scan (rows/s)"));
        t.Add("in-process managed heap held by a warmed store (GC.GetTotalMemory(true) after Open + Warm() minus before)",
            $"{F(heapWarm / 1048576.0)} MiB; cache accounts {F(warmStats.CachedBytes / 1048576.0)} MiB holding {F(warmStats.CachedRows)} rows",
            X(heapWarm, warmStats.CachedBytes, "the cache's own accounting"));
        fresh = null!;
        GC.Collect();
        GC.WaitForPendingFinalizers();

        // The in-process baseline of DoPut: the same landing (bronze + promote to silver) with no network.
        // A lake of its own, so the server's scans below see exactly the universe the in-process scans saw.
        var landDir = dataDir.TrimEnd('/') + "-land";
        var (landRows, landSeconds) = InProcessRuns.Land(landDir, PutSymbols(o, "PIN"), PutFrom(o), o.To, PerPut(o));
        TryDelete(landDir);
        var landRate = landRows / Math.Max(landSeconds, 1e-9);
        if (landRows > 0)
        {
            t.Add($"in-process LandAsync into bronze with promote ({PerPut(o)} symbols x {o.PutYears} y per call)",
                $"{F(landRate)} rows/s ({F(landRows)} rows in {F(landSeconds, "F2")} s)");
        }

        // 3. DuckDB on the same folders.
        (long Rows, double Seconds)? duckScan = null;
        List<double>? duckPoint = null;
        if (!o.SkipDuckDb)
        {
            log.WriteLine($"duckdb: full scan and point queries (harness RSS {Stats.ProcMemory().RssMiB:F0} MiB before)");
            try
            {
                using var duck = new DuckDbRuns(dataDir);
                duckScan = duck.FullScan();
                log.WriteLine($"duckdb: RSS {Stats.ProcMemory().RssMiB:F0} MiB after the full scan");
                duckPoint = duck.PointQueries(queries.Take(Math.Min(queries.Count, 20)).ToArray());
                var duckRate = new InProcessRuns.Scan(duckScan.Value.Rows, scanWarm.Bytes, duckScan.Value.Seconds);
                t.Add("DuckDB full scan of the Parquet folders (aggregate over every column)", Rate(duckRate) + " (MB = our Arrow bytes of the same rows)",
                    Join(X(duckRate.RowsPerSecond, scanCold.RowsPerSecond, "in-process cold scan")));
                t.Add("DuckDB point query (read_parquet of the table folder + symbol and date filter)", $"median {Ms(Stats.Median(duckPoint))}, p99 {Ms(Stats.Percentile(duckPoint, 99))} ({duckPoint.Count} calls)");
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                t.Unavailable("DuckDB baseline", ex.GetType().Name + ": " + ex.Message);
            }
        }
        var duckRows = duckScan is { } d ? d.Rows / d.Seconds : double.NaN;

        // 4. The server over Flight.
        const string Server = "server";
        string? why = null;
        if (o.SkipServer)
        {
            why = "skipped (--skip-server)";
        }
        var dll = o.ServerDll ?? FindServerDll();
        ServerProcess? server = null;
        if (why is null)
        {
            log.WriteLine($"server: starting {dll ?? "(lakehouse.dll not found)"}");
            (server, why) = dll is null
                ? (null, "lakehouse.dll not found (build src/Lakehouse.Flight.Cli -c Release, or pass --server-dll)")
                : await ServerProcess.StartAsync(dll, dataDir, o.ServerStartTimeout).ConfigureAwait(false);
        }
        if (server is null)
        {
            foreach (var figure in new[]
            {
                "DoGet point query (1 symbol x 1 month), server cache cold", "DoGet point query, server cache warm",
                "GetFlightInfo 1 symbol (planning)", "DoGet full scan, 1 stream", $"DoGet full scan, {o.Streams} parallel endpoint streams",
                "server peak memory during full scans", "DoPut into bronze with promote",
            })
            {
                t.Unavailable(figure, $"{Server} unavailable: {why}");
            }
            return;
        }
        await using (server.ConfigureAwait(false))
        {
            try
            {
                await MeasureServerAsync(o, server, t, log, queries, planQueries, inColdPoint, inWarmPoint, inPlanSmall,
                    scanCold, scanWarm, ipc, duckRows, duckPoint, landRate).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                var reason = server.HasExited ? "server exited during the run" : ex.GetType().Name + ": " + ex.Message;
                t.Unavailable("server run stopped", $"{Server} unavailable: {reason.ReplaceLineEndings(" ")}");
            }
        }
    }

    private static async Task MeasureServerAsync(E2eOptions o, ServerProcess server, ReportTable t, TextWriter log,
        IReadOnlyList<TableQuery> queries, IReadOnlyList<TableQuery> planQueries, List<double> inColdPoint, List<double> inWarmPoint,
        List<double> inPlanSmall, InProcessRuns.Scan scanCold, InProcessRuns.Scan scanWarm, InProcessRuns.Scan ipc,
        double duckRows, List<double>? duckPoint, double landRate)
    {
        using var flight = new FlightRuns(server.Address);
        var (startRss, _) = server.Memory();
        log.WriteLine($"server: listening on {server.Address} (pid {server.Pid}, RSS {startRss / 1024} MiB); point queries (cold)");
        await flight.PointQueriesAsync(PointQueries(o, 20, 99)).ConfigureAwait(false);
        var coldPoint = await flight.PointQueriesAsync(queries).ConfigureAwait(false);
        var duckMedian = duckPoint is null ? double.NaN : Stats.Median(duckPoint);
        t.Add("DoGet point query (1 symbol x 1 month), server cache cold",
            $"median {Ms(Stats.Median(coldPoint))}, p99 {Ms(Stats.Percentile(coldPoint, 99))} ({coldPoint.Count} calls)",
            Join(L(Stats.Median(coldPoint), Stats.Median(inColdPoint), "in-process, cache off"), L(Stats.Median(coldPoint), duckMedian, "DuckDB")));

        log.WriteLine("server: GetFlightInfo planning");
        await flight.PlanOneSymbolAsync(PointQueries(o, 20, 99)).ConfigureAwait(false);
        var plans = await flight.PlanOneSymbolAsync(planQueries).ConfigureAwait(false);
        t.Add("GetFlightInfo 1 symbol x 1 month (planning, real index, server cache cold)", $"median {Ms(Stats.Median(plans))}, p99 {Ms(Stats.Percentile(plans, 99))} ({plans.Count} calls)",
            L(Stats.Median(plans), Stats.Median(inPlanSmall), "in-process Plan, cache cold"));

        log.WriteLine("server: full scans");
        server.StartSampling();
        var one = await flight.FullScanOneStreamAsync().ConfigureAwait(false);
        t.Add("DoGet full scan, 1 stream, server cache cold", Rate(one),
            Join(X(one.RowsPerSecond, scanCold.RowsPerSecond, "in-process cold scan"), X(one.RowsPerSecond, duckRows, "DuckDB scan")));
        var oneWarm = await flight.FullScanOneStreamAsync().ConfigureAwait(false);
        t.Add("DoGet full scan, 1 stream, server cache warm", Rate(oneWarm),
            Join(X(oneWarm.RowsPerSecond, scanWarm.RowsPerSecond, "in-process warm scan"), X(oneWarm.MBPerSecond, ipc.MBPerSecond, "IPC serialisation"),
                X(oneWarm.RowsPerSecond, duckRows, "DuckDB scan")));
        var (par, endpoints) = await flight.FullScanParallelAsync(o.Streams).ConfigureAwait(false);
        t.Add($"DoGet full scan, {o.Streams} parallel endpoint streams ({endpoints} endpoints), cache warm", Rate(par),
            Join(X(par.RowsPerSecond, oneWarm.RowsPerSecond, "1 stream"), X(par.RowsPerSecond, scanWarm.RowsPerSecond, "in-process warm scan"),
                X(par.MBPerSecond, ipc.MBPerSecond, "IPC serialisation"), X(par.RowsPerSecond, duckRows, "DuckDB scan")));
        var peak = await server.StopSamplingAsync().ConfigureAwait(false);
        var (_, hwm) = server.Memory();
        t.Add("server memory during full scans (VmRSS sampled every 20 ms; VmHWM)",
            $"peak RSS {F(peak / 1024.0, "N0")} MiB (start {F(startRss / 1024.0, "N0")} MiB), VmHWM {F(hwm / 1024.0, "N0")} MiB",
            $"data scanned: {F(scanWarm.Bytes / 1e6, "N0")} MB of Arrow");

        var warmPoint = await flight.PointQueriesAsync(queries).ConfigureAwait(false);
        t.Add("DoGet point query, server cache warm", $"median {Ms(Stats.Median(warmPoint))}, p99 {Ms(Stats.Percentile(warmPoint, 99))} ({warmPoint.Count} calls)",
            Join(L(Stats.Median(warmPoint), Stats.Median(inWarmPoint), "in-process, cache warm"), L(Stats.Median(warmPoint), duckMedian, "DuckDB")));

        log.WriteLine("server: curl (HTTP/2 DoGet, HTTP/1.1 Arrow stream)");
        await CurlFiguresAsync(o, server, t, scanWarm, ipc, oneWarm, Stats.Median(warmPoint)).ConfigureAwait(false);

        if (o.PutSymbols > 0)
        {
            log.WriteLine("server: DoPut");
            var perPut = PerPut(o);
            var (rows, seconds, report) = await flight.PutAsync(PutSymbols(o, "PUT"), PutFrom(o), o.To, perPut).ConfigureAwait(false);
            t.Add($"DoPut into bronze with promote ({perPut} symbols x {o.PutYears} y per call)", $"{F(rows / seconds)} rows/s ({F(rows)} rows in {F(seconds, "F2")} s)",
                Join(X(rows / seconds, landRate, "in-process LandAsync"),
                    report.Length > 0 ? "PutResult starts " + (report.Length > 60 ? report[..60] + "..." : report) : "no PutResult metadata"));
        }
    }

    /// <summary>
    /// The server's output measured with curl as the client (C, no .NET in the reader): full scans warm over
    /// HTTP/2 DoGet and the HTTP/1.1 Arrow stream, uncompressed, LZ4 and ZSTD, the server's CPU per scan, and point queries.
    /// </summary>
    private static async Task CurlFiguresAsync(E2eOptions o, ServerProcess server, ReportTable t, InProcessRuns.Scan scanWarm,
        InProcessRuns.Scan ipc, InProcessRuns.Scan dotnetScan, double dotnetPointMs)
    {
        // The curl lines are the warm server's figures: not while it still warms its serving code (D30).
        var waitUntil = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (server.StartupToCodeWarm is null && !server.HasExited && DateTime.UtcNow < waitUntil)
        {
            await Task.Delay(100).ConfigureAwait(false);
        }
        t.Add("server start to 'Flight listening' (process start, Kestrel bound)", $"{F(server.StartupToListening.TotalSeconds, "F2")} s");
        t.Add("server start to 'Cache warmed' (index listed, silver in the cache)",
            server.StartupToCacheWarm is { } cache ? $"{F(cache.TotalSeconds, "F2")} s" : "not printed before this line");
        t.Add("server start to 'Serving code warmed' (/health ok; decisions D30)",
            server.StartupToCodeWarm is { } code ? $"{F(code.TotalSeconds, "F2")} s" : "not printed within 60 s of the curl lines",
            "the server figures above this line measured before this time shared the CPU with the warm-up; the curl lines wait for it");
        var scans = new (string Figure, bool Http, string Query)[]
        {
            ("curl HTTP/2 DoGet full scan, warm", false, "{}"),
            ("curl HTTP/2 DoGet full scan, warm, LZ4_FRAME", false, """{"compression":"lz4"}"""),
            ("curl HTTP/2 DoGet full scan, warm, ZSTD", false, """{"compression":"zstd"}"""),
            ("curl HTTP/1.1 GET /prices/arrow full scan, warm", true, ""),
            ("curl HTTP/1.1 GET /prices/arrow full scan, warm, LZ4_FRAME", true, "compression=lz4"),
            ("curl HTTP/1.1 GET /prices/arrow full scan, warm, ZSTD", true, "compression=zstd"),
        };
        if (CurlRuns.Missing() is { } missing)
        {
            foreach (var s in scans)
            {
                t.Unavailable(s.Figure, "curl unavailable: " + missing);
            }
            return;
        }
        var curl = new CurlRuns(server.Address, server.HttpAddress);
        var calls = Math.Max(3, o.CurlScans);
        var (ceilingH2, ceilingH1) = await KestrelCeilingsAsync(t, scanWarm.Bytes, calls).ConfigureAwait(false);
        var (peerH2, peerH1) = await NginxPeerAsync(t, scanWarm.Bytes, calls).ConfigureAwait(false);
        double? plainH2 = null;
        foreach (var (figure, http, query) in scans)
        {
            if (http && server.HttpAddress is null)
            {
                t.Unavailable(figure, "the server printed no 'HTTP listening on' line");
                continue;
            }
            await (http ? curl.HttpArrowAsync(query, 1) : curl.DoGetAsync(query, 1)).ConfigureAwait(false);
            var cpu0 = server.CpuTime();
            var runs = await (http ? curl.HttpArrowAsync(query, calls) : curl.DoGetAsync(query, calls)).ConfigureAwait(false);
            var cpuMs = (server.CpuTime() - cpu0).TotalMilliseconds / calls;
            var seconds = Stats.Median(runs.Select(r => r.Seconds).ToList());
            var wireMB = runs[0].Bytes / 1e6;
            var rowsPerSecond = scanWarm.Rows / seconds;
            var mbPerSecond = scanWarm.Bytes / 1e6 / seconds;
            plainH2 ??= mbPerSecond;
            t.Add(figure, $"{F(rowsPerSecond)} rows/s, {F(mbPerSecond, "F0")} MB/s (median of {calls}: {F(seconds * 1000, "F1")} ms; {F(wireMB, "F1")} MB on the wire; server CPU {F(cpuMs, "F0")} ms per scan)",
                Join(http ? X(mbPerSecond, ceilingH1, "Kestrel HTTP/1.1 ceiling") : X(mbPerSecond, ceilingH2, "Kestrel HTTP/2 ceiling"),
                    http ? X(mbPerSecond, peerH1, "nginx HTTP/1.1") : X(mbPerSecond, peerH2, "nginx HTTP/2"),
                    X(mbPerSecond, ipc.MBPerSecond, "IPC serialisation"), X(rowsPerSecond, dotnetScan.RowsPerSecond, ".NET Flight client DoGet"),
                    X(mbPerSecond, plainH2.Value, "curl HTTP/2 DoGet uncompressed")));
        }
        var point = $$"""{"symbols":["{{Universe.Symbol(1)}}"],"date_from":"{{o.To.Year}}-03-01","date_to":"{{o.To.Year}}-03-31"}""";
        await curl.DoGetAsync(point, 10).ConfigureAwait(false);
        var points = (await curl.DoGetAsync(point, Math.Min(o.PointQueries, 200)).ConfigureAwait(false)).Select(r => r.Seconds * 1000).ToList();
        t.Add("curl HTTP/2 DoGet point query (1 symbol x 1 month), warm, a new connection per call",
            $"median {Ms(Stats.Median(points))}, p99 {Ms(Stats.Percentile(points, 99))} ({points.Count} calls)",
            L(Stats.Median(points), dotnetPointMs, ".NET Flight client, one channel"));
    }

    /// <summary>
    /// Kestrel's own ceilings to curl for as many bytes as a full scan (<see cref="KestrelCeiling"/>): the same
    /// machine, transport and reader as the DoGet lines, nothing of ours in the way.
    /// </summary>
    private static async Task<(double Http2, double Http1)> KestrelCeilingsAsync(ReportTable t, long bytes, int calls)
    {
        using var ceiling = await KestrelCeiling.StartAsync().ConfigureAwait(false);
        // Warmed as the server is by then (its code tiered up by the .NET client's scans): 20 calls first.
        var query = "/bytes?n=" + bytes.ToString(CultureInfo.InvariantCulture);
        var h2 = await CurlRateAsync(t, "Kestrel's own HTTP/2 (h2c) ceiling to curl: the scan's bytes from one buffer, 1 MiB writes in 64 KiB pieces (a bare Kestrel process)",
            new Uri(ceiling.Http2, query), true, bytes, 20, calls, ceiling.CpuTime).ConfigureAwait(false);
        var h1 = await CurlRateAsync(t, "Kestrel's own HTTP/1.1 ceiling to curl: the same", new Uri(ceiling.Http1, query), false, bytes, 20, calls,
            ceiling.CpuTime).ConfigureAwait(false);
        return (h2, h1);
    }

    /// <summary>
    /// A C server's output to curl for as many bytes as a full scan (<see cref="NginxPeer"/>), the stand-in here for
    /// issue 13's C++ Flight server; NaN (no ratio printed) where nginx is not installed.
    /// </summary>
    private static async Task<(double Http2, double Http1)> NginxPeerAsync(ReportTable t, long bytes, int calls)
    {
        const string H2 = "nginx HTTP/2 (h2c) to curl: a file of the scan's bytes from the page cache, sendfile off (C server; issue 13's peer stand-in)";
        const string H1 = "nginx HTTP/1.1 to curl: the same";
        if (NginxPeer.Missing() is { } missing)
        {
            t.Unavailable(H2, missing);
            t.Unavailable(H1, missing);
            return (double.NaN, double.NaN);
        }
        using var peer = await NginxPeer.StartAsync(bytes).ConfigureAwait(false);
        var h2 = await CurlRateAsync(t, H2, peer.Http2, true, bytes, 5, calls, peer.CpuTime).ConfigureAwait(false);
        var h1 = await CurlRateAsync(t, H1, peer.Http1, false, bytes, 5, calls, peer.CpuTime).ConfigureAwait(false);
        return (h2, h1);
    }

    /// <summary>
    /// A reference server's rate to curl: <paramref name="warmup"/> unmeasured GETs, then the median of
    /// <paramref name="calls"/>, with the server's CPU per call; the row added to the table, the MB/s returned.
    /// </summary>
    private static async Task<double> CurlRateAsync(ReportTable t, string figure, Uri url, bool http2, long bytes, int warmup, int calls,
        Func<TimeSpan> cpuTime)
    {
        await CurlRuns.GetAsync(url, http2, warmup).ConfigureAwait(false);
        var cpu0 = cpuTime();
        var runs = await CurlRuns.GetAsync(url, http2, calls).ConfigureAwait(false);
        var cpuMs = (cpuTime() - cpu0).TotalMilliseconds / calls;
        if (runs.Any(r => r.Bytes != bytes))
        {
            throw new InvalidOperationException($"{url} sent {runs[0].Bytes} bytes, not {bytes}");
        }
        var seconds = Stats.Median(runs.Select(r => r.Seconds).ToList());
        var rate = bytes / 1e6 / seconds;
        t.Add(figure, $"{F(rate, "F0")} MB/s (median of {calls}: {F(seconds * 1000, "F1")} ms for {F(bytes / 1e6, "F1")} MB; its CPU {F(cpuMs, "F0")} ms per call)");
        return rate;
    }

    private static string[] PutSymbols(E2eOptions o, string prefix) =>
        Enumerable.Range(1, o.PutSymbols).Select(i => prefix + i.ToString("D4", CultureInfo.InvariantCulture)).ToArray();

    private static DateOnly PutFrom(E2eOptions o) => new(o.LastYear - o.PutYears + 1, 1, 1);

    private static int PerPut(E2eOptions o) => Math.Max(1, Math.Min(10, o.PutSymbols));

    /// <summary>Deterministic 1 symbol x 1 month queries over the universe.</summary>
    internal static List<TableQuery> PointQueries(E2eOptions o, int count, int seed)
    {
        var rng = new Random(seed);
        var months = o.Years * 12;
        var list = new List<TableQuery>(count);
        for (var i = 0; i < count; i++)
        {
            var symbol = Universe.Symbol(rng.Next(1, o.Symbols + 1));
            var first = o.From.AddMonths(rng.Next(months));
            var last = first.AddMonths(1).AddDays(-1);
            list.Add(TableQuery.Create(symbols: [symbol], dateFrom: first.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                dateTo: last.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)));
        }
        return list;
    }

    /// <summary>src/Lakehouse.Flight.Cli/bin/{Release,Debug}/net10.0/lakehouse.dll above this program's folder.</summary>
    internal static string? FindServerDll()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            foreach (var config in new[] { "Release", "Debug" })
            {
                var candidate = Path.Combine(dir.FullName, "src", "Lakehouse.Flight.Cli", "bin", config, "net10.0", "lakehouse.dll");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }
        return null;
    }

    private static void TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
