using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Ingestion.Csv;
using Sylvan.Data.Csv;

namespace Lakehouse.Flight.Benchmarks.Micro;

/// <summary>
/// Sylvan.Data.Csv 1.4.4 vs CsvHelper 34.0.0 on the CSV source's work: a 100,000-row Yahoo file (UTF-8
/// bytes in memory, so the disk is not measured) parsed into PriceBars, field by field without
/// materialising strings, with the source's per-row needs: a line number for reasons, invariant
/// numbers, exact ISO dates. Sylvan reads UTF-16 through a StreamReader; CsvHelper 34 reads UTF-8
/// bytes directly, once with the BCL's UTF-8 parsers and once with its own <c>Parse&lt;T&gt;</c>.
/// </summary>
[MemoryDiagnoser]
public class CsvParseBenchmarks
{
    public const int Rows = 100_000;
    private static readonly DateTimeOffset IngestedAt = DateTimeOffset.UnixEpoch;
    private byte[] _file = [];

    [GlobalSetup]
    public void Setup()
    {
        _file = Encoding.UTF8.GetBytes(YahooCsv.Generate(Rows, seed: 42));
        // Both parsers must agree before their speed means anything.
        var a = Sylvan();
        var b = CsvHelperBcl();
        var c = CsvHelperParse();
        if (a.Count != Rows || b.Count != Rows || c.Count != Rows || !a.SequenceEqual(b) || !a.SequenceEqual(c)
            || SylvanValues() != CsvHelperValues())
        {
            throw new InvalidOperationException($"parsers disagree: {a.Count}, {b.Count}, {c.Count} rows");
        }
    }

    [Benchmark(Baseline = true, Description = "100k Yahoo rows -> PriceBar, Sylvan")]
    public List<PriceBar> Sylvan()
    {
        var bars = new List<PriceBar>(Rows);
        using var text = new StreamReader(new MemoryStream(_file), Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
        using var csv = CsvDataReader.Create(text, new CsvDataReaderOptions { HasHeaders = true, Delimiter = ',', Comment = '\0' });
        long lines = 0;
        while (csv.Read())
        {
            lines += csv.RowNumber;
            var date = DateOnly.ParseExact(csv.GetFieldSpan(0), "yyyy-MM-dd", CultureInfo.InvariantCulture);
            bars.Add(new PriceBar("AAPL", date,
                double.Parse(csv.GetFieldSpan(1), NumberStyles.Float, CultureInfo.InvariantCulture),
                double.Parse(csv.GetFieldSpan(2), NumberStyles.Float, CultureInfo.InvariantCulture),
                double.Parse(csv.GetFieldSpan(3), NumberStyles.Float, CultureInfo.InvariantCulture),
                double.Parse(csv.GetFieldSpan(4), NumberStyles.Float, CultureInfo.InvariantCulture),
                double.Parse(csv.GetFieldSpan(5), NumberStyles.Float, CultureInfo.InvariantCulture),
                long.Parse(csv.GetFieldSpan(6), NumberStyles.Integer, CultureInfo.InvariantCulture),
                "csv", IngestedAt));
        }
        return lines > 0 ? bars : [];
    }

    [Benchmark(Description = "100k Yahoo rows -> PriceBar, CsvHelper + BCL UTF-8 parsing")]
    public List<PriceBar> CsvHelperBcl()
    {
        var bars = new List<PriceBar>(Rows);
        using var csv = global::CsvHelper.CsvReader.Create(new MemoryStream(_file),
            new global::CsvHelper.CsvReaderOptions { HasHeader = true, Separator = ',', TrackLineNumbers = true }, false);
        Span<char> date = stackalloc char[16];
        long lines = 0;
        while (csv.Read())
        {
            lines += csv.LineNumber;
            var n = Encoding.UTF8.GetChars(csv.GetSpan(0), date);
            bars.Add(new PriceBar("AAPL", DateOnly.ParseExact(date[..n], "yyyy-MM-dd", CultureInfo.InvariantCulture),
                double.Parse(csv.GetSpan(1), NumberStyles.Float, CultureInfo.InvariantCulture),
                double.Parse(csv.GetSpan(2), NumberStyles.Float, CultureInfo.InvariantCulture),
                double.Parse(csv.GetSpan(3), NumberStyles.Float, CultureInfo.InvariantCulture),
                double.Parse(csv.GetSpan(4), NumberStyles.Float, CultureInfo.InvariantCulture),
                double.Parse(csv.GetSpan(5), NumberStyles.Float, CultureInfo.InvariantCulture),
                long.Parse(csv.GetSpan(6), NumberStyles.Integer, CultureInfo.InvariantCulture),
                "csv", IngestedAt));
        }
        return lines > 0 ? bars : [];
    }

    [Benchmark(Description = "100k Yahoo rows -> PriceBar, CsvHelper Parse<T>")]
    public List<PriceBar> CsvHelperParse()
    {
        var bars = new List<PriceBar>(Rows);
        using var csv = global::CsvHelper.CsvReader.Create(new MemoryStream(_file),
            new global::CsvHelper.CsvReaderOptions { HasHeader = true, Separator = ',', TrackLineNumbers = true }, false);
        long lines = 0;
        while (csv.Read())
        {
            lines += csv.LineNumber;
            bars.Add(new PriceBar("AAPL", DateOnly.FromDateTime(csv.ParseExact<DateTime>(0, "yyyy-MM-dd")),
                csv.Parse<double>(1), csv.Parse<double>(2), csv.Parse<double>(3), csv.Parse<double>(4),
                csv.Parse<double>(5), csv.Parse<long>(6), "csv", IngestedAt));
        }
        return lines > 0 ? bars : [];
    }

    // The same parsing without building PriceBars: what the library itself costs, without the 9.6 MB
    // of bars that both variants above allocate alike.
    [Benchmark(Description = "100k Yahoo rows, values only, Sylvan")]
    public double SylvanValues()
    {
        using var text = new StreamReader(new MemoryStream(_file), Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
        using var csv = CsvDataReader.Create(text, new CsvDataReaderOptions { HasHeaders = true, Delimiter = ',', Comment = '\0' });
        double sum = 0;
        long lines = 0;
        while (csv.Read())
        {
            lines += csv.RowNumber;
            sum += DateOnly.ParseExact(csv.GetFieldSpan(0), "yyyy-MM-dd", CultureInfo.InvariantCulture).DayNumber;
            for (var i = 1; i <= 5; i++)
            {
                sum += double.Parse(csv.GetFieldSpan(i), NumberStyles.Float, CultureInfo.InvariantCulture);
            }
            sum += long.Parse(csv.GetFieldSpan(6), NumberStyles.Integer, CultureInfo.InvariantCulture);
        }
        return lines > 0 ? sum : double.NaN;
    }

    [Benchmark(Description = "100k Yahoo rows, values only, CsvHelper TryParse<T>")]
    public double CsvHelperValues()
    {
        using var csv = global::CsvHelper.CsvReader.Create(new MemoryStream(_file),
            new global::CsvHelper.CsvReaderOptions { HasHeader = true, Separator = ',', TrackLineNumbers = true }, false);
        Span<char> date = stackalloc char[16];
        double sum = 0;
        long lines = 0;
        while (csv.Read())
        {
            var n = Encoding.UTF8.GetChars(csv.GetSpan(0), date);
            lines += csv.LineNumber;
            sum += DateOnly.ParseExact(date[..n], "yyyy-MM-dd", CultureInfo.InvariantCulture).DayNumber;
            for (var i = 1; i <= 5; i++)
            {
                sum += csv.TryParse<double>(i, out var v) ? v : throw new FormatException();
            }
            sum += csv.TryParse<long>(6, out var volume) ? volume : throw new FormatException();
        }
        return lines > 0 ? sum : double.NaN;
    }
}

/// <summary>
/// <see cref="CsvPriceSource"/> end to end over a folder of 100 Yahoo files x 10,000 rows (1M rows on
/// disk, page cache warm after the first run): open, detect, parse, merge, sort, one result per file.
/// </summary>
[MemoryDiagnoser]
public class CsvSourceFolderBenchmarks
{
    public const int Files = 100;
    public const int RowsPerFile = 10_000;
    private string _folder = "";

    [GlobalSetup]
    public void Setup()
    {
        _folder = Path.Combine(Path.GetTempPath(), "lakehouse-csv-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
        for (var i = 0; i < Files; i++)
        {
            File.WriteAllText(Path.Combine(_folder, $"S{i:D3}.csv"), YahooCsv.Generate(RowsPerFile, seed: i));
        }
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_folder, recursive: true);

    [Benchmark(Description = "CsvPriceSource, 100 files x 10k rows")]
    public async Task<long> Folder()
    {
        long rows = 0;
        await foreach (var r in new CsvPriceSource().FetchAsync(new SourceRequest([], null, null, _folder)))
        {
            rows += r.Error is null && r.Rejected.Count == 0 ? r.Bars.Count : throw new InvalidOperationException(r.Error ?? r.Rejected[0]);
        }
        return rows == (long)Files * RowsPerFile ? rows : throw new InvalidOperationException($"read {rows} rows");
    }
}

/// <summary>Yahoo-style daily files: consecutive calendar days from 1950 (unique dates), 6-decimal prices.</summary>
internal static class YahooCsv
{
    public static string Generate(int rows, int seed)
    {
        var random = new Random(seed);
        var sb = new StringBuilder(rows * 72);
        sb.Append("Date,Open,High,Low,Close,Adj Close,Volume\n");
        var date = new DateOnly(1950, 1, 1);
        var close = 100.0;
        for (var i = 0; i < rows; i++)
        {
            var open = close * (1 + ((random.NextDouble() - 0.5) * 0.02));
            close = open * (1 + ((random.NextDouble() - 0.5) * 0.04));
            var high = Math.Max(open, close) * (1 + (random.NextDouble() * 0.01));
            var low = Math.Min(open, close) * (1 - (random.NextDouble() * 0.01));
            sb.Append(CultureInfo.InvariantCulture, $"{date.AddDays(i):yyyy-MM-dd},{open:F6},{high:F6},{low:F6},{close:F6},{close * 0.98:F6},{random.NextInt64(100_000, 90_000_000)}\n");
        }
        return sb.ToString();
    }
}
