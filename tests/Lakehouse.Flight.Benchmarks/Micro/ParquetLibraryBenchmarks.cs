using Apache.Arrow;
using BenchmarkDotNet.Attributes;
using Lakehouse.Flight.Benchmarks.ParquetLibs;
using Lakehouse.Flight.Benchmarks.Support;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Benchmarks.Micro;

/// <summary>
/// Parquet.Net 6.1.0 vs ParquetSharp 25.0.1.2 on our workload: decode one month partition file (22 rows,
/// as the store writes it) into an Arrow RecordBatch, and encode one partition into memory. Parquet.Net
/// goes through the store's own ParquetFiles (what production runs); ParquetSharp through
/// ParquetSharpCodec (what the store ran before).
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
        _batch = ParquetFiles.Read(_file, PriceTables.SilverSchema);
        // Both readers must agree before their speed means anything.
        var other = ParquetSharpCodec.Read(_file);
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
    public int DecodeParquetSharp() => ParquetSharpCodec.Read(_file).Length;

    [Benchmark(Description = "decode partition, Parquet.Net")]
    public int DecodeParquetNet() => ParquetFiles.Read(_file, PriceTables.SilverSchema).Length;

    [Benchmark(Description = "encode partition, ParquetSharp")]
    public long EncodeParquetSharp()
    {
        using var ms = new MemoryStream();
        ParquetSharpCodec.Write(ms, _batch);
        return ms.Length;
    }

    [Benchmark(Description = "encode partition, Parquet.Net")]
    public long EncodeParquetNet() => ParquetFiles.Encode(_batch).Length;
}
