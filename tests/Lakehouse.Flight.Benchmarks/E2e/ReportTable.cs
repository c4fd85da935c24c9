using System.Globalization;

namespace Lakehouse.Flight.Benchmarks.E2e;

/// <summary>The figures of one run as a Markdown table (readable on a terminal, pasteable into docs/benchmarks.md).</summary>
internal sealed class ReportTable
{
    private readonly List<(string Figure, string Value, string Ratios)> _rows = [];

    public void Add(string figure, string value, string ratios = "") => _rows.Add((figure, value, ratios));

    public void Unavailable(string figure, string why) => _rows.Add((figure, "n/a", why));

    public void Print(TextWriter w)
    {
        w.WriteLine("| figure | value | ratio to baselines (same run) |");
        w.WriteLine("|---|---|---|");
        foreach (var (f, v, r) in _rows)
        {
            w.WriteLine($"| {f} | {v} | {r} |");
        }
    }

    public static string F(double v, string format = "N0") => v.ToString(format, CultureInfo.InvariantCulture);

    public static string Ms(double ms) => ms < 10 ? F(ms, "F3") + " ms" : F(ms, "F1") + " ms";

    public static string Rate(InProcessRuns.Scan s) => $"{F(s.RowsPerSecond)} rows/s, {F(s.MBPerSecond, "F0")} MB/s ({F(s.Rows)} rows in {F(s.Seconds, "F2")} s)";

    /// <summary>"0.42x in-process" style: value / baseline, both "higher is better".</summary>
    public static string X(double value, double baseline, string name) =>
        double.IsFinite(value) && double.IsFinite(baseline) && baseline > 0 ? $"{Ratio(value / baseline)} {name}" : "";

    /// <summary>2 decimals, or "1/N x" when the ratio is below 0.01 so it never prints as 0.00x.</summary>
    public static string Ratio(double r) => r >= 0.01 ? F(r, "F2") + "x" : "1/" + F(1 / r, "N0") + "x";

    /// <summary>"12.3x the latency of in-process" : value / baseline, both latencies (lower is better).</summary>
    public static string L(double value, double baseline, string name) =>
        double.IsFinite(value) && double.IsFinite(baseline) && baseline > 0 ? $"{Ratio(value / baseline)} the latency of {name}" : "";

    public static string Join(params string[] parts) => string.Join("; ", parts.Where(p => p.Length > 0));
}
