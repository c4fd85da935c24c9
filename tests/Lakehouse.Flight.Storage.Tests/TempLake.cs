namespace Lakehouse.Flight.Storage.Tests;

/// <summary>A data dir of its own for each test, deleted afterwards.</summary>
public sealed class TempLake : IDisposable
{
    public TempLake()
    {
        Dir = Path.Combine(Path.GetTempPath(), "lakehouse-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Dir);
    }

    public string Dir { get; }

    public PriceStore Open(long cacheBytes = 1L << 28) => PriceStore.Open(new StoreOptions { DataDir = Dir, CacheBytes = cacheBytes });

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
