using BenchmarkDotNet.Attributes;
using Lakehouse.Flight.Benchmarks.Support;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Ingestion.Gold;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Benchmarks.Micro;

/// <summary>
/// <c>build-gold</c> over every symbol of a lake (<see cref="Symbols"/> symbols x 20 years of silver,
/// in process, default store options), as the action and <c>lakehouse report</c> run it: 10 symbols
/// per commit. "first build" starts each iteration from a lake without gold (the folder deleted and
/// the store reopened outside the measurement); "unchanged" re-runs it over gold that is up to date.
/// The 500-symbol universe is 500 / <see cref="Symbols"/> times these: symbols are independent.
/// </summary>
[MemoryDiagnoser]
[WarmupCount(1)]
[IterationCount(3)]
public class GoldUniverseBenchmarks
{
    private BenchLake _lake = null!;
    private GoldBuilder _builder = null!;

    [Params(50)]
    public int Symbols { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _lake = BenchLake.Create("gold-universe");
        var store = LakeStore.Open(_lake.Dir);
        foreach (var chunk in Enumerable.Range(0, Symbols).Select(i => $"S{i:D3}").Chunk(10))
        {
            store.UpsertAsync(SyntheticBars.Generate(chunk, new DateOnly(2001, 1, 1), new DateOnly(2020, 12, 31))).GetAwaiter().GetResult();
        }
        _builder = new GoldBuilder(store);
        _builder.BuildAsync([]).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup() => _lake.Dispose();

    [Benchmark(Description = "build-gold, all symbols x 20 y, silver unchanged")]
    public int Unchanged() => _builder.BuildAsync([]).GetAwaiter().GetResult().Reports.Count;

    [IterationSetup(Target = nameof(FirstBuild))]
    public void DropGold()
    {
        Directory.Delete(Path.Combine(_lake.Dir, "gold"), recursive: true);
        _builder = new GoldBuilder(LakeStore.Open(_lake.Dir));
    }

    [Benchmark(Description = "build-gold, all symbols x 20 y, first build")]
    public int FirstBuild() => _builder.BuildAsync([]).GetAwaiter().GetResult().Reports.Count;
}
