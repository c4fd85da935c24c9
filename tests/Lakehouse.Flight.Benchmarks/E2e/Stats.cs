using System.Diagnostics;
using Apache.Arrow;

namespace Lakehouse.Flight.Benchmarks.E2e;

/// <summary>Latency samples and the byte measure used for every MB/s figure.</summary>
internal static class Stats
{
    public static double Median(List<double> samples) => Percentile(samples, 50);

    /// <summary>Nearest-rank percentile.</summary>
    public static double Percentile(List<double> samples, double p)
    {
        if (samples.Count == 0)
        {
            return double.NaN;
        }
        var sorted = samples.Order().ToArray();
        var rank = (int)Math.Ceiling(p / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    /// <summary>VmRSS and VmHWM of a process in MiB, from /proc (0 where there is no /proc).</summary>
    public static (double RssMiB, double HwmMiB) ProcMemory(string pid = "self")
    {
        double rss = 0, hwm = 0;
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal) || line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    var kb = double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
                    if (line[2] == 'R')
                    {
                        rss = kb / 1024;
                    }
                    else
                    {
                        hwm = kb / 1024;
                    }
                }
            }
        }
        catch (IOException)
        {
        }
        return (rss, hwm);
    }

    public static double Ms(long startTimestamp) => Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds;

    /// <summary>
    /// Bytes the rows of a batch take as Arrow data (values, offsets, validity), counted from the rows
    /// themselves so a zero-copy slice counts only what it covers: the MB in every MB/s here.
    /// </summary>
    public static long ArrowBytes(RecordBatch batch)
    {
        long bytes = 0;
        var n = batch.Length;
        for (var c = 0; c < batch.ColumnCount; c++)
        {
            var column = batch.Column(c);
            bytes += column.NullCount > 0 ? (n + 7) / 8 : 0;
            bytes += column switch
            {
                StringArray s => 4L * (n + 1) + (n == 0 ? 0 : s.ValueOffsets[n] - s.ValueOffsets[0]),
                _ when column.Data.DataType is Apache.Arrow.Types.FixedWidthType f => (long)n * f.BitWidth / 8,
                _ => 0,
            };
        }
        return bytes;
    }
}
