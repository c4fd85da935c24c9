using Apache.Arrow;
using BenchmarkDotNet.Attributes;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Benchmarks.Micro;

/// <summary>
/// The lake's data file (docs/decisions.md D35): one file of about 128K rows (500 symbols x one year, sorted by
/// symbol and date), encoded and decoded by ParquetSharp as the store writes it (<c>SegmentFiles</c>: zstd, 16K-row
/// groups, page indexes) against Parquet.Net (<c>SeedFiles</c>, what the seed layout's month files use).
/// </summary>
[MemoryDiagnoser]
public class ParquetLibraryBenchmarks
{
    private string _dir = "";
    private string _segment = "";
    private string _seed = "";
    private RecordBatch _batch = null!;

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "lakehouse-bench", "parquet-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        var symbols = Enumerable.Range(0, 500).Select(i => $"S{i:D4}").ToArray();
        _batch = PriceBarBatches.ToBatch(SyntheticBars.Generate(symbols, new DateOnly(2024, 1, 1), new DateOnly(2024, 12, 31)));
        _segment = Path.Combine(_dir, "segment.parquet");
        SegmentFiles.Write(_segment, PriceTables.Silver, _batch);
        _seed = Path.Combine(_dir, "seed.parquet");
        File.WriteAllBytes(_seed, SeedFiles.Encode(_batch));
        // Both readers must agree before their speed means anything.
        var a = SegmentFiles.ReadAll(_segment, PriceTables.Silver);
        var b = SeedFiles.Read(_seed, PriceTables.SilverSchema);
        if (a.Length != b.Length || ((DoubleArray)a.Column(5)).Values[^1] != ((DoubleArray)b.Column(5)).Values[^1])
        {
            throw new InvalidOperationException("ParquetSharp and Parquet.Net decode the file differently");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    [Benchmark(Baseline = true, Description = "decode 128K-row file, ParquetSharp (SegmentFiles)")]
    public int DecodeSegment() => SegmentFiles.ReadAll(_segment, PriceTables.Silver).Length;

    [Benchmark(Description = "decode 128K-row file, Parquet.Net (SeedFiles)")]
    public int DecodeSeed() => SeedFiles.Read(_seed, PriceTables.SilverSchema).Length;

    [Benchmark(Description = "encode 128K-row file, ParquetSharp (SegmentFiles)")]
    public long EncodeSegment()
    {
        var path = Path.Combine(_dir, "out.parquet");
        SegmentFiles.Write(path, PriceTables.Silver, _batch);
        return new FileInfo(path).Length;
    }

    [Benchmark(Description = "encode 128K-row file, Parquet.Net (SeedFiles)")]
    public long EncodeSeed() => SeedFiles.Encode(_batch).Length;
}
