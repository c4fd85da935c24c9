using System.Globalization;
using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Storage.Tests;

/// <summary>The compactor merges overlapping files in windows of symbols, into files cut by symbol, rows unchanged.</summary>
public sealed class CompactionTests : IDisposable
{
    private readonly TempLake _lake = new();

    public void Dispose() => _lake.Dispose();

    [Fact]
    public async Task OverlappingFilesOfMoreThanAWindow_AreMergedIntoFilesCutBySymbol_RowsUnchanged()
    {
        // 1,000 symbols of one year in five commits whose symbols interleave: every file of the band spans the whole
        // alphabet (depth 5), and the band holds two windows' worth of rows.
        var symbols = Enumerable.Range(0, 1000).Select(i => "S" + i.ToString("D4", CultureInfo.InvariantCulture)).ToArray();
        var store = _lake.Open(cacheBytes: 0);
        for (var k = 0; k < 5; k++)
        {
            await store.UpsertAsync(TestBars.Generate(symbols.Where((_, i) => i % 5 == k), new DateOnly(2024, 1, 1), new DateOnly(2024, 12, 31)));
            if (k == 3)
            {
                // Four files of one tier whose names' ranges overlap but that share no symbol: a point read opens one
                // of them, so they stay (a merge would not make the next tier, only rewrite the band).
                Assert.Equal(0, (await store.CompactAsync(PriceTables.Silver)).FilesIn);
            }
        }
        var before = BatchDump.Rows(store.Read(TableQuery.Create()));
        Assert.Equal(5, store.Metadata.Current.Table(PriceTables.Silver).Files.Count);

        var result = await store.CompactAsync(PriceTables.Silver);

        var files = store.Metadata.Current.Table(PriceTables.Silver).Files.Values.OrderBy(f => f.MinSymbol, StringComparer.Ordinal).ToList();
        Assert.Equal(5, result.FilesIn);
        Assert.Equal(files.Count, result.FilesOut);
        Assert.Equal(before.Count, result.Rows);
        Assert.True(files.Count >= 2, $"{files.Count} file(s) for {before.Count} rows");
        for (var i = 1; i < files.Count; i++)
        {
            Assert.True(string.CompareOrdinal(files[i].MinSymbol, files[i - 1].MaxSymbol) > 0,
                $"{files[i - 1].Name} ({files[i - 1].MinSymbol}..{files[i - 1].MaxSymbol}) overlaps {files[i].Name} ({files[i].MinSymbol}..)");
        }
        Assert.All(files, f => Assert.InRange(f.Rows, 1, FileSizing.TargetRows * 3 / 2));
        Assert.Equal(before.Count, files.Sum(f => f.Rows));
        Assert.Equal(before, BatchDump.Rows(store.Read(TableQuery.Create())));
        Assert.Equal(before, BatchDump.Rows(_lake.Open(cacheBytes: 0).Read(TableQuery.Create())));
        // Nothing left to merge.
        Assert.Equal(0, (await store.CompactAsync(PriceTables.Silver)).FilesIn);
    }

    [Fact]
    public async Task HotDays_TheNewestMonthsSmallFilesStayOutOfCompaction_SoADailyUpdateRewritesOnlyItsMonth()
    {
        var store = _lake.Open(cacheBytes: 0);
        var table = GoldTables.PricesMonthly;
        string[] symbols = ["H01", "H02", "H03"];
        // January to June 2024, a write each: six small files of one decade band.
        for (var m = 1; m <= 6; m++)
        {
            await store.WriteAsync([new TableWrite(table, Monthly(symbols, new DateOnly(2024, m, 1), close: m), "silver")]);
        }
        var first = Files(store);
        Assert.Equal(6, first.Count);
        var may = first.Single(f => f.MinDay == Day(new DateOnly(2024, 5, 1)));
        var june = first.Single(f => f.MinDay == Day(new DateOnly(2024, 6, 1)));

        // January to April merge (four small files); May and June lie within the band's newest 45 days: left alone.
        Assert.Equal(4, (await store.CompactAsync(table)).FilesIn);
        var compacted = Files(store);
        Assert.Equal(3, compacted.Count);
        Assert.Contains(compacted, f => f.Name == may.Name);
        Assert.Contains(compacted, f => f.Name == june.Name);

        // June's bars change with every trading day: the update rewrites June's small file, no other.
        await store.WriteAsync([new TableWrite(table, Monthly(symbols, new DateOnly(2024, 6, 1), close: 6.5), "silver")]);
        var updated = Files(store);
        Assert.Equal(compacted.Where(f => f.Name != june.Name).Select(f => f.Name).Order(StringComparer.Ordinal),
            updated.Where(f => f.MinDay < june.MinDay).Select(f => f.Name).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(updated, f => f.Name == june.Name);
        Assert.Equal(0, (await store.CompactAsync(table)).FilesIn);
        var closes = BatchDump.Rows(store.Read(TableQuery.Create("gold", GoldTables.PricesMonthlyName)));
        Assert.Equal(18, closes.Count);
        Assert.Equal(3, closes.Count(r => r.Contains($"|{june.MinDay}|6.5|", StringComparison.Ordinal)));

        // Once newer months land, the months that left the hot window merge like any small files.
        for (var m = 7; m <= 9; m++)
        {
            await store.WriteAsync([new TableWrite(table, Monthly(symbols, new DateOnly(2024, m, 1), close: m), "silver")]);
        }
        // Hot now: August and September. Merged: January-April's file, May, June and July.
        Assert.Equal(4, (await store.CompactAsync(table)).FilesIn);
        Assert.Equal(3, Files(store).Count);
        Assert.Equal(27, BatchDump.Rows(store.Read(TableQuery.Create("gold", GoldTables.PricesMonthlyName))).Count);
    }

    [Fact]
    public async Task DailyFilesOfEverySymbol_MergeFourOfATier_TheBandsOlderFilesStayAsTheyAre()
    {
        // A quarter of history for 10,000 symbols (full files cut by symbol, 65 rows a symbol), then 16 daily appends
        // of every symbol, one compaction pass after each (what the server does between two days).
        var symbols = Enumerable.Range(0, 10_000).Select(i => "T" + i.ToString("D5", CultureInfo.InvariantCulture)).ToArray();
        var store = _lake.Open(cacheBytes: 0);
        await store.UpsertAsync(TestBars.Generate(symbols, new DateOnly(2024, 1, 1), new DateOnly(2024, 3, 29)));
        await store.CompactAsync(PriceTables.Silver);
        var history = Silver(store);
        Assert.All(history, f => Assert.Equal(65, f.Rows / f.Symbols));
        Assert.Equal(650_000, history.Sum(f => f.Rows));

        var day = new DateOnly(2024, 4, 1);
        long rewritten = 0;
        var days = new List<DateOnly>();
        while (days.Count < 16)
        {
            if (day.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday))
            {
                await store.UpsertAsync(TestBars.Generate(symbols, day, day));
                days.Add(day);
                var pass = await store.CompactAsync(PriceTables.Silver);
                rewritten += pass.Rows;
                // Four small daily files make one file of four days (40,000 rows), on the 4th, 8th, 12th and 16th day;
                // the 16th day's pass then also merges the four files of four days into a file of sixteen.
                Assert.Equal(days.Count % 16 == 0 ? 8 : days.Count % 4 == 0 ? 4 : 0, pass.FilesIn);
            }
            day = day.AddDays(1);
        }

        var files = Silver(store);
        // The quarter's files were not rewritten: merges took files of one tier, not the band's overlapping whole.
        Assert.All(history, h => Assert.Contains(files, f => f.Name == h.Name));
        var merged = Assert.Single(files, f => history.All(h => h.Name != f.Name));
        Assert.Equal(160_000, merged.Rows);
        Assert.Equal(10_000, merged.Symbols);
        Assert.Equal((Day(days[0]), Day(days[^1])), (merged.MinDay, merged.MaxDay));
        // Each appended row written three times: its day's file, a file of four days, the file of sixteen.
        Assert.Equal(160_000 + 160_000, rewritten);

        var expected = TestBars.Generate(symbols, new DateOnly(2024, 1, 1), days[^1]);
        var read = BatchDump.Rows(store.Read(TableQuery.Create("silver", PriceTables.PricesDaily, ["T00000", "T04999", "T09999"])));
        Assert.Equal(3 * (65 + 16), read.Count);
        Assert.Equal(expected.Count, LakeFolder.Bars(_lake.Dir, PriceTables.Silver).Count);
        Assert.Equal(expected.OrderBy(b => b.Symbol, StringComparer.Ordinal).ThenBy(b => b.Date).Select(b => (b.Symbol, b.Date, b.Close)),
            LakeFolder.Bars(_lake.Dir, PriceTables.Silver).OrderBy(b => b.Symbol, StringComparer.Ordinal).ThenBy(b => b.Date).Select(b => (b.Symbol, b.Date, b.Close)));
        Assert.Equal(0, (await store.CompactAsync(PriceTables.Silver)).FilesIn);
    }

    [Theory]
    [InlineData(20_000, 3.5, 12)]
    [InlineData(500, 3.5, 12)]
    public void TwoTradingYearsOfDailyAppends_RewriteEachRowAFewTimes_AndTheClosedYearEndsInFilesOfAYear(int symbols, double maxPerRow, int maxDepth)
    {
        // The planner alone over two trading years of 252 daily files, merges simulated as the compactor makes them
        // (rows per symbol summed, cut by symbol into files of ~128K rows). Merging every overlapping file of the band
        // once a symbol lay in more than four rewrote a 20,000-symbol year's band every few weeks (21 rows written per
        // row appended, the `compaction` harness); merging every small file once there were four rewrote a 500-symbol
        // lake's growing one every few days (13 per row).
        var sim = new PlanSimulation(symbols);
        var deepest = 0;
        for (var d = 0; d < 2 * 252; d++)
        {
            var band = d < 252 ? 2024 : 2025;
            sim.Append(d, band);
            sim.CompactOnce();
            deepest = Math.Max(deepest, sim.MaxDepth(band));
            if (d == 251)
            {
                // 252 = 3 x 64 + 3 x 16 + 3 x 4: the open year's tiers are three deep each (and three small files at
                // most), and stay so while it is newest.
                Assert.InRange(sim.MaxDepth(2024), 7, maxDepth);
            }
        }
        // The first year, closed by the second's first day: files of the whole year, cut by symbol, one deep.
        Assert.Equal(1, sim.MaxDepth(2024));
        Assert.All(sim.Files.Where(f => f.Band == 2024), f => Assert.Equal(252, f.Rows / f.Symbols));
        Assert.Equal(252L * symbols, sim.Files.Where(f => f.Band == 2024).Sum(f => f.Rows));
        Assert.Equal(2 * 252L * symbols, sim.Files.Sum(f => f.Rows));
        var perRow = (double)sim.Rewritten / sim.Appended;
        Assert.True(perRow is >= 2.5 && perRow <= maxPerRow, $"{sim.Rewritten:N0} rows rewritten for {sim.Appended:N0} appended ({perRow:F2} per row)");
        Assert.InRange(deepest, 4, maxDepth);
    }

    [Fact]
    public async Task AYearsLastSmallFiles_MergeOnceTheNextYearBegins()
    {
        var symbols = Enumerable.Range(0, 500).Select(i => "C" + i.ToString("D3", CultureInfo.InvariantCulture)).ToArray();
        var store = _lake.Open(cacheBytes: 0);
        // The last three trading days of 2024: three small files of one size tier, too few to merge while 2024 is newest.
        DateOnly[] days = [new(2024, 12, 27), new(2024, 12, 30), new(2024, 12, 31)];
        foreach (var day in days)
        {
            await store.UpsertAsync(TestBars.Generate(symbols, day, day));
            Assert.Equal(0, (await store.CompactAsync(PriceTables.Silver)).FilesIn);
        }
        var december = Silver(store);
        Assert.Equal(3, december.Count);

        // The first day of 2025 closes 2024: its files merge into one; 2025's first file stays alone.
        await store.UpsertAsync(TestBars.Generate(symbols, new DateOnly(2025, 1, 2), new DateOnly(2025, 1, 2)));
        Assert.Equal(3, (await store.CompactAsync(PriceTables.Silver)).FilesIn);
        var files = Silver(store);
        var closed = Assert.Single(files, f => f.Band == 2024);
        Assert.Equal((1500, 500), (closed.Rows, closed.Symbols));
        Assert.Equal((Day(days[0]), Day(days[^1])), (closed.MinDay, closed.MaxDay));
        Assert.Single(files, f => f.Band == 2025);
        Assert.Equal(2000, LakeFolder.Bars(_lake.Dir, PriceTables.Silver).Count);
        Assert.Equal(0, (await store.CompactAsync(PriceTables.Silver)).FilesIn);

        // A backfill of two symbols no file holds lands two small files in the closed year: the year's small files
        // merge together (the two and December's).
        await store.UpsertAsync(TestBars.Generate(["A1"], new DateOnly(2024, 6, 3), new DateOnly(2024, 6, 3)));
        await store.UpsertAsync(TestBars.Generate(["Z9"], new DateOnly(2024, 6, 3), new DateOnly(2024, 6, 3)));
        Assert.Equal(3, (await store.CompactAsync(PriceTables.Silver)).FilesIn);
        var year = Assert.Single(Silver(store), f => f.Band == 2024);
        Assert.Equal((1502, 502, "A1", "Z9"), (year.Rows, year.Symbols, year.MinSymbol, year.MaxSymbol));
        Assert.Equal(2002, LakeFolder.Bars(_lake.Dir, PriceTables.Silver).Count);
        Assert.Equal(0, (await store.CompactAsync(PriceTables.Silver)).FilesIn);
    }

    [Fact]
    public void Merge_TakesDayDisjointRunsInTurn_AndSortsRunsThatInterleave_TiesInLandingOrder()
    {
        var t1 = new DateTimeOffset(2024, 6, 1, 0, 0, 0, TimeSpan.Zero);
        PriceBar Bar(string symbol, int day, DateTimeOffset? ingested = null) =>
            TestBars.Bar(symbol, new DateOnly(2024, 1, day)) with { IngestedAt = ingested ?? t1 };
        // X interleaves across A and B (days 1, 3 and 2, 3: a tie on day 3, landed later in A); Y is day-disjoint
        // across A and C, given in C first; Z lies in B alone.
        // W's runs meet at one key: A's last (day 2, landed later) is B's first (day 2, landed earlier).
        PriceBar[] a = [Bar("W", 1), Bar("W", 2, t1.AddHours(2)), Bar("X", 1), Bar("X", 3, t1.AddHours(2)), Bar("Y", 1)];
        PriceBar[] b = [Bar("W", 2, t1.AddHours(1)), Bar("W", 3), Bar("X", 2), Bar("X", 3, t1.AddHours(1)), Bar("Z", 5)];
        PriceBar[] c = [Bar("Y", 2), Bar("Y", 3)];
        var merged = Compactor.Merge(PriceTables.Silver, [PriceBarBatches.ToBatch(c), PriceBarBatches.ToBatch(a), PriceBarBatches.ToBatch(b)]);

        var expected = a.Concat(b).Concat(c).OrderBy(x => x.Symbol, StringComparer.Ordinal).ThenBy(x => x.Date).ThenBy(x => x.IngestedAt).ToList();
        Assert.Equal(BatchDump.Rows([PriceBarBatches.ToBatch(expected)]), BatchDump.Rows([merged]));
        var x3 = PriceBarBatches.ToBars(merged).Where(x => x.Symbol == "X" && x.Date.Day == 3).Select(x => x.IngestedAt).ToArray();
        Assert.Equal([t1.AddHours(1), t1.AddHours(2)], x3);
        var w2 = PriceBarBatches.ToBars(merged).Where(x => x.Symbol == "W" && x.Date.Day == 2).Select(x => x.IngestedAt).ToArray();
        Assert.Equal([t1.AddHours(1), t1.AddHours(2)], w2);
    }

    [Theory]
    [InlineData(new long[] { 500, 500, 500 }, null)]
    [InlineData(new long[] { 500, 3, 1000, 1 }, new long[] { 1, 3, 500, 1000 })]
    [InlineData(new long[] { 2000, 2000, 2000, 500, 500, 500 }, null)]
    [InlineData(new long[] { 2000, 2000, 2000, 2000, 500 }, new long[] { 500, 2000, 2000, 2000, 2000 })]
    [InlineData(new long[] { 8000, 8000, 8000, 8000, 2000, 2000, 500 }, new long[] { 500, 2000, 2000, 8000, 8000, 8000, 8000 })]
    [InlineData(new long[] { 2000, 2000, 2000, 2000, 500, 500, 500, 500 }, new long[] { 500, 500, 500, 500 })]
    [InlineData(new long[] { 30_000, 30_000, 30_000, 8000, 8000, 8000, 2000 }, null)]
    public void SmallFiles_MergeFourOfOneSizeTier_WithAnySmallerOnes(long[] rows, long[]? merged)
    {
        var files = rows.Select((r, i) => File(i, r, "A", "Z", 1)).ToList();
        var set = Compactor.SmallOfATier(files);
        Assert.Equal(merged, set?.Select(f => f.Rows).Order().ToArray());
    }

    [Fact]
    public void Tiers_ArePowersOfFour_OfRowsAndOfRowsPerSymbol()
    {
        Assert.Equal([0, 0, 1, 1, 2, 4, 5, 7, 8], new long[] { 1, 3, 4, 15, 16, 500, 2000, 20_000, 80_000 }.Select(Compactor.PowerOf4));
        Assert.Equal([0, 0, 1, 1, 2, 3], new long[] { 1, 1023, 1024, 4095, 4096, 20_000 }.Select(Compactor.SizeTier));
        Assert.Equal(1, Compactor.RunTier(File(0, 80_000, "A", "Z", 20_000)));
        Assert.Equal(4, Compactor.RunTier(File(0, 131_000, "A", "Z", 500)));
        Assert.Equal(0, Compactor.RunTier(File(0, 40_000, "A", "Z", 40_000)));
    }

    [Theory]
    [InlineData(5, 0)]
    [InlineData(6, 1)]
    public void FullFiles_ThreeOfEachTier_StayUntilASymbolLiesInMoreThan16_ThenMergeWhole(int tiers, int sets)
    {
        // Three full files of each run tier (1, 4, 16, ... rows a symbol), all over the same symbols: no tier holds four.
        var files = Enumerable.Range(0, tiers * 3)
            .Select(i => File(i, 40_960, "A", "Z", 40_960 >> (2 * (i / 3))))
            .ToArray();
        Assert.Equal(Enumerable.Range(0, tiers).SelectMany(t => Enumerable.Repeat(t, 3)), files.Select(Compactor.RunTier));
        var state = TableState.Empty(PriceTables.Silver, indexed: false)
            .Apply(new TableChange { Table = PriceTables.Silver.Id, Add = files }, 1, null!);

        var plan = Compactor.Plan(state);

        Assert.Equal(sets, plan.Count);
        Assert.All(plan, set => Assert.Equal(files.Length, set.Count));
    }

    private static DataFile File(int i, long rows, string min, string max, int symbols) => new()
    {
        Name = $"2024-{i:x16}.parquet",
        Band = 2024,
        Rows = rows,
        MinSymbol = min,
        MaxSymbol = max,
        Symbols = symbols,
    };

    private static List<DataFile> Silver(LakeStore store) => [.. store.Metadata.Current.Table(PriceTables.Silver).Files.Values];

    /// <summary>
    /// Daily files of every symbol planned by <see cref="Compactor.Plan"/>, each merge made as the compactor makes it
    /// (rows per symbol of the inputs summed, cut at symbol boundaries into chunks as <see cref="FileSizing.Chunks"/>
    /// cuts), without writing rows: counts what a year of merges would write.
    /// </summary>
    private sealed class PlanSimulation(int symbols)
    {
        private readonly Dictionary<string, (int First, int Last, int PerSymbol)> _shape = new(StringComparer.Ordinal);
        private int _next;

        public List<DataFile> Files { get; } = [];

        public long Appended { get; private set; }

        public long Rewritten { get; private set; }

        public void Append(int day, int band = 2024)
        {
            Files.Add(Make(0, symbols - 1, 1, day, day, band));
            Appended += symbols;
        }

        /// <summary>A pass: planned again after each round that merged, as <c>Compactor.CompactAsync</c> does.</summary>
        public void CompactOnce()
        {
            for (var round = 0; round < Compactor.MaxRounds && Round(); round++)
            {
            }
        }

        private bool Round()
        {
            var state = TableState.Empty(PriceTables.Silver, indexed: false)
                .Apply(new TableChange { Table = PriceTables.Silver.Id, Add = Files.ToArray() }, 1, null!);
            var plan = Compactor.Plan(state);
            foreach (var set in plan)
            {
                var perSymbol = new int[symbols];
                foreach (var f in set)
                {
                    var (first, last, per) = _shape[f.Name];
                    for (var s = first; s <= last; s++)
                    {
                        perSymbol[s] += per;
                    }
                    Files.Remove(f);
                }
                var minDay = set.Min(f => f.MinDay);
                var maxDay = set.Max(f => f.MaxDay);
                var band = set[0].Band;
                var total = perSymbol.Sum();
                Rewritten += total;
                // Chunks as FileSizing.Chunks cuts them: ~TargetRows, forward to a symbol boundary, a short tail joined.
                var start = System.Array.FindIndex(perSymbol, p => p > 0);
                var end = System.Array.FindLastIndex(perSymbol, p => p > 0);
                var remaining = (long)total;
                while (start <= end)
                {
                    int s = start;
                    long rows = 0;
                    if (remaining <= FileSizing.TargetRows + (FileSizing.TargetRows / 2))
                    {
                        s = end + 1;
                        rows = remaining;
                    }
                    else
                    {
                        while (s <= end && rows < FileSizing.TargetRows)
                        {
                            rows += perSymbol[s++];
                        }
                        if (remaining - rows < FileSizing.TargetRows / 2)
                        {
                            s = end + 1;
                            rows = remaining;
                        }
                    }
                    // Simulated inputs hold one run length over a range, so the chunk's rows per symbol is uniform.
                    Files.Add(Make(start, s - 1, (int)(rows / (s - start)), minDay, maxDay, band));
                    remaining -= rows;
                    start = s;
                }
            }
            return plan.Count > 0;
        }

        /// <summary>The most files of the band any one symbol lies in.</summary>
        public int MaxDepth(int band = 2024)
        {
            var depth = new int[symbols + 1];
            foreach (var f in Files.Where(f => f.Band == band))
            {
                var (first, last, _) = _shape[f.Name];
                depth[first]++;
                depth[last + 1]--;
            }
            int max = 0, running = 0;
            foreach (var d in depth)
            {
                running += d;
                max = Math.Max(max, running);
            }
            return max;
        }

        private DataFile Make(int first, int last, int perSymbol, int minDay, int maxDay, int band)
        {
            var file = new DataFile
            {
                Name = $"{band}-{_next++:x16}.parquet",
                Band = band,
                Rows = (long)(last - first + 1) * perSymbol,
                MinSymbol = "S" + first.ToString("D5", CultureInfo.InvariantCulture),
                MaxSymbol = "S" + last.ToString("D5", CultureInfo.InvariantCulture),
                Symbols = last - first + 1,
                MinDay = minDay,
                MaxDay = maxDay,
            };
            _shape[file.Name] = (first, last, perSymbol);
            return file;
        }
    }

    private static List<DataFile> Files(LakeStore store) => [.. store.Metadata.Current.Table(GoldTables.PricesMonthly).Files.Values];

    private static int Day(DateOnly date) => date.DayNumber - new DateOnly(1970, 1, 1).DayNumber;

    /// <summary>One monthly bar per symbol for <paramref name="month"/>, every price <paramref name="close"/>.</summary>
    private static RecordBatch Monthly(string[] symbols, DateOnly month, double close)
    {
        var prices = Enumerable.Range(0, 5).Select(_ => new DoubleArray.Builder().AppendRange(symbols.Select(_ => close)).Build()).ToArray();
        return new RecordBatch(GoldTables.PricesMonthlySchema,
        [
            new StringArray.Builder().AppendRange(symbols).Build(),
            new Date32Array.Builder().AppendRange(symbols.Select(_ => month.ToDateTime(TimeOnly.MinValue))).Build(),
            .. prices,
            new Int64Array.Builder().AppendRange(symbols.Select(_ => 1000L)).Build(),
            new Int32Array.Builder().AppendRange(symbols.Select(_ => 20)).Build(),
        ], symbols.Length);
    }
}
