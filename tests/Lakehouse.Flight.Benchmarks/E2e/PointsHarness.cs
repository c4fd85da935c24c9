using System.Globalization;

namespace Lakehouse.Flight.Benchmarks.E2e;

/// <summary>
/// Point queries against a running server, round after round on one channel, to see how latency and the
/// server's CPU per call change as its code tiers up (docs/benchmarks.md, "Point queries of a fresh
/// server"): <c>points --address http://127.0.0.1:8815 [--pid N] [--symbols 500] [--years 20] [--rounds 10] [--calls 2000]</c>.
/// The universe must be the e2e harness's (symbols SYM0001.., years ending 2024). With <c>--pid</c>, the
/// server's CPU time per call is read from /proc.
/// </summary>
internal static class PointsHarness
{
    public static async Task<int> RunAsync(string[] args)
    {
        var address = BulkHarness.OptionText(args, "--address") ?? throw new ArgumentException("points needs --address http://host:port (the Flight port)");
        var pid = BulkHarness.Option(args, "--pid", 0);
        var o = E2eOptions.Parse(["--symbols", BulkHarness.Option(args, "--symbols", 500).ToString(CultureInfo.InvariantCulture),
            "--years", BulkHarness.Option(args, "--years", 20).ToString(CultureInfo.InvariantCulture)]);
        var rounds = BulkHarness.Option(args, "--rounds", 10);
        var calls = BulkHarness.Option(args, "--calls", 2000);
        using var flight = new FlightRuns(new Uri(address));
        Console.WriteLine($"| round | calls so far | p50 | p90 | p99 | max | server CPU per call |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        var done = 0;
        for (var round = 1; round <= rounds; round++)
        {
            var queries = E2eHarness.PointQueries(o, calls, seed: round);
            var cpu0 = CpuTicks(pid);
            var samples = await flight.PointQueriesAsync(queries).ConfigureAwait(false);
            var cpu = pid > 0 ? $"{(CpuTicks(pid) - cpu0) * 10.0 / calls:F3} ms" : "(no --pid)";
            done += calls;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {round} | {done:N0} | {Stats.Median(samples):F3} ms | {Stats.Percentile(samples, 90):F3} ms | {Stats.Percentile(samples, 99):F3} ms | {samples.Max():F2} ms | {cpu} |"));
        }
        return 0;
    }

    /// <summary>utime + stime of the process in clock ticks (10 ms here), 0 without a pid.</summary>
    private static long CpuTicks(int pid)
    {
        if (pid <= 0)
        {
            return 0;
        }
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }
}
