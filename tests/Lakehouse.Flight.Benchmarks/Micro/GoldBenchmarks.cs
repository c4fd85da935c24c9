using Apache.Arrow;
using BenchmarkDotNet.Attributes;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Ingestion.Gold;

namespace Lakehouse.Flight.Benchmarks.Micro;

/// <summary>
/// The gold computations for one symbol x 20 years of synthetic daily bars (2001-01-01 .. 2020-12-31,
/// 5,219 business days) already in memory as a silver batch: what <c>build-gold</c> pays per symbol on
/// top of reading silver and writing Parquet. The report case writes the CSV text to a null writer.
/// </summary>
[MemoryDiagnoser]
public class GoldBenchmarks
{
    private RecordBatch _silver = null!;
    private RecordBatch _metrics = null!;

    [GlobalSetup]
    public void Setup()
    {
        _silver = PriceBarBatches.ToBatch(SyntheticBars.GenerateOne("AAPL", new DateOnly(2001, 1, 1), new DateOnly(2020, 12, 31)).ToList());
        _metrics = GoldCalculator.DailyMetrics(_silver);
    }

    [Benchmark(Description = "monthly, 1 symbol x 20 y")]
    public int Monthly() => GoldCalculator.Monthly(_silver).Length;

    [Benchmark(Description = "daily metrics, 1 symbol x 20 y")]
    public int DailyMetrics() => GoldCalculator.DailyMetrics(_silver).Length;

    [Benchmark(Description = "monthly + daily metrics, 1 symbol x 20 y")]
    public int Both() => GoldCalculator.Monthly(_silver).Length + GoldCalculator.DailyMetrics(_silver).Length;

    [Benchmark(Description = "daily report CSV to a null writer, 1 symbol x 20 y")]
    public int Report()
    {
        DailyReport.Write(TextWriter.Null, _silver, _metrics);
        return _metrics.Length;
    }
}
