using Apache.Arrow;
using BenchmarkDotNet.Attributes;
using Lakehouse.Flight.Benchmarks.ParquetLibs;
using Lakehouse.Flight.Benchmarks.Support;
using Lakehouse.Flight.Storage.Internal;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Benchmarks.Micro;

/// <summary>
/// Parquet.Net 6 vs ParquetSharp on our workload: decode one month partition file (22 rows, as the
/// store writes it) into an Arrow RecordBatch, and encode one partition into memory. ParquetSharp goes
/// through the store's own ParquetFiles (what production runs); Parquet.Net through ParquetNetCodec.
/// </summary>
[MemoryDiagnoser]
public class ParquetLibraryBenchmarks
{
    private BenchLake _lake = null!;
    private string _file = "";
    private RecordBatch _batch = null!;

    [GlobalSetup]
    public void Setup()
    {
        _lake = BenchLake.Create("parquet");
        _lake.Fill(["AAPL"], new DateOnly(2024, 3, 1), new DateOnly(2024, 3, 31));
        _file = _lake.PartitionFile("AAPL", 2024, 3);
        _batch = ParquetFiles.Read(_file, PriceSchema.Silver);
        // Both readers must agree before their speed means anything.
        var other = ParquetNetCodec.ReadAsync(_file).GetAwaiter().GetResult();
        if (other.Length != _batch.Length
            || ((DoubleArray)other.Column(5)).Values[^1] != ((DoubleArray)_batch.Column(5)).Values[^1]
            || ((TimestampArray)other.Column(9)).Values[0] != ((TimestampArray)_batch.Column(9)).Values[0])
        {
            throw new InvalidOperationException("Parquet.Net and ParquetSharp decode the partition differently");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _lake.Dispose();

    [Benchmark(Baseline = true, Description = "decode partition, ParquetSharp")]
    public int DecodeParquetSharp() => ParquetFiles.Read(_file, PriceSchema.Silver).Length;

    [Benchmark(Description = "decode partition, Parquet.Net")]
    public int DecodeParquetNet() => ParquetNetCodec.ReadAsync(_file).GetAwaiter().GetResult().Length;

    [Benchmark(Description = "encode partition, ParquetSharp")]
    public long EncodeParquetSharp()
    {
        using var ms = new MemoryStream();
        ParquetFiles.Write(ms, _batch);
        return ms.Length;
    }

    [Benchmark(Description = "encode partition, Parquet.Net")]
    public long EncodeParquetNet()
    {
        using var ms = new MemoryStream();
        ParquetNetCodec.WriteAsync(ms, _batch).GetAwaiter().GetResult();
        return ms.Length;
    }
}
