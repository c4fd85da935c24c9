using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion;

namespace Lakehouse.Flight.Storage.Tests;

/// <summary>A read sees one committed state of every symbol it covers, whatever commits while it streams.</summary>
public sealed class SnapshotReadTests : IDisposable
{
    private static readonly string[] Symbols = ["SNA", "SNB", "SNC", "SND", "SNE"];
    private readonly TempLake _lake = new();

    public void Dispose() => _lake.Dispose();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Read_PausedAfterItsFirstBatch_DoesNotSeeACommitThatLandsMeanwhile(bool cacheOn)
    {
        // Small batches so the read yields many times; volume carries the commit's generation.
        var store = PriceStore.Open(new StoreOptions { DataDir = _lake.Dir, CacheBytes = cacheOn ? 1L << 28 : 0, TargetBatchRows = 50 });
        var template = SyntheticSource.Generate(Symbols, new DateOnly(2024, 1, 1), new DateOnly(2024, 6, 30));
        await store.UpsertAsync(template.Select(b => b with { Volume = 1 }).ToArray());
        var query = PriceQuery.Create(symbols: Symbols, columns: ["symbol", "date", "volume"]);

        var volumes = new List<long>();
        using (var read = store.Read(query).GetEnumerator())
        {
            Assert.True(read.MoveNext());
            Add(volumes, read.Current);
            Assert.True(volumes.Count < template.Count, "the first batch should not hold every row");
            // Rewrites every symbol, the one being read and those not read yet.
            var reports = await store.UpsertAsync(template.Select(b => b with { Volume = 2 }).ToArray());
            Assert.Equal(template.Count, reports.Where(r => r.Layer == "silver").Sum(r => r.Updated));
            while (read.MoveNext())
            {
                Add(volumes, read.Current);
            }
        }

        Assert.Equal(template.Count, volumes.Count);
        Assert.All(volumes, v => Assert.Equal(1, v));
        // A read that starts after the commit sees all of it.
        var after = new List<long>();
        foreach (var batch in store.Read(query))
        {
            Add(after, batch);
        }
        Assert.Equal(template.Count, after.Count);
        Assert.All(after, v => Assert.Equal(2, v));
    }

    private static void Add(List<long> volumes, RecordBatch batch)
    {
        var column = (Int64Array)batch.Column("volume");
        for (var i = 0; i < column.Length; i++)
        {
            volumes.Add(column.GetValue(i)!.Value);
        }
    }
}
