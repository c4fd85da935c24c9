using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using DuckDB.NET.Data;
using Lakehouse.Flight.Client;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Ingestion;
using static Lakehouse.Flight.Benchmarks.E2e.ReportTable;

namespace Lakehouse.Flight.Benchmarks.E2e;

/// <summary>
/// <c>lake --symbols N --years Y</c>: issue 22's targets at one size, each through the command path a user takes,
/// for the build measured and (at sizes up to <c>--old-max-rows</c>) the previous engine beside it. A figure that
/// cannot be measured reads "n/a: why"; the run goes on. Order, so that writes never change what is read:
/// ingest (writes the lake), disk, DuckDB, pyarrow.dataset, a server with a cache smaller than the lake (cold point
/// queries, full scans), a server with the default cache (start-up, warm point queries, then the writes: pandas DoPut,
/// daily append, corrections).
/// </summary>
internal static class LakeHarness
{
    private const string OldDllDefault = "/work/old-c4ce624/src/Lakehouse.Flight.Cli/bin/Release/net10.0/lakehouse.dll";

    private static readonly LakeTarget[] TargetList =
    [
        new("ingest", "writes: `lakehouse ingest --source synthetic` (CLI process, bronze + silver + gold, compaction)", "rows/s", ">= 500K rows/s", v => v >= 500_000, true),
        new("put_ack", "writes: pandas-shaped DoPut (pyarrow; {\"promote\": true}, no \"wait\" flag), acknowledged", "rows/s", ">= 1M rows/s", v => v >= 1_000_000, true),
        new("put_applied", "writes: the same DoPut applied until DuckDB counts its rows (sustained)", "rows/s", ">= 500K rows/s", v => v >= 500_000, true),
        new("append", "daily append: all symbols x 1 new day, DoPut wait=true, applied (median)", "ms", "<= 2,000 ms", v => v <= 2000, false),
        new("correction", "one-row correction to a past date, DoPut wait=true, applied (median)", "ms", "<= 100 ms", v => v <= 100, false),
        new("reference", "disk: the same rows as one pyarrow zstd Parquet file sorted by (symbol, date)", "bytes", "", null, false),
        new("silver_ratio", "disk: silver / that file", "x", "<= 1.5x", v => v <= 1.5, false),
        new("lake_ratio", "disk: whole lake (bronze, silver, gold, _metadata; retained versions excluded) / that file", "x", "<= 5x", v => v <= 5, false),
        new("duck_count", "DuckDB count(*) over silver/prices_daily/**/*.parquet, hive_partitioning=1 (fresh connection, median)", "s", "<= 1 s", v => v <= 1, false),
        new("duck_point", "DuckDB 1 symbol x 1 month over the same glob (fresh connection per query, median)", "s", "<= 0.5 s", v => v <= 0.5, false),
        new("dataset", "pyarrow.dataset(silver).to_table() full read (median)", "MB/s", ">= 300 MB/s", v => v >= 300, true),
        new("start_listen", "server: process start to 'Flight listening'", "s", "<= 1 s", v => v <= 1, false),
        new("start_ok", "server: process start to /health state ok", "s", "<= 10 s", v => v <= 10, false),
        new("point_warm", "server: DoGet point query (1 symbol x 1 month), warm, p50 (.NET Flight client)", "ms", "<= 0.5 ms", v => v <= 0.5, false),
        new("point_warm_p99", "server: the same, p99", "ms", "", null, false),
        new("point_cold", "server: DoGet point query, cold (first query of a symbol after start, cache smaller than the lake), p50", "ms", "<= 5 ms", v => v <= 5, false),
        new("point_cold_p99", "server: the same, p99", "ms", "", null, false),
        new("scan_pyarrow", "server: full Flight scan, cache smaller than the lake, pyarrow do_get().read_all() (median)", "MB/s", ">= 500 MB/s", v => v >= 500, true),
        new("scan_curl", "server: the same scan read by curl (HTTP/2 DoGet, median)", "MB/s", ">= 500 MB/s", v => v >= 500, true),
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        LakeOptions o;
        try
        {
            o = LakeOptions.Parse(args);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException)
        {
            Console.Error.WriteLine(ex.Message);
            return 2;
        }
        var root = Path.GetFullPath(o.DataDir ?? Path.Combine(Path.GetTempPath(), "lakehouse-bench", $"lake-{Environment.ProcessId}"));
        Directory.CreateDirectory(root);
        var rows = (long)o.Symbols * BusinessDays(o.From, o.To);
        var python = FindPython(o);
        var targets = TargetList.ToDictionary(t => t.Key, StringComparer.Ordinal);
        var total = Stopwatch.GetTimestamp();
        var newDll = o.NewServerDll ?? E2eHarness.FindServerDll();
        var now = new LakeResults("new", Commit(newDll));
        LakeResults? old = null;
        try
        {
            Console.Error.WriteLine($"lake: {o.Size} = {rows:N0} rows under {root}; python {python ?? "not found"}");
            await MeasureAsync(o, newDll, root, "lake", rows, python, now).ConfigureAwait(false);
            if (!o.Skips("old"))
            {
                var oldDll = o.ServerDll ?? OldDllDefault;
                old = new LakeResults("old", Commit(oldDll));
                if (rows > o.OldMaxRows)
                {
                    old.NotAvailableUnlessSet(TargetList.Select(t => t.Key), $"old build not run above --old-max-rows {o.OldMaxRows:N0}");
                }
                else
                {
                    await MeasureAsync(o, oldDll, root, "old-lake", rows, python, old).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            if (!o.Keep)
            {
                // Only what this harness writes there; the folder itself when that leaves it empty.
                foreach (var made in new[] { "lake", "old-lake", "upload" })
                {
                    TryDelete(Path.Combine(root, made));
                }
                File.Delete(Path.Combine(root, "reference.parquet"));
                if (!Directory.EnumerateFileSystemEntries(root).Any())
                {
                    Directory.Delete(root);
                }
            }
        }
        Console.WriteLine();
        Console.WriteLine($"## lake: {o.Symbols:N0} symbols x {o.Years} years ({o.From:yyyy-MM-dd}..{o.To:yyyy-MM-dd}) = {rows:N0} rows; new build {now.Commit}" +
            (old is null ? "" : $", old build {old.Commit}") + "; " +
            $"{Environment.ProcessorCount} cores, {RuntimeInformation.FrameworkDescription}; run took {Stopwatch.GetElapsedTime(total).TotalSeconds:F0} s");
        Console.WriteLine();
        LakeReport.Print(Console.Out, o, rows, targets, now, old, o.JsonOut);
        return 0;
    }

    /// <summary>Every figure of one build on its own lake <paramref name="root"/>/<paramref name="name"/>.</summary>
    private static async Task MeasureAsync(LakeOptions o, string? dll, string root, string name, long rows, string? python, LakeResults r)
    {
        var lake = Path.Combine(root, name);
        var silver = Path.Combine(lake, "silver", "prices_daily");
        if (dll is null || !File.Exists(dll))
        {
            r.NotAvailableUnlessSet(TargetList.Select(t => t.Key), $"{dll ?? "lakehouse.dll"} not found (build src/Lakehouse.Flight.Cli -c Release, or pass --server-dll/--new-server-dll)");
            return;
        }
        Console.Error.WriteLine($"[{r.Build}] {dll} on {lake}");

        // 1. The lake, written by the build's own CLI.
        if (o.Reuse && Directory.Exists(silver))
        {
            r.NotAvailable("ingest", "--reuse: the kept lake was not written again");
        }
        else if (!o.Skips("ingest") || !Directory.Exists(silver))
        {
            await Try(r, ["ingest"], () => IngestAsync(o, dll, lake, rows, r)).ConfigureAwait(false);
        }
        if (!Directory.Exists(silver))
        {
            r.NotAvailableUnlessSet(TargetList.Select(t => t.Key), "no lake: the ingest above did not write one");
            return;
        }
        var reference = Path.Combine(root, "reference.parquet");

        // 2. Disk.
        if (!o.Skips("disk"))
        {
            await Try(r, ["reference", "silver_ratio", "lake_ratio"], async () =>
            {
                if (!File.Exists(reference))
                {
                    NeedPython(python);
                    NeedFree(o, root);
                    var chunk = rows > 10_000_000 ? 5_000_000 : 0;
                    var made = await Python(python!, "reference", "--dir", silver, "--out", reference, "--chunk-rows", chunk.ToString(CultureInfo.InvariantCulture))
                        .ConfigureAwait(false);
                    Console.Error.WriteLine($"  reference: {made.GetProperty("how").GetString()} in {made.GetProperty("seconds").GetDouble():F1} s");
                }
                Disk(lake, reference, r);
            }).ConfigureAwait(false);
        }

        // 3. Other engines on the table folder.
        if (!o.Skips("duckdb"))
        {
            await Try(r, ["duck_count"], () => Task.Run(() =>
            {
                var runs = Enumerable.Range(0, 3).Select(_ => DuckCount(silver, rows)).ToList();
                r.Set("duck_count", Stats.Median(runs), $"{F(Stats.Median(runs), "F3")} s (median of 3: {string.Join(", ", runs.Select(s => F(s, "F3")))})");
            })).ConfigureAwait(false);
            await Try(r, ["duck_point"], () => Task.Run(() =>
            {
                var runs = PointQueries(o, Math.Min(o.PointQueries, 10), 11, distinct: false).Select(q => DuckPoint(silver, q)).ToList();
                r.Set("duck_point", Stats.Median(runs), $"{F(Stats.Median(runs), "F3")} s (median of {runs.Count}, max {F(runs.Max(), "F3")} s)");
            })).ConfigureAwait(false);
        }
        long arrowBytes = 0;
        if (!o.Skips("dataset"))
        {
            await Try(r, ["dataset"], async () =>
            {
                NeedPython(python);
                var d = await Python(python!, ["dataset", "--dir", silver, "--budget", F(o.Budget, "F0"), "--max-runs", "3", .. Stream(rows)]).ConfigureAwait(false);
                var runs = d.GetProperty("runs").EnumerateArray().ToList();
                arrowBytes = runs[0].GetProperty("arrow_bytes").GetInt64();
                var seconds = Stats.Median(runs.Select(x => x.GetProperty("seconds").GetDouble()).ToList());
                r.Set("dataset", arrowBytes / 1e6 / seconds,
                    $"{F(arrowBytes / 1e6 / seconds, "F0")} MB/s ({F(arrowBytes / 1e6, "F0")} MB of Arrow, {F(runs[0].GetProperty("rows").GetInt64())} rows, " +
                    $"{F(runs[0].GetProperty("files").GetInt64())} files in {F(seconds, "F2")} s{StreamNote(rows)}; pyarrow {d.GetProperty("pyarrow").GetString()})");
            }).ConfigureAwait(false);
        }

        // 4. A server whose cache is smaller than the lake: cold point queries and full scans.
        if (!(o.Skips("cold") && o.Skips("scan") && o.Skips("curl")))
        {
            var cacheBytes = o.CacheMiB > 0 ? o.CacheMiB * 1048576L : Math.Max(8L << 20, (arrowBytes > 0 ? arrowBytes : rows * 70) / 4);
            await WithServerAsync(o, dll, lake, r, ["point_cold", "point_cold_p99", "scan_pyarrow", "scan_curl"],
                new Dictionary<string, string> { ["Lakehouse__CacheBytes"] = cacheBytes.ToString(CultureInfo.InvariantCulture) },
                async (server, _, _) =>
                {
                    var cacheText = $"cache {F(cacheBytes / 1048576.0)} MiB";
                    if (!o.Skips("cold"))
                    {
                        await Try(r, ["point_cold", "point_cold_p99"], async () =>
                        {
                            using var flight = new FlightRuns(server.Address);
                            // The first symbol opens the channel and runs the read path's code once; it is not counted.
                            var queries = PointQueries(o, o.PointQueries + 1, 5, distinct: true);
                            await flight.PointQueriesAsync(queries.Take(1).ToArray()).ConfigureAwait(false);
                            var samples = await flight.PointQueriesAsync(queries.Skip(1).ToArray()).ConfigureAwait(false);
                            r.Set("point_cold", Stats.Median(samples), $"{Ms(Stats.Median(samples))} ({samples.Count} symbols, each queried once; {cacheText})");
                            r.Set("point_cold_p99", Stats.Percentile(samples, 99), Ms(Stats.Percentile(samples, 99)));
                        }).ConfigureAwait(false);
                    }
                    long scanBytes = arrowBytes;
                    if (!o.Skips("scan"))
                    {
                        await Try(r, ["scan_pyarrow"], async () =>
                        {
                            NeedPython(python);
                            var s = await Python(python!, ["scan", "--address", $"grpc://{server.Address.Host}:{server.Address.Port}", "--ticket", "{}",
                                "--budget", F(o.Budget, "F0"), "--max-runs", "3", .. Stream(rows)]).ConfigureAwait(false);
                            var runs = s.GetProperty("runs").EnumerateArray().ToList();
                            scanBytes = runs[0].GetProperty("arrow_bytes").GetInt64();
                            var seconds = Stats.Median(runs.Select(x => x.GetProperty("seconds").GetDouble()).ToList());
                            r.Set("scan_pyarrow", scanBytes / 1e6 / seconds, $"{F(scanBytes / 1e6 / seconds, "F0")} MB/s ({F(scanBytes / 1e6, "F0")} MB of Arrow, " +
                                $"{F(runs[0].GetProperty("rows").GetInt64())} rows in {F(seconds, "F2")} s{StreamNote(rows)}; {cacheText}; median of {runs.Count})");
                        }).ConfigureAwait(false);
                    }
                    if (!o.Skips("curl"))
                    {
                        await Try(r, ["scan_curl"], async () =>
                        {
                            if (CurlRuns.Missing() is { } missing)
                            {
                                throw new InvalidOperationException(missing);
                            }
                            var calls = await new CurlRuns(server.Address, server.HttpAddress).DoGetAsync("{}", 3).ConfigureAwait(false);
                            var seconds = Stats.Median(calls.Select(c => c.Seconds).ToList());
                            // MB as everywhere here: the Arrow bytes of the rows (pyarrow's count), else the bytes on the wire.
                            var bytes = scanBytes > 0 ? scanBytes : calls[0].Bytes;
                            r.Set("scan_curl", bytes / 1e6 / seconds, $"{F(bytes / 1e6 / seconds, "F0")} MB/s ({F(calls[0].Bytes / 1e6, "F0")} MB on the wire in " +
                                $"{F(seconds, "F2")} s; {cacheText}; median of {calls.Count})");
                        }).ConfigureAwait(false);
                    }
                }).ConfigureAwait(false);
        }

        // 5. A server with its default settings: start-up, warm point queries, then the writes.
        await WithServerAsync(o, dll, lake, r, ["start_listen", "start_ok", "point_warm", "point_warm_p99", "put_ack", "put_applied", "append", "correction"], null,
            async (server, _, okSeconds) =>
            {
                if (!o.Skips("start"))
                {
                    r.Set("start_listen", server.StartupToListening.TotalSeconds, $"{F(server.StartupToListening.TotalSeconds, "F2")} s");
                    if (okSeconds is { } ok)
                    {
                        r.Set("start_ok", ok, $"{F(ok, "F2")} s");
                    }
                    else
                    {
                        r.NotAvailable("start_ok", server.HttpAddress is null ? "the server printed no 'HTTP listening on' line" : $"/health not ok within {o.ServerTimeout.TotalSeconds:F0} s");
                    }
                }
                if (!o.Skips("point"))
                {
                    await Try(r, ["point_warm", "point_warm_p99"], async () =>
                    {
                        using var flight = new FlightRuns(server.Address);
                        var queries = PointQueries(o, o.PointQueries, 42, distinct: false);
                        await flight.PointQueriesAsync(queries).ConfigureAwait(false);
                        var samples = await flight.PointQueriesAsync(queries).ConfigureAwait(false);
                        r.Set("point_warm", Stats.Median(samples), $"{Ms(Stats.Median(samples))} ({samples.Count} calls, each after a first pass over the same queries)");
                        r.Set("point_warm_p99", Stats.Percentile(samples, 99), Ms(Stats.Percentile(samples, 99)));
                    }).ConfigureAwait(false);
                }
                if (!o.Skips("put"))
                {
                    await Try(r, ["put_ack", "put_applied"], () => PandasPutAsync(o, server, root, silver, python, r)).ConfigureAwait(false);
                }
                using var client = new LakehouseClient(server.Address, new LakehouseClientOptions());
                if (!o.Skips("append"))
                {
                    await Try(r, ["append"], async () =>
                    {
                        var symbols = Universe.Symbols(o.Symbols);
                        var samples = new List<double>();
                        var day = o.AppendAfter ?? o.To;
                        for (var i = 0; i < o.Appends; i++)
                        {
                            day = NextBusinessDay(day);
                            var bars = SyntheticBars.Generate(symbols, day, day);
                            var batch = PriceBarBatches.ToBatch(bars);
                            var s = Stopwatch.GetTimestamp();
                            var reports = await client.UploadAsync(PriceTables.SilverSchema, [batch], "bench", promote: true).ConfigureAwait(false);
                            samples.Add(Stats.Ms(s));
                            Expect(reports, bars.Count, "append");
                        }
                        r.Set("append", Stats.Median(samples), $"{F(Stats.Median(samples), "F0")} ms for {F(o.Symbols)} rows (median of {samples.Count}: {string.Join(", ", samples.Select(x => F(x, "F0")))} ms)");
                    }).ConfigureAwait(false);
                }
                if (!o.Skips("correction"))
                {
                    await Try(r, ["correction"], async () =>
                    {
                        var rng = new Random(o.CorrectionSeed);
                        var samples = new List<double>();
                        for (var i = 0; i < o.Corrections; i++)
                        {
                            var symbol = Universe.Symbol(rng.Next(1, o.Symbols + 1));
                            var date = o.From.AddDays(rng.Next(o.To.DayNumber - o.From.DayNumber - 30));
                            while (date.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday)
                            {
                                date = date.AddDays(1);
                            }
                            var bar = SyntheticBars.Generate([symbol], date, date)[0];
                            var fixedBar = bar with { Volume = bar.Volume + 1 + i + (1000L * o.CorrectionSeed) };
                            var s = Stopwatch.GetTimestamp();
                            var reports = await client.UploadAsync(PriceTables.SilverSchema, [PriceBarBatches.ToBatch([fixedBar])], "bench", promote: true).ConfigureAwait(false);
                            samples.Add(Stats.Ms(s));
                            Expect(reports, 1, "correction");
                        }
                        r.Set("correction", Stats.Median(samples), $"{Ms(Stats.Median(samples))} (median of {samples.Count}, p99 {Ms(Stats.Percentile(samples, 99))})");
                    }).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
    }

    /// <summary><c>dotnet lakehouse.dll ingest --source synthetic</c> of the universe, wall time of the process.</summary>
    private static async Task IngestAsync(LakeOptions o, string dll, string lake, long rows, LakeResults r)
    {
        var root = Path.GetDirectoryName(lake)!;
        NeedFree(o, root);
        TryDelete(lake);
        var args = new List<string> { dll, "ingest", "--source", "synthetic", "--data-dir", lake,
            "--from", o.From.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), "--to", o.To.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) };
        // Repeated --symbols of 1,000 each: one argument of 20,000 symbols would pass Linux's 128 KiB limit per argument.
        foreach (var chunk in Universe.Symbols(o.Symbols).Chunk(1000))
        {
            args.Add("--symbols");
            args.Add(string.Join(',', chunk));
        }
        Console.Error.WriteLine($"  ingest: {rows:N0} rows with {Path.GetFileName(Path.GetDirectoryName(dll))}");
        var start = Stopwatch.GetTimestamp();
        var (code, tail) = await RunAsync("dotnet", args, root).ConfigureAwait(false);
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        if (code != 0)
        {
            throw new InvalidOperationException($"ingest exited with {code}: {tail}");
        }
        r.Set("ingest", rows / seconds, $"{F(rows / seconds)} rows/s ({F(rows)} rows in {F(seconds, "F1")} s, process start included)");
    }

    /// <summary>pyarrow uploads of pandas DataFrames (new symbols), then DuckDB polled until it counts them.</summary>
    private static async Task PandasPutAsync(LakeOptions o, ServerProcess server, string root, string silver, string? python, LakeResults r)
    {
        NeedPython(python);
        NeedFree(o, root);
        var upload = Path.Combine(root, "upload");
        var days = BusinessDays(o.From, o.To);
        var putSymbols = (int)Math.Max(1, Math.Min(o.Symbols, o.MaxUploadRows / Math.Max(days, 1)));
        if (!Directory.Exists(upload))
        {
            await Python(python!, "gen", "--symbols", putSymbols.ToString(CultureInfo.InvariantCulture), "--prefix", "PUT",
                "--from", o.From.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), "--to", o.To.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                "--out", upload, "--max-rows", o.MaxUploadRows.ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
        }
        var before = DuckCountRows(silver);
        var put = await Python(python!, "put", "--address", $"grpc://{server.Address.Host}:{server.Address.Port}", "--dir", upload,
            "--batch-rows", o.BatchRows.ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
        var putRows = put.GetProperty("rows").GetInt64();
        var acked = put.GetProperty("acked_seconds").GetDouble();
        r.Set("put_ack", putRows / acked, $"{F(putRows / acked)} rows/s ({F(putRows)} rows, {F(put.GetProperty("arrow_bytes").GetInt64() / 1e6, "F0")} MB of Arrow in " +
            $"{F(acked, "F2")} s; {put.GetProperty("client").GetString()})");
        foreach (var a in put.GetProperty("applied").EnumerateArray())
        {
            if (a.GetProperty("state").GetString() != "applied")
            {
                throw new InvalidOperationException($"upload {a.GetProperty("run_id")} {a.GetProperty("state")}: {a.GetProperty("error")}");
            }
        }
        var t0 = put.GetProperty("t0_epoch").GetDouble();
        var deadline = Stopwatch.GetTimestamp();
        long seen;
        while ((seen = DuckCountRows(silver)) < before + putRows)
        {
            if (Stopwatch.GetElapsedTime(deadline) > o.ServerTimeout)
            {
                throw new InvalidOperationException($"DuckDB counted {seen:N0} rows, not {before + putRows:N0}, {o.ServerTimeout.TotalSeconds:F0} s after upload-status said applied");
            }
            await Task.Delay(50).ConfigureAwait(false);
        }
        var seconds = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0 - t0;
        r.Set("put_applied", putRows / seconds, $"{F(putRows / seconds)} rows/s ({F(seconds, "F2")} s from the first byte to DuckDB counting every row; " +
            $"upload-status applied at {F(put.GetProperty("applied_seconds").GetDouble(), "F2")} s)");
    }

    /// <summary>Starts <c>serve</c>, waits for /health ok, runs <paramref name="body"/>, stops it; its keys read n/a when it cannot start.</summary>
    private static async Task WithServerAsync(LakeOptions o, string dll, string lake, LakeResults r, string[] keys, Dictionary<string, string>? env,
        Func<ServerProcess, long, double?, Task> body)
    {
        var started = Stopwatch.GetTimestamp();
        var (server, why) = await ServerProcess.StartAsync(dll, lake, o.ServerTimeout, env).ConfigureAwait(false);
        if (server is null)
        {
            r.NotAvailableUnlessSet(keys, "server unavailable: " + why);
            return;
        }
        // A harness stopped by a signal does not leave its server running.
        var pid = server.Pid;
        void Stop(object? sender, EventArgs e) => KillQuietly(pid);
        AppDomain.CurrentDomain.ProcessExit += Stop;
        using var stopOnSignal = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => KillQuietly(pid));
        using var stopOnInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => KillQuietly(pid));
        await using (server.ConfigureAwait(false))
        {
            double? ok = null;
            if (server.HttpAddress is { } http)
            {
                using var httpClient = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
                while (Stopwatch.GetElapsedTime(started) < o.ServerTimeout && !server.HasExited)
                {
                    try
                    {
                        using var doc = JsonDocument.Parse(await httpClient.GetStringAsync(new Uri(http, "/health")).ConfigureAwait(false));
                        if (doc.RootElement.TryGetProperty("state", out var state) && state.GetString() == "ok")
                        {
                            ok = Stopwatch.GetElapsedTime(started).TotalSeconds;
                            break;
                        }
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
                    {
                    }
                    await Task.Delay(10).ConfigureAwait(false);
                }
            }
            try
            {
                await body(server, started, ok).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                r.NotAvailableUnlessSet(keys, (server.HasExited ? "server exited: " : "") + ex.GetType().Name + ": " + ex.Message);
            }
        }
        AppDomain.CurrentDomain.ProcessExit -= Stop;
    }

    private static void KillQuietly(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            p.Kill(entireProcessTree: true);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }
    }

    /// <summary>Runs one measurement; its keys read "n/a: why" when it throws.</summary>
    private static async Task Try(LakeResults r, string[] keys, Func<Task> measure)
    {
        try
        {
            await measure().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            r.NotAvailableUnlessSet(keys, ex.GetType().Name + ": " + ex.Message);
        }
    }

    private static void Expect(IReadOnlyList<StorageReport> reports, int rows, string what)
    {
        var silver = reports.Where(x => x.Layer == "silver").Sum(x => x.Inserted + x.Updated);
        if (silver < rows)
        {
            throw new InvalidOperationException($"the {what} changed {silver} silver rows, not {rows}");
        }
    }

    // ---- disk ----

    /// <summary>Bytes on disk (allocated blocks; a hard-linked file counted once) of silver and of the whole lake against the reference file.</summary>
    private static void Disk(string lake, string reference, LakeResults r)
    {
        var refBytes = Allocated(reference);
        r.Set("reference", refBytes, $"{MB(refBytes)} ({F(new FileInfo(reference).Length)} bytes)");
        var files = ListFiles(lake);
        var silverDir = Path.Combine(lake, "silver") + "/";
        var storeDir = Path.Combine(lake, "_metadata", "data") + "/";
        // A file of the file store linked from no table folder is a retained superseded version (current files are hard-linked into the views).
        var silverFiles = files.Where(f => f.Path.StartsWith(silverDir, StringComparison.Ordinal)).DistinctBy(f => f.Inode).ToList();
        var retained = files.Where(f => f.Path.StartsWith(storeDir, StringComparison.Ordinal) && f.Links == 1).ToList();
        // A hard-linked file is counted once, under its table folder rather than the file store.
        var counted = files.Where(f => !(f.Path.StartsWith(storeDir, StringComparison.Ordinal) && f.Links == 1))
            .OrderBy(f => f.Path.StartsWith(Path.Combine(lake, "_metadata") + "/", StringComparison.Ordinal)).DistinctBy(f => f.Inode).ToList();
        var silverBytes = silverFiles.Sum(f => f.Blocks);
        var lakeBytes = counted.Sum(f => f.Blocks);
        string Part(string top) => MB(counted.Where(f => f.Path.StartsWith(Path.Combine(lake, top) + "/", StringComparison.Ordinal)).Sum(f => f.Blocks));
        r.Set("silver_ratio", (double)silverBytes / refBytes, $"{F((double)silverBytes / refBytes, "F2")}x ({MB(silverBytes)} in {F(silverFiles.Count)} files)");
        r.Set("lake_ratio", (double)lakeBytes / refBytes, $"{F((double)lakeBytes / refBytes, "F2")}x ({MB(lakeBytes)}: bronze {Part("bronze")}, silver {Part("silver")}, " +
            $"gold {Part("gold")}, _metadata {Part("_metadata")} (hard links counted once); {F(counted.Count)} files; retained versions excluded: {MB(retained.Sum(f => f.Blocks))})");
    }

    private sealed record DiskFile(string Path, long Inode, int Links, long Blocks);

    /// <summary><c>find -printf</c>: inode, link count and allocated bytes of every file (the BCL has no inode).</summary>
    private static List<DiskFile> ListFiles(string dir)
    {
        var psi = new ProcessStartInfo("find") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { dir, "-type", "f", "-printf", "%i %n %b %p\n" })
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var list = new List<DiskFile>();
        while (p.StandardOutput.ReadLine() is { } line)
        {
            var f = line.Split(' ', 4);
            list.Add(new DiskFile(f[3], long.Parse(f[0], CultureInfo.InvariantCulture), int.Parse(f[1], CultureInfo.InvariantCulture),
                long.Parse(f[2], CultureInfo.InvariantCulture) * 512));
        }
        p.WaitForExit();
        return list;
    }

    private static long Allocated(string file) => ListFiles(file).Sum(f => f.Blocks);

    private static string MB(long bytes) => F(bytes / 1e6, bytes < 10_000_000 ? "F2" : "N0") + " MB";

    // ---- DuckDB ----

    private static DuckDBConnection Duck()
    {
        var c = new DuckDBConnection("Data Source=:memory:");
        c.Open();
        using var cmd = c.CreateCommand();
        // Bounded on a machine shared with others (DuckDB's default is 80% of RAM).
        cmd.CommandText = $"SET memory_limit = '2GB'; SET threads = {Environment.ProcessorCount}";
        cmd.ExecuteNonQuery();
        return c;
    }

    private static string Glob(string table) => $"read_parquet('{Path.Combine(table, "**", "*.parquet").Replace("'", "''", StringComparison.Ordinal)}', hive_partitioning = 1)";

    private static long DuckCountRows(string table)
    {
        using var c = Duck();
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT count(*) FROM {Glob(table)}";
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>Seconds of one count(*) on a fresh connection (connection set-up included).</summary>
    private static double DuckCount(string table, long rows)
    {
        var start = Stopwatch.GetTimestamp();
        var n = DuckCountRows(table);
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return n >= rows ? seconds : throw new InvalidOperationException($"DuckDB counted {n:N0} rows, not {rows:N0}");
    }

    private static double DuckPoint(string table, TableQuery q)
    {
        var start = Stopwatch.GetTimestamp();
        using var c = Duck();
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT * FROM {Glob(table)} WHERE symbol = $symbol AND date BETWEEN $from AND $to ORDER BY date";
        cmd.Parameters.Add(new DuckDBParameter("symbol", q.Symbols[0]));
        cmd.Parameters.Add(new DuckDBParameter("from", q.DateFrom!.Value));
        cmd.Parameters.Add(new DuckDBParameter("to", q.DateTo!.Value));
        using var reader = cmd.ExecuteReader();
        var values = new object[reader.FieldCount];
        var n = 0;
        while (reader.Read())
        {
            reader.GetValues(values);
            n++;
        }
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return n > 0 ? seconds : throw new InvalidOperationException($"DuckDB: no rows for {q.Symbols[0]} {q.DateFrom}");
    }

    // ---- python ----

    private static string? FindPython(LakeOptions o)
    {
        var here = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", ".."));
        foreach (var candidate in new[] { o.Python, Path.Combine(here, ".ci", "pyarrow-venv", "bin", "python"), "/work/main/.ci/pyarrow-venv/bin/python", "/tmp/pa/bin/python" })
        {
            if (candidate is not null && File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    /// <summary>Above 30M rows pyarrow reads batch by batch instead of into one table (100M rows are ~7 GB of Arrow).</summary>
    private static string[] Stream(long rows) => rows > StreamAboveRows ? ["--stream"] : [];

    private static string StreamNote(long rows) => rows > StreamAboveRows ? ", read batch by batch (--stream: not held in one table)" : "";

    private const long StreamAboveRows = 30_000_000;

    private static void NeedPython(string? python)
    {
        if (python is null)
        {
            throw new InvalidOperationException("no python with pyarrow (pass --python, or make one: bash /work/shared/tools/pyarrow/install.sh /tmp/pa)");
        }
    }

    /// <summary>Runs lake_bench.py in one mode; its last line of output is the JSON returned.</summary>
    private static async Task<JsonElement> Python(string python, params string[] args)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "E2e", "lake_bench.py");
        var (code, output) = await RunAsync(python, [script, .. args], Path.GetTempPath(), keepStdout: true).ConfigureAwait(false);
        var last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
        if (code != 0 || !last.StartsWith('{'))
        {
            throw new InvalidOperationException($"lake_bench.py {args[0]} exited with {code}: {last}");
        }
        using var doc = JsonDocument.Parse(last);
        return doc.RootElement.Clone();
    }

    /// <summary>A child process; stderr goes to ours; returns the exit code and the last lines (stdout when kept, else stderr).</summary>
    private static async Task<(int Code, string Tail)> RunAsync(string file, IEnumerable<string> args, string cwd, bool keepStdout = false)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = cwd };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var tail = new Queue<string>();
        var stdout = new System.Text.StringBuilder();
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                Console.Error.WriteLine("    " + line);
                lock (tail)
                {
                    tail.Enqueue(line);
                    if (tail.Count > 5)
                    {
                        tail.Dequeue();
                    }
                }
            }
        };
        p.OutputDataReceived += (_, e) =>
        {
            if (keepStdout && e.Data is { } line)
            {
                lock (stdout)
                {
                    stdout.AppendLine(line);
                }
            }
        };
        p.BeginErrorReadLine();
        p.BeginOutputReadLine();
        await p.WaitForExitAsync().ConfigureAwait(false);
        lock (tail)
        {
            return (p.ExitCode, keepStdout ? stdout.ToString() : string.Join(" | ", tail));
        }
    }

    // ---- universe ----

    private static int BusinessDays(DateOnly from, DateOnly to)
    {
        var n = 0;
        for (var d = from; d <= to; d = d.AddDays(1))
        {
            n += d.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday ? 0 : 1;
        }
        return n;
    }

    private static DateOnly NextBusinessDay(DateOnly d)
    {
        do
        {
            d = d.AddDays(1);
        }
        while (d.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday);
        return d;
    }

    /// <summary>Deterministic 1 symbol x 1 month queries; <paramref name="distinct"/>: each symbol at most once (first query of a symbol).</summary>
    private static List<TableQuery> PointQueries(LakeOptions o, int count, int seed, bool distinct)
    {
        var rng = new Random(seed);
        var symbols = Enumerable.Range(1, o.Symbols).OrderBy(_ => rng.Next()).ToArray();
        var list = new List<TableQuery>();
        for (var i = 0; i < (distinct ? Math.Min(count, o.Symbols) : count); i++)
        {
            var symbol = Universe.Symbol(distinct ? symbols[i] : rng.Next(1, o.Symbols + 1));
            var first = o.From.AddMonths(rng.Next(o.Years * 12));
            list.Add(TableQuery.Create(symbols: [symbol], dateFrom: first.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                dateTo: first.AddMonths(1).AddDays(-1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)));
        }
        return list;
    }

    // ---- housekeeping ----

    private static void NeedFree(LakeOptions o, string dir)
    {
        // --keep-free-gb guards the machine when a large lake is written; a small one needs ~2 KB a row at most (all layers,
        // versions and the reference file), at least 1 GiB: the CI smoke's 786 rows must not need 20 GiB free.
        var free = new DriveInfo(Path.GetPathRoot(dir)!).AvailableFreeSpace;
        var need = Math.Min((long)(o.KeepFreeGiB * (1L << 30)), Math.Max(1L << 30, o.Symbols * (long)o.Years * 262 * 2048));
        if (free < need)
        {
            throw new InvalidOperationException(
                $"{free / (double)(1L << 30):F1} GiB free, below the {need / (double)(1L << 30):F1} GiB this lake needs (--keep-free-gb {o.KeepFreeGiB} caps it)");
        }
    }

    private static string Commit(string? dll)
    {
        try
        {
            if (dll is null)
            {
                return "?";
            }
            var psi = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { "-C", Path.GetDirectoryName(Path.GetFullPath(dll))!, "rev-parse", "--short", "HEAD" })
            {
                psi.ArgumentList.Add(a);
            }
            using var p = Process.Start(psi)!;
            var sha = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return p.ExitCode == 0 && sha.Length > 0 ? sha : "?";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "?";
        }
    }

    private static void TryDelete(string dir)
    {
        try
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"could not delete {dir}: {ex.Message}");
        }
    }
}
