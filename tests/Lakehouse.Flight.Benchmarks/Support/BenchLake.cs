using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Benchmarks.Support;

/// <summary>A temp data dir of its own, filled with synthetic bars, deleted on dispose.</summary>
internal sealed class BenchLake : IDisposable
{
    private BenchLake(string dir) => Dir = dir;

    public string Dir { get; }

    public static BenchLake Create(string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), "lakehouse-bench", $"{name}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return new BenchLake(dir);
    }

    public LakeStore Open(long cacheBytes) => LakeStore.Open(new StoreOptions { DataDir = Dir, CacheBytes = cacheBytes });

    /// <summary>Upserts synthetic bars of <paramref name="symbols"/> over [from, to] (no cache, so nothing stays in memory).</summary>
    public void Fill(IReadOnlyList<string> symbols, DateOnly from, DateOnly to)
    {
        var store = Open(0);
        store.UpsertAsync(SyntheticBars.Generate(symbols, from, to)).GetAwaiter().GetResult();
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
