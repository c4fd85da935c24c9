using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;

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
        var store = LakeStore.Open(new StoreOptions { DataDir = _lake.Dir, CacheBytes = cacheOn ? 1L << 28 : 0, TargetBatchRows = 50 });
        var template = TestBars.Generate(Symbols, new DateOnly(2024, 1, 1), new DateOnly(2024, 6, 30));
        await store.UpsertAsync(template.Select(b => b with { Volume = 1 }).ToArray());
        var query = TableQuery.Create(symbols: Symbols, columns: ["symbol", "date", "volume"]);

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

    [Fact]
    public async Task Read_MoreRowsThanTheSmallWindowButFittingTheCache_IsStillOneSnapshot()
    {
        // 40 symbols x 7 years: ~73K rows, more than the 64K-row window of reads larger than the cache (D31),
        // a few MB: well within this cache, so the whole read is pinned as of one commit.
        var (store, template, query) = await WideLakeAsync(cacheBytes: 1L << 28);

        var (volumes, symbols) = await ReadAcrossACommitAsync(store, template, query);

        Assert.Equal(template.Count, volumes.Count);
        Assert.All(volumes, v => Assert.Equal(1, v));
        Assert.Equal(40, symbols.Count);
    }

    [Fact]
    public async Task Read_LargerThanTheCache_StreamsInWindows_EveryRowOnce_EachSymbolAtOneCommit()
    {
        // The same lake with a 2 MiB cache: the read is larger than the cache, so it pins 64K rows and reads the
        // symbols after them as the stream reaches them, each whole as of one commit.
        var (store, template, query) = await WideLakeAsync(cacheBytes: 2L << 20);

        var (volumes, symbols) = await ReadAcrossACommitAsync(store, template, query);

        Assert.Equal(template.Count, volumes.Count);
        Assert.Equal(template.Select(b => b.Symbol).Distinct().Order(StringComparer.Ordinal), symbols.Keys);
        Assert.All(symbols, s => Assert.Single(s.Value.Distinct()));
        Assert.Equal(1, symbols.First().Value[0]);
    }

    [Fact]
    public async Task Read_LargerThanTheCache_ASymbolLoadedAheadThenRewritten_IsReadAgain()
    {
        // Compacted, so the read loads the symbols after its pinned window ahead, side by side, for itself (D32).
        var (store, template, query) = await WideLakeAsync(cacheBytes: 2L << 20);
        store.Compact();
        var last = template.Max(b => b.Symbol)!;
        var volumes = new List<long>();
        var rewritten = false;
        long loadedThen = 0;
        using (var read = store.Read(query).GetEnumerator())
        {
            while (read.MoveNext())
            {
                var symbol = (StringArray)read.Current.Column("symbol");
                var volume = (Int64Array)read.Current.Column("volume");
                for (var i = 0; i < read.Current.Length; i++)
                {
                    if (symbol.GetString(i) == last)
                    {
                        volumes.Add(volume.GetValue(i)!.Value);
                    }
                }
                if (!rewritten && volumes.Count == 0 && store.Cache.ScanLoaded + store.Cache.Symbols.Count == 40)
                {
                    // Every symbol is loaded (the first into the cache's room, the others for the read), the last one
                    // not streamed yet: rewrite it.
                    Assert.False(store.Cache.Symbols.Contains(new TableId(PriceTables.Silver), last));
                    loadedThen = store.Cache.ScanLoaded;
                    await store.UpsertAsync(template.Where(b => b.Symbol == last).Select(b => b with { Volume = 2 }).ToArray());
                    rewritten = true;
                }
            }
        }

        Assert.True(rewritten, $"the read never had every symbol loaded ahead of the last one ({store.Cache.ScanLoaded} loaded)");
        Assert.Equal(template.Count(b => b.Symbol == last), volumes.Count);
        Assert.All(volumes, v => Assert.Equal(2, v));
        Assert.Equal(loadedThen + 1, store.Cache.ScanLoaded);
    }

    [Fact]
    public async Task ReadsLargerThanTheCache_DuringCommitsAndCompaction_SeeWholeSymbols_AndTheLastCommitAfter()
    {
        // Cold cache (the first scans fill its room), copies current at first, then rewritten by compaction passes
        // while two writers commit single symbols (even and odd ones, so each symbol's commits are in order).
        var (store, template, query) = await WideLakeAsync(cacheBytes: 2L << 20);
        store.Compact();
        var symbols = template.Select(b => b.Symbol).Distinct().Order(StringComparer.Ordinal).ToArray();
        var committed = symbols.ToDictionary(s => s, _ => 1L, StringComparer.Ordinal);
        long generation = 1;
        var writersDone = 0;
        var writers = Enumerable.Range(0, 2).Select(w => Task.Run(async () =>
        {
            try
            {
                for (var i = 0; i < 12; i++)
                {
                    // Spread over the alphabet: symbols the reads pin, and those they load ahead for themselves.
                    var symbol = symbols[((i * 6) + w) % symbols.Length];
                    var g = Interlocked.Increment(ref generation);
                    await store.UpsertAsync(template.Where(b => b.Symbol == symbol).Select(b => b with { Volume = g }).ToArray());
                    lock (committed)
                    {
                        committed[symbol] = g;
                    }
                }
            }
            finally
            {
                // Also when a write fails: the readers and the compactor stop, and the failure is the test's.
                Interlocked.Increment(ref writersDone);
            }
        })).ToArray();
        var compactor = Task.Run(async () =>
        {
            while (Volatile.Read(ref writersDone) < 2)
            {
                store.Compact();
                await Task.Delay(50);
            }
        });
        // Readers on threads of their own: three synchronous loops on the pool of a 2-core machine left the writers'
        // continuations queued behind them (the pool saw work completing and added no thread), and the test hung.
        var readers = Enumerable.Range(0, 3).Select(_ => Task.Factory.StartNew(() =>
        {
            var reads = 0;
            while (Volatile.Read(ref writersDone) < 2 || reads == 0)
            {
                Dictionary<string, long> before;
                lock (committed)
                {
                    before = new Dictionary<string, long>(committed, StringComparer.Ordinal);
                }
                var (rows, bySymbol) = ReadVolumes(store, query);
                Assert.Equal(template.Count, rows);
                Assert.Equal(symbols, bySymbol.Keys);
                foreach (var (symbol, volumes) in bySymbol)
                {
                    // Each symbol whole as of one commit, never older than what was committed when the read began.
                    Assert.Single(volumes);
                    Assert.True(volumes.Single() >= before[symbol], $"{symbol}: read generation {volumes.Single()}, {before[symbol]} committed before the read");
                }
                reads++;
            }
            return reads;
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();

        await Task.WhenAll(writers);
        await compactor;
        var done = await Task.WhenAll(readers);

        Assert.All(done, r => Assert.True(r >= 1));
        Assert.True(store.Cache.ScanLoaded > 0);
        Assert.True(store.Cache.Bytes <= store.Cache.BudgetBytes, $"cache holds {store.Cache.Bytes} bytes, budget {store.Cache.BudgetBytes}");
        // Nothing stale was kept: every symbol reads as its last commit, from the cache or not.
        var (_, after) = ReadVolumes(store, query);
        Assert.Equal(committed.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (kv.Key, kv.Value)),
            after.Select(kv => (kv.Key, kv.Value.Single())));
    }

    /// <summary>A whole read: its row count and the distinct volumes of each symbol.</summary>
    private static (long Rows, SortedDictionary<string, SortedSet<long>> BySymbol) ReadVolumes(LakeStore store, TableQuery query)
    {
        long rows = 0;
        var bySymbol = new SortedDictionary<string, SortedSet<long>>(StringComparer.Ordinal);
        foreach (var batch in store.Read(query))
        {
            var symbol = (StringArray)batch.Column("symbol");
            var volume = (Int64Array)batch.Column("volume");
            for (var i = 0; i < batch.Length; i++)
            {
                var key = symbol.GetString(i);
                if (!bySymbol.TryGetValue(key, out var set))
                {
                    bySymbol[key] = set = [];
                }
                set.Add(volume.GetValue(i)!.Value);
            }
            rows += batch.Length;
        }
        return (rows, bySymbol);
    }

    private async Task<(LakeStore Store, IReadOnlyList<PriceBar> Template, TableQuery Query)> WideLakeAsync(long cacheBytes)
    {
        var store = LakeStore.Open(new StoreOptions { DataDir = _lake.Dir, CacheBytes = cacheBytes, TargetBatchRows = 500 });
        var symbols = Enumerable.Range(1, 40).Select(i => $"W{i:D2}").ToArray();
        var template = TestBars.Generate(symbols, new DateOnly(2018, 1, 1), new DateOnly(2024, 12, 31));
        Assert.True(template.Count > 64 << 10);
        await store.UpsertAsync(template.Select(b => b with { Volume = 1 }).ToArray());
        return (store, template, TableQuery.Create(symbols: symbols, columns: ["symbol", "date", "volume"]));
    }

    /// <summary>Reads the query with a commit rewriting every symbol (volume 2) after its first batch: volumes in order, and per symbol.</summary>
    private static async Task<(List<long> Volumes, SortedDictionary<string, List<long>> BySymbol)> ReadAcrossACommitAsync(
        LakeStore store, IReadOnlyList<PriceBar> template, TableQuery query)
    {
        var volumes = new List<long>();
        var bySymbol = new SortedDictionary<string, List<long>>(StringComparer.Ordinal);
        using var read = store.Read(query).GetEnumerator();
        Assert.True(read.MoveNext());
        AddBySymbol(read.Current);
        await store.UpsertAsync(template.Select(b => b with { Volume = 2 }).ToArray());
        while (read.MoveNext())
        {
            AddBySymbol(read.Current);
        }
        return (volumes, bySymbol);

        void AddBySymbol(RecordBatch batch)
        {
            var symbol = (StringArray)batch.Column("symbol");
            var volume = (Int64Array)batch.Column("volume");
            for (var i = 0; i < batch.Length; i++)
            {
                var v = volume.GetValue(i)!.Value;
                volumes.Add(v);
                var key = symbol.GetString(i);
                if (!bySymbol.TryGetValue(key, out var list))
                {
                    bySymbol[key] = list = [];
                }
                list.Add(v);
            }
        }
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
