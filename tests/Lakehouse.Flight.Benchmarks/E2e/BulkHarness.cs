using System.Diagnostics;
using System.Globalization;
using Apache.Arrow;
using Lakehouse.Flight.Client;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using static Lakehouse.Flight.Benchmarks.E2e.ReportTable;

namespace Lakehouse.Flight.Benchmarks.E2e;

/// <summary>
/// <c>dotnet run -c Release --project tests/Lakehouse.Flight.Benchmarks -- bulk [--symbols 100] [--years 20] [--put-symbols 50]
/// [--small-puts 50] [--ack-only] [--server-dll path/lakehouse.dll]</c>: bulk uploads through a real server process, old and new path in one run
/// on one server. Old: DoPut answered once applied (<c>wait</c> true, the default), <c>--put-symbols</c> per call as the e2e
/// harness does. New: the same number of rows (other symbols) in one DoPut with <c>"wait": false</c>, answered once durable in
/// the write-ahead log, then applied in the background; "visible" is when upload-status says applied (bronze and silver).
/// Gold follows both paths (the old path's answer includes it; the new path's gold time is given apart).
/// </summary>
internal static class BulkHarness
{
    public static async Task<int> RunAsync(string[] args)
    {
        var symbols = Option(args, "--symbols", 100);
        var years = Option(args, "--years", 20);
        var perPut = Option(args, "--put-symbols", 50);
        var smallPuts = Option(args, "--small-puts", 50);
        // Only the new path's acknowledgement and first read (no old path, no wait for the files): for A/B runs of the ack path.
        var ackOnly = args.Contains("--ack-only");
        var dll = OptionText(args, "--server-dll") ?? E2eHarness.FindServerDll()
            ?? throw new InvalidOperationException("lakehouse.dll not found: build src/Lakehouse.Flight.Cli -c Release or pass --server-dll");
        var from = new DateOnly(2024 - years + 1, 1, 1);
        var to = new DateOnly(2024, 12, 31);
        var dataDir = Path.Combine(Path.GetTempPath(), "lakehouse-bulk-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDir);
        var log = Console.Error;
        var t = new ReportTable();
        try
        {
            var (server, why) = await ServerProcess.StartAsync(dll, dataDir, TimeSpan.FromSeconds(120)).ConfigureAwait(false);
            if (server is null)
            {
                log.WriteLine($"server unavailable: {why}");
                return 1;
            }
            await using (server)
            {
                using var client = new LakehouseClient(server.Address, new LakehouseClientOptions());
                // Batches are built before any clock starts: the figures are the server's, not the generator's.
                var oldSymbols = Enumerable.Range(0, symbols).Select(i => $"OLD{i:D4}").ToArray();
                var newSymbols = Enumerable.Range(0, symbols).Select(i => $"NEW{i:D4}").ToArray();
                var oldCalls = oldSymbols.Chunk(perPut).Select(c => Batches(c, from, to)).ToList();
                var newBatches = Batches(newSymbols, from, to);
                var rows = newBatches.Sum(b => (long)b.Length);
                var arrowMB = newBatches.Sum(Stats.ArrowBytes) / 1e6;
                log.WriteLine($"{symbols} symbols x {years} y = {rows:N0} rows ({arrowMB:F0} MB of Arrow) per path");

                log.WriteLine("old path: DoPut answered once applied");
                var cpu0 = server.CpuTime();
                var start = Stopwatch.GetTimestamp();
                foreach (var call in ackOnly ? [] : oldCalls)
                {
                    await client.UploadAsync(PriceTables.SilverSchema, call, "bench", promote: true).ConfigureAwait(false);
                }
                var oldSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                var oldCpu = (server.CpuTime() - cpu0).TotalSeconds;
                var oldRate = rows / oldSeconds;

                log.WriteLine("new path: DoPut {\"wait\":false}, then upload-status");
                server.StartSampling();
                cpu0 = server.CpuTime();
                start = Stopwatch.GetTimestamp();
                var ack = await client.SubmitUploadAsync(PriceTables.SilverSchema, newBatches, "bench", promote: true).ConfigureAwait(false);
                var ackSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                // Readable in silver: one DoGet of the uploaded symbols right after the acknowledgement returns every row.
                long readable = 0;
                await foreach (var b in client.GetPricesAsync(TableQuery.Create(symbols: newSymbols, columns: ["symbol", "date", "close"])).ConfigureAwait(false))
                {
                    readable += b.Length;
                }
                var readableSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                if (ack.Visible && readable != rows)
                {
                    throw new InvalidOperationException($"a DoGet after the acknowledgement returned {readable:N0} rows, not {rows:N0}");
                }
                if (ackOnly)
                {
                    Console.WriteLine($"ack {F(rows / ackSeconds)} rows/s ({F(ackSeconds, "F2")} s); readable {F(rows / readableSeconds)} rows/s ({F(readableSeconds, "F2")} s; visible {ack.Visible})");
                    return 0;
                }
                var reports = await client.WaitForUploadAsync(ack.RunId).ConfigureAwait(false);
                var visibleSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                // Gold is done when the last symbol's daily metrics are all there (a bulk run writes no per-symbol report
                // files since D43, so the reports folder is no signal).
                var perSymbol = rows / symbols;
                while (await GoldRowsAsync(client, newSymbols[^1]).ConfigureAwait(false) < perSymbol && Stopwatch.GetElapsedTime(start).TotalSeconds < 600)
                {
                    await Task.Delay(50).ConfigureAwait(false);
                }
                var goldSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                var newCpu = (server.CpuTime() - cpu0).TotalSeconds;
                var peakKb = await server.StopSamplingAsync().ConfigureAwait(false);
                var silverInserted = reports.Where(r => r.Layer == "silver").Sum(r => r.Inserted);
                if (silverInserted != rows)
                {
                    throw new InvalidOperationException($"the applied upload inserted {silverInserted:N0} silver rows, not {rows:N0}");
                }

                log.WriteLine("small DoPuts: 100 rows each, answered once in silver");
                var small = new List<double>();
                for (var i = 0; i < smallPuts; i++)
                {
                    var batch = Batches([$"SMALL{i:D3}"], new DateOnly(2024, 1, 1), new DateOnly(2024, 5, 17));
                    var s = Stopwatch.GetTimestamp();
                    await client.UploadAsync(PriceTables.SilverSchema, batch, "bench", promote: true).ConfigureAwait(false);
                    small.Add(Stats.Ms(s));
                }
                var smallRows = Batches(["X"], new DateOnly(2024, 1, 1), new DateOnly(2024, 5, 17)).Sum(b => b.Length);
                log.WriteLine("small DoPuts {\"wait\":false}: 100 rows each, answered once durable and readable in silver");
                var smallAcked = new List<double>();
                var allVisible = true;
                for (var i = 0; i < smallPuts; i++)
                {
                    var batch = Batches([$"SMALLW{i:D3}"], new DateOnly(2024, 1, 1), new DateOnly(2024, 5, 17));
                    var s = Stopwatch.GetTimestamp();
                    var smallAck = await client.SubmitUploadAsync(PriceTables.SilverSchema, batch, "bench", promote: true).ConfigureAwait(false);
                    smallAcked.Add(Stats.Ms(s));
                    allVisible &= smallAck.Visible;
                }
                long smallRead = 0;
                await foreach (var b in client.GetPricesAsync(TableQuery.Create(symbols: [$"SMALLW{smallPuts - 1:D3}"])).ConfigureAwait(false))
                {
                    smallRead += b.Length;
                }
                if (!allVisible || smallRead != smallRows)
                {
                    throw new InvalidOperationException($"a small upload was not readable at its answer (visible: {allVisible}, rows read {smallRead})");
                }
                // The store alone (no gRPC, no gold) for the same small landings, in this process on another lake.
                var store = Storage.LakeStore.Open(new Storage.StoreOptions { DataDir = Path.Combine(dataDir, "in-process") });
                var land = new List<double>();
                for (var i = 0; i < smallPuts + 5; i++)
                {
                    var bars = Ingestion.SyntheticBars.Generate([$"LAND{i:D3}"], new DateOnly(2024, 1, 1), new DateOnly(2024, 5, 17));
                    var s = Stopwatch.GetTimestamp();
                    await store.LandAsync(bars, "bench", promote: true).ConfigureAwait(false);
                    if (i >= 5)
                    {
                        land.Add(Stats.Ms(s));
                    }
                }

                t.Add($"old: DoPut answered once applied (bronze + silver + gold), {perPut} symbols x {years} y per call",
                    $"{F(oldRate)} rows/s ({F(rows)} rows in {F(oldSeconds, "F2")} s; server CPU {F(oldCpu, "F1")} s)");
                t.Add("new: one DoPut {\"wait\":false}, acknowledged durable (write-ahead log)",
                    $"{F(rows / ackSeconds)} rows/s ({F(ackSeconds, "F2")} s, {F(arrowMB / ackSeconds, "F0")} MB/s of Arrow)", X(rows / ackSeconds, oldRate, "old"));
                t.Add(ack.Visible ? "new: all of it readable in silver (a DoGet of the symbols right after the acknowledgement returns every row)"
                        : "new: not held for reads (the upload is larger than Lakehouse:PendingUploadBytes); a DoGet right after the acknowledgement",
                    $"{F(rows / readableSeconds)} rows/s ({F(readableSeconds, "F2")} s from the first byte; {F(readable)} rows read)", X(rows / readableSeconds, oldRate, "old"));
                t.Add("new: all of it applied to bronze and silver files (upload-status applied)",
                    $"{F(rows / visibleSeconds)} rows/s ({F(visibleSeconds, "F2")} s from the first byte)", X(rows / visibleSeconds, oldRate, "old"));
                t.Add("new: gold caught up (the last symbol's daily metrics all in gold)",
                    $"{F(rows / goldSeconds)} rows/s ({F(goldSeconds, "F2")} s from the first byte; server CPU {F(newCpu, "F1")} s)", X(rows / goldSeconds, oldRate, "old"));
                t.Add("server peak RSS during the new path", $"{F(peakKb / 1024.0)} MiB");
                t.Add($"DoPut of {smallRows} rows answered once in silver ({smallPuts} calls, new symbols)",
                    $"median {Ms(Stats.Median(small))}, p99 {Ms(Stats.Percentile(small, 99))}", X(Stats.Median(small), Stats.Median(land), "in-process LandAsync"));
                t.Add($"DoPut {{\"wait\":false}} of {smallRows} rows answered durable and readable in silver ({smallPuts} calls, new symbols)",
                    $"median {Ms(Stats.Median(smallAcked))}, p99 {Ms(Stats.Percentile(smallAcked, 99))}", L(Stats.Median(smallAcked), Stats.Median(small), "DoPut answered once applied"));
                t.Add($"in-process LandAsync of the same {smallRows} rows (bronze + silver, no gold, no network)",
                    $"median {Ms(Stats.Median(land))}, p99 {Ms(Stats.Percentile(land, 99))}");
            }
            t.Print(Console.Out);
            return 0;
        }
        finally
        {
            try
            {
                Directory.Delete(dataDir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static List<RecordBatch> Batches(IReadOnlyList<string> symbols, DateOnly from, DateOnly to)
    {
        var bars = Ingestion.SyntheticBars.Generate(symbols, from, to);
        const int size = 8192;
        return Enumerable.Range(0, (bars.Count + size - 1) / size).Select(i => PriceBarBatches.ToBatch(bars, i * size, Math.Min(size, bars.Count - (i * size)))).ToList();
    }

    private static async Task<long> GoldRowsAsync(LakehouseClient client, string symbol)
    {
        long n = 0;
        await foreach (var b in client.GetPricesAsync(TableQuery.Create("gold", "daily_metrics", [symbol], null, null, ["date"])).ConfigureAwait(false))
        {
            n += b.Length;
        }
        return n;
    }

    internal static int Option(string[] args, string name, int fallback) =>
        OptionText(args, name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    internal static string? OptionText(string[] args, string name)
    {
        var i = System.Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
