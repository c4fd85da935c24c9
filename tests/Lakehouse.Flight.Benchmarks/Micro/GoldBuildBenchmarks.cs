using BenchmarkDotNet.Attributes;
using Lakehouse.Flight.Benchmarks.Support;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Ingestion.Gold;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Benchmarks.Micro;

/// <summary>
/// <see cref="GoldBuilder"/> through a real store (default options: read cache on) for one symbol x 20
/// years (2001-01-01 .. 2020-12-31, 5,219 business days; 20 year files per gold table plus the report):
/// "unchanged" re-runs the build with silver as it is (reads silver, computes, compares, writes no file);
/// "late correction" rebuilds after one bar of Nov 2020 changed (two year files and the report
/// rewritten); "first build" builds a symbol whose gold does not exist yet (40 files and the report).
/// The 500-symbol universe costs about 500 times these (symbols are built independently, 10 per commit).
/// </summary>
[MemoryDiagnoser]
public class GoldBuildBenchmarks
{
    private static readonly DateOnly From = new(2001, 1, 1);
    private static readonly DateOnly To = new(2020, 12, 31);

    private BenchLake _lake = null!;
    private LakeStore _store = null!;
    private GoldBuilder _builder = null!;
    private PriceBar[] _bars = [];
    private int _fresh;
    private long _bump;

    [GlobalSetup]
    public void Setup()
    {
        _lake = BenchLake.Create("gold");
        _store = LakeStore.Open(_lake.Dir);
        _bars = SyntheticBars.GenerateOne("AAPL", From, To).ToArray();
        _store.UpsertAsync(_bars).GetAwaiter().GetResult();
        _builder = new GoldBuilder(_store);
        _builder.BuildAsync(["AAPL"]).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup() => _lake.Dispose();

    [Benchmark(Description = "gold rebuild, 1 symbol x 20 y, silver unchanged")]
    public int Unchanged() => _builder.BuildAsync(["AAPL"]).GetAwaiter().GetResult().Reports.Count;

    [IterationSetup(Target = nameof(LateCorrection))]
    public void Correct()
    {
        var bar = _bars.Last(b => b.Date.Month == 11);
        _store.UpsertAsync([bar with { Volume = bar.Volume + ++_bump }]).GetAwaiter().GetResult();
    }

    [Benchmark(Description = "gold rebuild, 1 symbol x 20 y, late correction")]
    public int LateCorrection() => _builder.BuildAsync(["AAPL"]).GetAwaiter().GetResult().Reports.Count;

    [IterationSetup(Target = nameof(FirstBuild))]
    public void NewSymbol()
    {
        var symbol = $"NEW{++_fresh}";
        _store.UpsertAsync(Array.ConvertAll(_bars, b => b with { Symbol = symbol })).GetAwaiter().GetResult();
    }

    [Benchmark(Description = "gold first build, 1 symbol x 20 y")]
    public int FirstBuild() => _builder.BuildAsync([$"NEW{_fresh}"]).GetAwaiter().GetResult().Reports.Count;
}
