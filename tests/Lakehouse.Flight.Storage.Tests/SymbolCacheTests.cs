using System.Globalization;
using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Storage.Tests;

/// <summary>Symbol entries (one batch per symbol): kept hot by writes, dropped when another process commits, evicted within budget.</summary>
public sealed class SymbolCacheTests : IDisposable
{
    private readonly TempLake _lake = new();

    public void Dispose() => _lake.Dispose();

    private static IReadOnlyList<PriceBar> Bars(string from, string to, params string[] symbols) =>
        TestBars.Generate(symbols, DateOnly.Parse(from, CultureInfo.InvariantCulture), DateOnly.Parse(to, CultureInfo.InvariantCulture));

    [Fact]
    public async Task Write_SplicesIntoEntry_ReadsEqualFilesAndEntryStays()
    {
        var store = _lake.Open();
        await store.UpsertAsync(Bars("2020-01-01", "2022-12-31", "AAPL", "MSFT"));
        var all = TableQuery.Create(symbols: ["AAPL"]);
        Dump(store.Read(TableQuery.Create()));
        var loaded = store.Stats(PriceTables.Silver);
        Assert.Equal(loaded.Rows, loaded.CachedRows);

        // Changed month in the middle, new months before, inside a gap-free run and after.
        var changed = Bars("2021-06-01", "2021-06-30", "AAPL").Select(b => b with { Volume = b.Volume + 7 }).ToList();
        await store.UpsertAsync(changed);
        await store.UpsertAsync(Bars("2019-11-01", "2019-11-30", "AAPL"));
        await store.UpsertAsync(Bars("2023-02-01", "2023-03-31", "AAPL"));
        // Unchanged rows must be recognised from the entry's month slices.
        var again = Assert.Single(await store.UpsertAsync(changed));
        Assert.Equal(changed.Count, again.Unchanged);

        var stats = store.Stats(PriceTables.Silver);
        Assert.Equal(stats.Rows, stats.CachedRows);
        var reference = _lake.Open(cacheBytes: 0);
        foreach (var q in new[]
        {
            all,
            TableQuery.Create(),
            TableQuery.Create(symbols: ["AAPL"], dateFrom: "2019-11-15", dateTo: "2021-06-10"),
            TableQuery.Create(symbols: ["AAPL"], dateFrom: "2023-03-01", dateTo: "2023-03-31", columns: ["date", "volume"]),
        })
        {
            Assert.Equal(Dump(reference.Read(q)), Dump(store.Read(q)));
            Assert.Equal(reference.Plan(q).Single(p => p.Symbol == "AAPL"), store.Plan(q).Single(p => p.Symbol == "AAPL"));
        }
    }

    [Fact]
    public async Task OtherProcessWrite_ChangeFeedDropsEntry()
    {
        var store = _lake.Open();
        await store.UpsertAsync(Bars("2020-01-01", "2021-12-31", "AAPL"));
        Dump(store.Read(TableQuery.Create(symbols: ["AAPL"])));
        Assert.Equal(Bars("2020-01-01", "2021-12-31", "AAPL").Count, store.Stats(PriceTables.Silver).CachedRows);

        // A second instance stands in for another process: its commit reaches us through the log.
        var other = _lake.Open();
        await other.UpsertAsync(Bars("2021-03-01", "2021-03-31", "AAPL").Select(b => b with { Volume = b.Volume + 1 }).ToList());

        Assert.Equal(0, store.Stats(PriceTables.Silver).CachedRows);
        var reference = _lake.Open(cacheBytes: 0);
        var q = TableQuery.Create(symbols: ["AAPL"]);
        Assert.Equal(Dump(reference.Read(q)), Dump(store.Read(q)));
    }

    [Fact]
    public async Task TinyBudget_EvictsButResultsStayCorrect()
    {
        var symbols = new[] { "AAA", "BBB", "CCC", "DDD", "EEE", "FFF" };
        await _lake.Open(cacheBytes: 0).UpsertAsync(Bars("2019-01-01", "2021-12-31", symbols));
        const long budget = 150_000;
        var store = _lake.Open(cacheBytes: budget);
        var reference = _lake.Open(cacheBytes: 0);
        var queries = new[]
        {
            TableQuery.Create(),
            TableQuery.Create(symbols: ["CCC", "AAA"], dateFrom: "2020-02-10", dateTo: "2021-01-05"),
            TableQuery.Create(symbols: ["FFF"], dateFrom: "2021-07-01", dateTo: "2021-07-31"),
        };
        for (var round = 0; round < 3; round++)
        {
            foreach (var q in queries)
            {
                Assert.Equal(Dump(reference.Read(q)), Dump(store.Read(q)));
            }
            await store.UpsertAsync(Bars("2020-05-01", "2020-05-31", symbols[round]).Select(b => b with { Volume = b.Volume + round + 1 }).ToList());
        }
        Assert.Equal(Dump(reference.Read(queries[0])), Dump(store.Read(queries[0])));
        var stats = store.Stats(PriceTables.Silver);
        Assert.True(stats.CachedBytes <= budget, $"cache holds {stats.CachedBytes} bytes over a budget of {budget}");
        Assert.True(stats.CachedRows < stats.Rows);
    }

    [Fact]
    public async Task ColdPointRead_DoesNotBuildWholeSymbol()
    {
        await _lake.Open(cacheBytes: 0).UpsertAsync(Bars("2005-01-01", "2024-12-31", "AAPL"));
        var store = _lake.Open();

        var rows = Dump(store.Read(TableQuery.Create(symbols: ["AAPL"], dateFrom: "2024-03-01", dateTo: "2024-03-31")));

        Assert.Equal(21, rows.Count);
        // One row group decoded and kept; no entry of the symbol's 20 years.
        Assert.Equal(0, store.Stats(PriceTables.Silver).CachedRows);
        Assert.Equal(1, store.Cache.Groups.Count);
        // The symbol's run of the file is kept apart, in its own buffers.
        Assert.Equal(1, store.Cache.Runs.Count);

        // A warm read comes from the run alone: with the groups gone, nothing is decoded again.
        store.Cache.Groups.Clear();
        Assert.Equal(rows, Dump(store.Read(TableQuery.Create(symbols: ["AAPL"], dateFrom: "2024-03-01", dateTo: "2024-03-31"))));
        Assert.Equal(0, store.Cache.Groups.Count);
    }

    [Fact]
    public async Task Warm_BuildsEveryEntry_FullScanIsOneSlicePerSymbol()
    {
        var symbols = new[] { "AAA", "BBB", "CCC" };
        await _lake.Open(cacheBytes: 0).UpsertAsync(Bars("2005-01-01", "2024-12-31", symbols));
        var store = _lake.Open();

        var total = Bars("2005-01-01", "2024-12-31", symbols).Count;
        Assert.Equal(total, store.Warm(PriceTables.Silver));

        Assert.Equal(total, store.Stats(PriceTables.Silver).CachedRows);
        var batches = store.Read(TableQuery.Create()).ToList();
        Assert.Equal(3, batches.Count);
        Assert.Equal(Dump(_lake.Open(cacheBytes: 0).Read(TableQuery.Create())), Dump(batches));
    }

    [Fact]
    public async Task EntryBuiltFromAStateOlderThanACommit_IsNotKept()
    {
        var store = _lake.Open();
        await store.UpsertAsync(Bars("2019-01-01", "2021-12-31", "AAPL"));
        var table = new TableId(PriceTables.Silver);
        // A read takes its state; a commit changes the symbol before the read builds the entry from that state's files.
        var before = store.Metadata.Current.Table(PriceTables.Silver);
        await store.UpsertAsync(Bars("2020-06-01", "2020-06-30", "AAPL").Select(b => b with { Volume = b.Volume + 5 }).ToList());

        var forTheRead = store.Cache.EntryForRead(before, table, "AAPL", touchedRuns: 3, scan: null, CancellationToken.None);

        // The read gets the rows of its own state (the old June), but the cache keeps none of them.
        Assert.NotNull(forTheRead);
        Assert.Equal(Bars("2019-01-01", "2021-12-31", "AAPL").Count, forTheRead.Length);
        Assert.False(store.Cache.TryEntry(table, "AAPL", out _));
        var q = TableQuery.Create(symbols: ["AAPL"]);
        var current = Dump(_lake.Open(cacheBytes: 0).Read(q));
        Assert.Equal(current, Dump(store.Read(q)));
        Assert.True(store.Cache.TryEntry(table, "AAPL", out var entry));
        Assert.Equal(current, Dump(entry.Chunks));
    }

    [Fact]
    public void ConcatenateManaged_OfOneSlice_CopiesOnlyItsRows()
    {
        var whole = PriceBarBatches.ToBatch(Bars("2024-01-01", "2024-12-31", "AAPL", "MSFT", "NVDA", "TSLA"));
        var slice = whole.Slice(10, 5);

        var copy = ArrowConcat.ConcatenateManaged([slice]);

        // Arrow's concatenator would hand the slice back, keeping every buffer of the whole batch alive.
        Assert.Equal(Dump([slice]), Dump([copy]));
        Assert.Equal(SymbolCache.SizeOf(whole), SymbolCache.SizeOf(slice));
        Assert.True(SymbolCache.SizeOf(copy) < SymbolCache.SizeOf(whole) / 10, $"copy {SymbolCache.SizeOf(copy)} bytes of {SymbolCache.SizeOf(whole)}");

        // A column type our copier does not handle goes through Arrow's concatenator, still as a copy.
        var flags = new RecordBatch(new Apache.Arrow.Schema.Builder().Field(f => f.Name("flag").DataType(Apache.Arrow.Types.BooleanType.Default)).Build(),
            [new BooleanArray.Builder().AppendRange(Enumerable.Range(0, 100).Select(i => i % 3 == 0)).Build()], 100);
        var one = ArrowConcat.ConcatenateManaged([flags.Slice(90, 10)]);
        Assert.Equal(Enumerable.Range(90, 10).Select(i => (bool?)(i % 3 == 0)), Enumerable.Range(0, 10).Select(i => ((BooleanArray)one.Column(0)).GetValue(i)));
    }

    [Fact]
    public void Splice_EqualsTheUpsertOfRowsThatDiffer()
    {
        var def = PriceTables.Silver;
        var year = Bars("2020-01-01", "2020-12-31", "AAPL");
        var random = new Random(20261206);
        for (var round = 0; round < 200; round++)
        {
            var existing = year.Where(_ => random.NextDouble() < 0.7).ToList();
            // Changed rows in any order: new values for keys there or not there, at the start, inside and at the end.
            var changed = year.Where(_ => random.NextDouble() < (round % 4 == 0 ? 0.5 : 0.02))
                .Select(b => b with { Volume = b.Volume + round + 1, Close = b.Close + 1 })
                .OrderBy(_ => random.Next()).ToList();
            if (round % 10 == 1)
            {
                changed.Add(year[^1] with { Date = year[^1].Date.AddDays(3), Volume = 9 });
            }
            if (changed.Count == 0)
            {
                continue;
            }
            var rows = PriceBarBatches.ToBatch(existing);
            var expected = UpsertMerge.Upsert(def, rows, PriceBarBatches.ToBatch(changed)).Merged;

            var spliced = UpsertMerge.Splice(def, rows, PriceBarBatches.ToBatch(changed));

            Assert.NotNull(expected);
            Assert.Equal(Dump([expected]), Dump([spliced]));
            Assert.Equal(existing.Select(b => b.Date).Union(changed.Select(b => b.Date)).Count(), spliced.Length);

            // The same over the entry cut into chunks (as appends leave it): same rows, chunks still in date order.
            var cuts = Enumerable.Range(0, random.Next(0, 4)).Select(_ => random.Next(0, rows.Length + 1)).Append(0).Append(rows.Length)
                .Distinct().Order().ToArray();
            var chunks = cuts.Zip(cuts.Skip(1), (a, b) => rows.Slice(a, b - a)).ToList();
            var chunked = UpsertMerge.Splice(def, chunks, PriceBarBatches.ToBatch(changed));
            Assert.Equal(Dump([expected]), Dump(chunked));
            var days = chunked.SelectMany(c => Enumerable.Range(0, c.Length).Select(i => ((Date32Array)c.Column("date")).GetDateOnly(i)!.Value)).ToList();
            Assert.Equal(days.Order(), days);
        }
    }

    [Fact]
    public async Task DailyAppends_AddToASmallLastChunk_AndReadsEqualTheFiles()
    {
        var store = _lake.Open();
        await store.UpsertAsync(Bars("2015-01-01", "2023-12-31", "AAPL"));
        var table = new TableId(PriceTables.Silver);
        var q = TableQuery.Create(symbols: ["AAPL"]);
        Dump(store.Read(q));
        Assert.True(store.Cache.TryEntry(table, "AAPL", out var built));
        Assert.Single(built.Chunks);
        var days = Bars("2024-01-01", "2025-06-30", "AAPL");
        foreach (var day in days)
        {
            await store.UpsertAsync([day]);
        }

        Assert.True(store.Cache.TryEntry(table, "AAPL", out var entry));
        // The history is still the chunk built from the files; a chunk per 512 appended days at most after it.
        Assert.Same(built.Chunks[0], entry.Chunks[0]);
        Assert.InRange(entry.Chunks.Count, 2, 2 + (days.Count / UpsertMerge.TailChunkRows));
        Assert.All(entry.Chunks.Skip(1), c => Assert.InRange(c.Length, 1, UpsertMerge.TailChunkRows));
        var reference = _lake.Open(cacheBytes: 0);
        foreach (var query in new[] { q, TableQuery.Create(symbols: ["AAPL"], dateFrom: "2023-12-15", dateTo: "2024-02-10") })
        {
            Assert.Equal(Dump(reference.Read(query)), Dump(store.Read(query)));
        }
    }

    private static List<string> Dump(IEnumerable<RecordBatch> batches) => BatchDump.Rows(batches);
}
