using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Ingestion.Gold;
using Lakehouse.Flight.Ingestion.Legacy;
using Lakehouse.Flight.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Lakehouse.Flight.Ingestion.Tests.Pipeline;

/// <summary>The one write path that changes silver (commit, then gold), composed by the container as the server and CLI compose it.</summary>
public sealed class LakeWriterTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "lakehouse-writer-" + Guid.NewGuid().ToString("N"));
    private readonly ServiceProvider _services;

    public LakeWriterTests() =>
        _services = new ServiceCollection().AddLakehouseStorage(o => o.DataDir = _dir).AddLakehouseIngestion()
            .BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

    public void Dispose()
    {
        _services.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public void Container_ComposesEveryWriterOverOneStoreAndOneGoldBuilder()
    {
        var writer = _services.GetRequiredService<LakeWriter>();

        Assert.Same(writer, _services.GetRequiredService<LakeWriter>());
        Assert.NotNull(_services.GetRequiredService<IngestionRunner>());
        Assert.NotNull(_services.GetRequiredService<BronzePromoter>());
        Assert.NotNull(_services.GetRequiredService<LegacyMigration>());
        Assert.Same(_services.GetRequiredService<GoldBuilder>(), _services.GetRequiredService<GoldBuilder>());
    }

    [Fact]
    public async Task WriteAsync_Silver_CommitsThenGoldFollowsForTheChangedSymbolsOnly()
    {
        var writer = _services.GetRequiredService<LakeWriter>();
        var store = _services.GetRequiredService<LakeStore>();
        var msft = SyntheticBars.GenerateOne("MSFT", new DateOnly(2020, 1, 1), new DateOnly(2021, 12, 31)).ToArray();
        var ibm = SyntheticBars.GenerateOne("IBM", new DateOnly(2020, 1, 1), new DateOnly(2021, 12, 31)).ToArray();

        var first = await writer.WriteAsync([new TableWrite(PriceTables.Silver, PriceBarBatches.ToBatch([.. ibm, .. msft]), "test")]);

        Assert.Null(first.GoldError);
        Assert.Empty(first.StaleSymbols);
        Assert.Equal([("IBM", ibm.Length), ("MSFT", msft.Length)], first.Reports.Select(r => (r.Symbol, (int)r.Inserted)));
        Assert.Equal(["daily_metrics/IBM", "daily_metrics/MSFT", "prices_monthly/IBM", "prices_monthly/MSFT"],
            first.Gold.Select(r => $"{r.Table}/{r.Symbol}").Order(StringComparer.Ordinal));
        Assert.All(first.Gold, r => Assert.Equal(first.Reports[0].RunId, r.RunId));
        var silver = Read(store, TableQuery.Create("silver", PriceTables.PricesDaily, ["MSFT"]));
        AssertSameValues(GoldCalculator.DailyMetrics(silver), Read(store, TableQuery.Create("gold", GoldTables.DailyMetricsName, ["MSFT"])));

        // A correction of one MSFT bar: only MSFT's gold is rebuilt, and it equals the computation over the new silver.
        var corrected = msft[^1] with { High = msft[^1].High * 2, Close = msft[^1].High * 2, AdjClose = msft[^1].High * 2 };
        var second = await writer.WriteAsync([new TableWrite(PriceTables.Silver, PriceBarBatches.ToBatch([corrected]), "test")]);

        Assert.Equal([("MSFT", 0L, 1L)], second.Reports.Select(r => (r.Symbol, r.Inserted, r.Updated)));
        Assert.Equal(["MSFT"], second.Gold.Select(r => r.Symbol).Distinct());
        silver = Read(store, TableQuery.Create("silver", PriceTables.PricesDaily, ["MSFT"]));
        Assert.Equal(corrected.Close, ((DoubleArray)silver.Column(silver.Schema.GetFieldIndex("close"))).GetValue(silver.Length - 1));
        AssertSameValues(GoldCalculator.DailyMetrics(silver), Read(store, TableQuery.Create("gold", GoldTables.DailyMetricsName, ["MSFT"])));
    }

    private static RecordBatch Read(LakeStore store, TableQuery query) => RecordBatches.Concatenate(store.Read(query).ToArray());

    /// <summary>Every column of <paramref name="expected"/> equals the stored one with the same name, row by row.</summary>
    private static void AssertSameValues(RecordBatch expected, RecordBatch stored)
    {
        Assert.Equal(expected.Length, stored.Length);
        var compared = 0;
        foreach (var field in expected.Schema.FieldsList)
        {
            var want = expected.Column(expected.Schema.GetFieldIndex(field.Name));
            var got = stored.Column(stored.Schema.GetFieldIndex(field.Name));
            if (want is DoubleArray w && got is DoubleArray g)
            {
                Assert.Equal(w.ToArray(), g.ToArray());
                compared++;
            }
        }
        Assert.True(compared >= 3, $"only {compared} double column(s) compared");
    }
}
