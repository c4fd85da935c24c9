using System.Diagnostics;
using System.Globalization;
using static Lakehouse.Flight.Benchmarks.E2e.ReportTable;

namespace Lakehouse.Flight.Benchmarks.E2e;

/// <summary>
/// Issue 12's memory bound, on a lake several times a server's cache budget (docs/benchmarks.md, "A lake 4x the
/// cache budget"): <c>memory --data-dir D [--cache-mb 512] [--scans 3] [--starts 1] [--cold] [--server-dll path]</c>.
/// Each start: <c>lakehouse serve</c> with that budget (compactor off; <c>--cold</c>: no warm-up), <c>/health</c>
/// polled until <c>ok</c>, 3 s idle, then full scans of silver with curl (HTTP/2 DoGet, the server's own output
/// rate) while VmRSS is sampled every 20 ms. Build a lake with <c>generate</c> first.
/// </summary>
internal static class MemoryHarness
{
    private const string FullScan = """{"layer":"silver","table":"prices_daily"}""";

    public static async Task<int> RunAsync(string[] args)
    {
        var dataDir = BulkHarness.OptionText(args, "--data-dir");
        if (dataDir is null || !Directory.Exists(Path.Combine(dataDir, "silver")))
        {
            Console.Error.WriteLine("memory needs --data-dir D holding a lake (see `generate`)");
            return 2;
        }
        if (CurlRuns.Missing() is { } noCurl)
        {
            Console.Error.WriteLine(noCurl);
            return 2;
        }
        var budget = (long)BulkHarness.Option(args, "--cache-mb", 512) << 20;
        var scans = Math.Max(1, BulkHarness.Option(args, "--scans", 3));
        var starts = Math.Max(1, BulkHarness.Option(args, "--starts", 1));
        var cold = args.Contains("--cold");
        var dll = BulkHarness.OptionText(args, "--server-dll") ?? E2eHarness.FindServerDll()
            ?? throw new InvalidOperationException("lakehouse.dll not found: build src/Lakehouse.Flight.Cli -c Release or pass --server-dll");
        var environment = new Dictionary<string, string>
        {
            ["Lakehouse__CacheBytes"] = budget.ToString(CultureInfo.InvariantCulture),
            ["Lakehouse__CompactIntervalSeconds"] = "0",
        };
        if (cold)
        {
            environment["Lakehouse__WarmCache"] = "false";
        }
        var budgetMiB = budget / 1048576.0;
        Console.WriteLine($"| start | `ok` after | RSS idle | peak RSS during the scans | x budget ({F(budgetMiB)} MiB) | scans (MB/s) | server CPU per scan |");
        Console.WriteLine("|---|---:|---:|---:|---:|---|---:|");
        for (var start = 1; start <= starts; start++)
        {
            var clock = Stopwatch.StartNew();
            var (server, why) = await ServerProcess.StartAsync(dll, Path.GetFullPath(dataDir), TimeSpan.FromMinutes(5), environment).ConfigureAwait(false);
            if (server is null)
            {
                Console.Error.WriteLine("server unavailable: " + why);
                return 1;
            }
            await using (server.ConfigureAwait(false))
            {
                if (server.HttpAddress is null || !await WaitOkAsync(server.HttpAddress, TimeSpan.FromMinutes(5)).ConfigureAwait(false))
                {
                    Console.Error.WriteLine("the server did not report ok on /health within 5 minutes");
                    return 1;
                }
                var ok = clock.Elapsed;
                await Task.Delay(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
                var (idle, _) = server.Memory();
                var cpu = server.CpuTime();
                server.StartSampling();
                var calls = await new CurlRuns(server.Address, server.HttpAddress).DoGetAsync(FullScan, scans).ConfigureAwait(false);
                var peak = await server.StopSamplingAsync().ConfigureAwait(false);
                var perScan = (server.CpuTime() - cpu).TotalSeconds / scans;
                var lakeMiB = calls[0].Bytes / 1048576.0;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {start}{(cold ? " (no warm-up)" : "")} | {ok.TotalSeconds:F1} s | {idle / 1024.0:N0} MiB | {peak / 1024.0:N0} MiB | " +
                    $"**{peak / 1024.0 / budgetMiB:F2}x** | {string.Join(", ", calls.Select(c => F(c.Bytes / 1e6 / c.Seconds)))} | {perScan:F1} s |"));
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"start {start}: a scan streams {calls[0].Bytes:N0} bytes ({lakeMiB:N0} MiB, {lakeMiB / budgetMiB:F1}x the budget)"));
            }
        }
        return 0;
    }

    private static async Task<bool> WaitOkAsync(Uri http, TimeSpan timeout)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var until = Stopwatch.StartNew();
        while (until.Elapsed < timeout)
        {
            try
            {
                if ((await client.GetStringAsync(new Uri(http, "/health")).ConfigureAwait(false)).Contains("\"state\":\"ok\"", StringComparison.Ordinal))
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100).ConfigureAwait(false);
        }
        return false;
    }
}
