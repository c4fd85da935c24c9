using Apache.Arrow;
using BenchmarkDotNet.Attributes;
using Lakehouse.Flight.Benchmarks.Support;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Benchmarks.Micro;

/// <summary>
/// LakeStore.Read of one symbol over one month and over 20 years (2005..2024: 240 partitions,
/// about 5,200 rows). Cold = partition cache off, so every partition is opened and decoded (the OS
/// page cache is warm); warm = partition cache on and filled in setup.
/// </summary>
[MemoryDiagnoser]
public class ReadBenchmarks
{
    private BenchLake _lake = null!;
    private LakeStore _store = null!;
    private TableQuery _month = null!;
    private TableQuery _twentyYears = null!;

    [Params(false, true)]
    public bool Cache { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _lake = BenchLake.Create("read");
        _lake.Fill(["AAPL", "MSFT"], new DateOnly(2005, 1, 1), new DateOnly(2024, 12, 31));
        _store = _lake.Open(Cache ? 1L << 28 : 0);
        _month = TableQuery.Create(symbols: ["AAPL"], dateFrom: "2024-03-01", dateTo: "2024-03-31");
        _twentyYears = TableQuery.Create(symbols: ["AAPL"], dateFrom: "2005-01-01", dateTo: "2024-12-31");
        Drain(_twentyYears);
    }

    [GlobalCleanup]
    public void Cleanup() => _lake.Dispose();

    [Benchmark(Description = "read 1 symbol x 1 month")]
    public long ReadMonth() => Drain(_month);

    [Benchmark(Description = "read 1 symbol x 20 years")]
    public long ReadTwentyYears() => Drain(_twentyYears);

    private long Drain(TableQuery query)
    {
        long rows = 0;
        foreach (RecordBatch batch in _store.Read(query))
        {
            rows += batch.Length;
        }
        return rows;
    }
}
