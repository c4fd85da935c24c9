using BenchmarkDotNet.Attributes;
using Lakehouse.Flight.Benchmarks.Support;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Benchmarks.Micro;

/// <summary>
/// Upsert of 100 bars of one symbol over days that already exist (2024-01-02 .. 2024-05-20:
/// 100 business days of one year band). "Changed" bumps every volume each call so the file holding
/// them is really rewritten (Parquet encode, fsync, log entry, folder publish, manifest); "Unchanged"
/// sends the stored values again, which only reads and compares. "1 row" is the daily path: one
/// symbol's bar of the day (one file rewritten).
/// </summary>
[MemoryDiagnoser]
public class UpsertBenchmarks
{
    private BenchLake _lake = null!;
    private LakeStore _store = null!;
    private PriceBar[] _bars = [];
    private long _bump;

    [Params(true, false)]
    public bool Cache { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _lake = BenchLake.Create("upsert");
        _lake.Fill(["AAPL"], new DateOnly(2024, 1, 1), new DateOnly(2024, 12, 31));
        _store = _lake.Open(Cache ? 1L << 28 : 0);
        _bars = SyntheticBars.GenerateOne("AAPL", new DateOnly(2024, 1, 1), new DateOnly(2024, 12, 31)).Take(100).ToArray();
    }

    [GlobalCleanup]
    public void Cleanup() => _lake.Dispose();

    [Benchmark(Description = "upsert 100 rows, changed")]
    public long Upsert100Changed()
    {
        var bump = ++_bump;
        var changed = Array.ConvertAll(_bars, b => b with { Volume = b.Volume + bump });
        var reports = _store.UpsertAsync(changed).GetAwaiter().GetResult();
        return reports[0].Updated;
    }

    [Benchmark(Description = "upsert 1 row, changed")]
    public long Upsert1Changed()
    {
        var bump = ++_bump;
        var reports = _store.UpsertAsync([_bars[^1] with { Volume = _bars[^1].Volume + bump }]).GetAwaiter().GetResult();
        return reports[0].Updated;
    }

    [Benchmark(Description = "upsert 100 rows, unchanged")]
    public long Upsert100Unchanged()
    {
        // Each benchmark case gets its own lake (GlobalSetup), so what is stored is exactly _bars.
        var reports = _store.UpsertAsync(_bars).GetAwaiter().GetResult();
        return reports[0].Unchanged + reports[0].Updated;
    }
}
