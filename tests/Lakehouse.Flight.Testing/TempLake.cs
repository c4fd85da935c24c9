using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Testing;

/// <summary>A data dir of its own for each test, deleted afterwards.</summary>
public sealed class TempLake : IDisposable
{
    private readonly TempDir _dir = new();

    public string Dir => _dir.Path;

    public LakeStore Open(long cacheBytes = 1L << 28) => LakeStore.Open(new StoreOptions { DataDir = Dir, CacheBytes = cacheBytes });

    public void Dispose() => _dir.Dispose();
}
