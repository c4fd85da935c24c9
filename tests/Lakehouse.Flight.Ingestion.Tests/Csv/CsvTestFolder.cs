using Lakehouse.Flight.Ingestion.Csv;

namespace Lakehouse.Flight.Ingestion.Tests.Csv;

/// <summary>A temp folder the test owns, with helpers to write files and run the source over them.</summary>
internal sealed class CsvTestFolder : IDisposable
{
    public static readonly DateTimeOffset Now = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    public CsvTestFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "lakehouse-csv-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Write(string name, string content)
    {
        var file = System.IO.Path.Combine(Path, name);
        File.WriteAllText(file, content);
        return file;
    }

    public static async Task<List<SourceResult>> FetchAsync(string path, IReadOnlyList<string>? symbols = null, DateOnly? from = null, DateOnly? to = null)
    {
        var source = new CsvPriceSource(new FixedTime(Now));
        var results = new List<SourceResult>();
        await foreach (var r in source.FetchAsync(new SourceRequest(symbols ?? [], from, to, path)))
        {
            results.Add(r);
        }
        return results;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
