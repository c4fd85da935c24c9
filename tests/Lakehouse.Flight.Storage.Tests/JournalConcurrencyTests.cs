using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion;

namespace Lakehouse.Flight.Storage.Tests;

public sealed class JournalConcurrencyTests : IDisposable
{
    private readonly TempLake _lake = new();

    public void Dispose() => _lake.Dispose();

    [Fact]
    public async Task Upserts_OfDifferentSymbolsInOneProcessAtOnce_NeverTouchEachOthersJournal()
    {
        // Writers of different symbols hold different locks, so their commits overlap: one writer's
        // recovery pass must not take another live writer's journal in this process for a dead one.
        var store = _lake.Open();
        var symbols = Enumerable.Range(0, 24).Select(i => $"S{i}").ToArray();
        var bars = symbols.ToDictionary(s => s, s => SyntheticSource.GenerateOne(s, new DateOnly(2024, 1, 1), new DateOnly(2024, 3, 31)).ToArray());

        await Task.WhenAll(symbols.Select(s => Task.Run(() => store.UpsertAsync(bars[s]))));

        Assert.All(symbols, s => Assert.Equal(bars[s].Length, store.Read(PriceQuery.Create(symbols: [s])).Sum(b => b.Length)));
        Assert.Empty(Directory.EnumerateFiles(store.Paths.JournalDir));
    }
}
