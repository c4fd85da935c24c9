using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Storage.Tests;

/// <summary>
/// <see cref="LakeStore.ReadRecent"/>: a symbol's recent rows, and of its older rows only what the data files'
/// directories summarize (count, highest value and nulls of silver's close and adj_close), as of one commit.
/// </summary>
public sealed class RecentRowsTests : IDisposable
{
    private static readonly System.Globalization.CultureInfo Invariant = System.Globalization.CultureInfo.InvariantCulture;

    private readonly TempLake _lake = new();

    public void Dispose() => _lake.Dispose();

    private static DateOnly Day(string text) => DateOnly.Parse(text, Invariant);

    [Fact]
    public async Task RecentRowsAndSummaries_EqualWhatAFullReadSaysOfTheRowsBeforeThem()
    {
        var store = _lake.Open();
        var bars = TestBars.Generate(["AAA", "BBB"], Day("2019-01-01"), Day("2021-06-30")).ToList();
        // BBB: adj_close missing on its 2020 rows, and its highest close on a day of 2019 (corrected later, in its own commit).
        bars = [.. bars.Select(b => b.Symbol == "BBB" && b.Date.Year == 2020 ? b with { AdjClose = null } : b)];
        await store.UpsertAsync(bars);
        var spike = bars.First(b => b.Symbol == "BBB" && b.Date >= Day("2019-05-06"));
        await store.UpsertAsync([spike with { High = 900, Close = 900, AdjClose = 850 }]);

        var asked = new Dictionary<string, DateOnly> { ["AAA"] = Day("2021-03-15"), ["BBB"] = Day("2020-01-01"), ["ZZZ"] = Day("2020-01-01") };
        var recent = store.ReadRecent(PriceTables.Silver, asked);

        Assert.Equal(["AAA", "BBB", "ZZZ"], recent.Keys.Order(StringComparer.Ordinal));
        foreach (var symbol in new[] { "AAA", "BBB" })
        {
            var all = RecordBatches.Concatenate(store.Read(TableQuery.Create(symbols: [symbol])).ToArray());
            var got = recent[symbol]!;
            var rows = RecordBatches.Concatenate([.. got.Rows]);
            var first = PriceColumns.Date.Of(rows).GetDateOnly(0)!.Value;
            // Whole runs (a year's file here) from at most the date asked for, every later row, in date order.
            Assert.True(first <= asked[symbol], $"{symbol}: recent rows start {first}, after {asked[symbol]}");
            Assert.Equal(new DateOnly(asked[symbol].Year, 1, 1), new DateOnly(first.Year, 1, 1));
            var dates = PriceColumns.Date.Of(all);
            var cut = Enumerable.Range(0, all.Length).First(i => dates.GetDateOnly(i) >= first);
            Assert.Equal(all.Length - cut, rows.Length);
            Assert.Equal(BatchDump.Rows([all.Slice(cut, all.Length - cut)]), BatchDump.Rows([rows]));

            var close = PriceColumns.Close.Of(all);
            var adj = PriceColumns.AdjClose.Of(all);
            Assert.Equal(cut, got.RowsBefore);
            Assert.Equal(Enumerable.Range(0, cut).Max(i => close.Values[i]), got.Before["close"].Max);
            Assert.Equal(Enumerable.Range(0, cut).Where(adj.IsValid).Max(i => adj.Values[i]), got.Before["adj_close"].Max);
            Assert.Equal(Enumerable.Range(0, cut).Count(adj.IsNull), got.Before["adj_close"].Nulls);
            Assert.Equal(0, got.Before["close"].Nulls);
        }
        // The correction's values are what BBB's 2019 summary holds; BBB's 2020 nulls are in its recent rows, not before.
        Assert.Equal((900.0, 850.0, 0L), (recent["BBB"]!.Before["close"].Max, recent["BBB"]!.Before["adj_close"].Max, recent["BBB"]!.Before["adj_close"].Nulls));
        Assert.Equal(0, recent["ZZZ"]!.Rows.Sum(b => b.Length));
        Assert.Equal(0, recent["ZZZ"]!.RowsBefore);
        Assert.Equal(double.NegativeInfinity, recent["ZZZ"]!.Before["close"].Max);
        // Past the row cap: not answered (read it whole).
        Assert.Null(store.ReadRecent(PriceTables.Silver, asked, maxRows: recent["BBB"]!.Rows.Sum(b => b.Length) - 1)["BBB"]);
        Assert.NotNull(store.ReadRecent(PriceTables.Silver, asked, maxRows: recent["BBB"]!.Rows.Sum(b => b.Length))["BBB"]);
        // On a store opened afresh, the same answer, and nothing entered the symbol cache.
        var fresh = _lake.Open();
        Assert.Equal(BatchDump.Rows(recent["AAA"]!.Rows), BatchDump.Rows(fresh.ReadRecent(PriceTables.Silver, asked)["AAA"]!.Rows));
        Assert.Equal(0, fresh.CachedRows);
        // Only some columns decoded (and the key's): the same rows and values of those columns, the same summaries.
        var projected = _lake.Open().ReadRecent(PriceTables.Silver, asked, columns: ["adj_close", "close"]);
        foreach (var symbol in new[] { "AAA", "BBB" })
        {
            var full = RecordBatches.Concatenate([.. recent[symbol]!.Rows]);
            var some = RecordBatches.Concatenate([.. projected[symbol]!.Rows]);
            Assert.Equal(["symbol", "date", "close", "adj_close"], some.Schema.FieldsList.Select(f => f.Name));
            var expected = new Apache.Arrow.RecordBatch(some.Schema, some.Schema.FieldsList.Select(f => full.Column(full.Schema.GetFieldIndex(f.Name))), full.Length);
            Assert.Equal(BatchDump.Rows([expected]), BatchDump.Rows([some]));
            Assert.Equal(recent[symbol]!.RowsBefore, projected[symbol]!.RowsBefore);
            Assert.Equal(recent[symbol]!.Before["adj_close"], projected[symbol]!.Before["adj_close"]);
        }
        Assert.Throws<ArgumentException>(() => store.ReadRecent(PriceTables.Silver, asked, columns: ["closing"]));
    }

    [Fact]
    public async Task VisitRecent_GivesEachSymbolWhatReadRecentGives_OnceEach_AndKeepsNothing()
    {
        // 150 symbols: row groups of ~30 symbols each, decoded once and read in place by the visits of all of them.
        var symbols = Enumerable.Range(1, 150).Select(i => $"S{i:D3}").ToArray();
        var store = _lake.Open();
        await store.UpsertAsync(TestBars.Generate(symbols, Day("2022-01-01"), Day("2023-12-31")));
        await store.UpsertAsync(TestBars.Generate(symbols, Day("2024-01-01"), Day("2024-01-31")));
        var asked = symbols.ToDictionary(s => s, s => Day("2023-06-01"));
        asked["ZZZ"] = Day("2023-06-01");
        string[] columns = ["close", "adj_close"];
        var expected = _lake.Open().ReadRecent(PriceTables.Silver, asked, columns: columns);

        var fresh = _lake.Open();
        var seen = new System.Collections.Concurrent.ConcurrentDictionary<string, (List<string> Rows, long Before, (double, long) Adj)>();
        fresh.VisitRecent(PriceTables.Silver, asked, int.MaxValue, columns, (symbol, recent) =>
            Assert.True(seen.TryAdd(symbol, (BatchDump.Rows(recent!.Rows), recent.RowsBefore, recent.Before["adj_close"])), $"{symbol} visited twice"));

        Assert.Equal(asked.Keys.Order(StringComparer.Ordinal), seen.Keys.Order(StringComparer.Ordinal));
        foreach (var symbol in asked.Keys)
        {
            var want = expected[symbol]!;
            Assert.Equal(BatchDump.Rows(want.Rows), seen[symbol].Rows);
            Assert.Equal((want.RowsBefore, want.Before["adj_close"]), (seen[symbol].Before, seen[symbol].Adj));
        }
        // Whole runs: S001's 2023 and its January 2024, from two commits' files.
        Assert.Equal(TestBars.Generate(["S001"], Day("2023-01-01"), Day("2024-01-31")).Count(), seen["S001"].Rows.Count);
        Assert.Empty(seen["ZZZ"].Rows);
        Assert.Equal(0, fresh.CachedRows);
        // A failing visit fails the call as itself; the store reads on.
        var failed = Assert.Throws<InvalidOperationException>(() => fresh.VisitRecent(PriceTables.Silver, asked, int.MaxValue, columns,
            (symbol, _) => throw new InvalidOperationException($"no {symbol}")));
        Assert.StartsWith("no ", failed.Message, StringComparison.Ordinal);
        Assert.Equal(BatchDump.Rows(expected["S150"]!.Rows), BatchDump.Rows(fresh.ReadRecent(PriceTables.Silver, asked, columns: columns)["S150"]!.Rows));
        Assert.Throws<ArgumentException>(() => fresh.VisitRecent(PriceTables.Silver, asked, int.MaxValue, ["closing"], (_, _) => { }));
        Assert.Throws<ArgumentException>(() => fresh.VisitRecent(PriceTables.Bronze, asked, int.MaxValue, columns, (_, _) => { }));
    }

    [Fact]
    public async Task SymbolWithAnUploadNotYetApplied_IsNotAnswered_TheOthersAre()
    {
        var store = _lake.Open();
        await store.UpsertAsync(TestBars.Generate(["AAA", "BBB"], Day("2022-01-01"), Day("2023-12-31")));
        var upload = PriceBarBatches.ToBatch([TestBars.Bar("AAA", Day("2021-06-01")) with { Close = 5000, High = 5000, AdjClose = 5000 }]);
        await store.EnqueueAsync([new(PriceTables.Bronze, upload, "vendor"), new(PriceTables.Silver, upload, "vendor")]);

        var recent = store.ReadRecent(PriceTables.Silver, new Dictionary<string, DateOnly> { ["AAA"] = Day("2023-06-01"), ["BBB"] = Day("2023-06-01") });

        // AAA's acknowledged row is in every read, but no file summarizes it yet.
        Assert.Null(recent["AAA"]);
        Assert.NotNull(recent["BBB"]);
        Assert.Equal(1, await store.ApplyUploadsAsync());
        var applied = store.ReadRecent(PriceTables.Silver, new Dictionary<string, DateOnly> { ["AAA"] = Day("2023-06-01") })["AAA"]!;
        Assert.Equal(5000.0, applied.Before["close"].Max);
    }

    [Fact]
    public void Directory_RoundTripsSummaries_AndAFooterWithoutThemHasNone()
    {
        var rows = PriceBarBatches.ToBatch([
            TestBars.Bar("AAA", Day("2024-01-02")) with { Close = 10, AdjClose = null },
            TestBars.Bar("AAA", Day("2024-01-03")) with { Close = 12, AdjClose = 11.5 },
            TestBars.Bar("BBB", Day("2024-01-02")) with { Close = 7.25, AdjClose = null },
        ]);
        var directory = SegmentFiles.DirectoryOf(PriceTables.Silver, rows);
        var decoded = SymbolDirectory.Decode(directory.Encode(), directory.RowGroupStarts, directory.EncodeSummaryColumns());
        var unpacked = SymbolDirectory.DecodePacked(directory.EncodePacked()!, directory.RowGroupStarts, directory.EncodeSummaryColumns());

        Assert.Equal("close,adj_close", directory.EncodeSummaryColumns());
        foreach (var d in new[] { directory, decoded, unpacked })
        {
            Assert.Equal([12.0, 7.25], d.SummaryOf("close")!.Max);
            Assert.Equal([0, 0], d.SummaryOf("close")!.Nulls);
            Assert.Equal([11.5, double.NegativeInfinity], d.SummaryOf("adj_close")!.Max);
            Assert.Equal([1, 1], d.SummaryOf("adj_close")!.Nulls);
        }
        // A file written before summaries: five fields a line, no summary; a line that lacks announced fields is damage.
        var old = SymbolDirectory.Decode("AAA 0 2 19724 19725\nBBB 2 1 19724 19724\n", [0, 3]);
        Assert.Empty(old.Summaries);
        Assert.Null(old.SummaryOf("close"));
        Assert.Throws<InvalidDataException>(() => SymbolDirectory.Decode("AAA 0 2 19724 19725\n", [0, 2], "close"));
        // A table without summary columns writes none.
        Assert.Null(SegmentFiles.DirectoryOf(PriceTables.Bronze, PriceBarBatches.ToBatch([TestBars.Bar("AAA", Day("2024-01-02"))])).EncodeSummaryColumns());
    }

    [Fact]
    public void PackedDirectory_RoundTripsEveryField_AndADaysFileOfThousandsOfSymbolsPacksSmall()
    {
        // Symbols sharing prefixes and not, dates before 1970 (negative days) and after, summaries with nulls and -inf.
        var bars = new List<PriceBar>();
        string[] symbols = ["A", "AA", "AAPL", "B", "BRK-B", "SYM0001", "SYM0002", "^GSPC"];
        for (var i = 0; i < symbols.Length; i++)
        {
            var first = i % 2 == 0 ? Day("1962-01-02") : Day("2024-01-02");
            for (var d = 0; d < i + 1; d++)
            {
                bars.Add(TestBars.Bar(symbols[i], first.AddDays(d)) with { Close = 10.1 * (i + 1) + d, AdjClose = i == 3 ? null : 0.1 * d });
            }
        }
        var rows = PriceBarBatches.ToBatch(bars);
        var directory = SegmentFiles.DirectoryOf(PriceTables.Silver, rows);
        var packed = SymbolDirectory.DecodePacked(directory.EncodePacked()!, directory.RowGroupStarts, directory.EncodeSummaryColumns());
        Assert.Equal(directory.Symbols, packed.Symbols);
        Assert.Equal(directory.Starts, packed.Starts);
        Assert.Equal(directory.Counts, packed.Counts);
        Assert.Equal(directory.MinDays, packed.MinDays);
        Assert.Equal(directory.MaxDays, packed.MaxDays);
        Assert.Contains(packed.MinDays, d => d < 0);
        foreach (var column in new[] { "close", "adj_close" })
        {
            Assert.Equal(directory.SummaryOf(column)!.Max, packed.SummaryOf(column)!.Max);
            Assert.Equal(directory.SummaryOf(column)!.Nulls, packed.SummaryOf(column)!.Nulls);
        }
        Assert.Equal(double.NegativeInfinity, packed.SummaryOf("adj_close")!.Max[3]);
        Assert.Throws<InvalidDataException>(() => SymbolDirectory.DecodePacked(Convert.ToBase64String([2, 0]), [0]));

        // One day of 5,000 symbols (a daily append's file): the packed directory is a small part of the text one.
        var day = PriceBarBatches.ToBatch(Enumerable.Range(1, 5000).Select(i => TestBars.Bar($"SYM{i:D5}", Day("2026-12-04"))).ToList());
        var daily = SegmentFiles.DirectoryOf(PriceTables.Silver, day);
        var text = daily.Encode().Length;
        var small = daily.EncodePacked()!.Length;
        Assert.True(small * 2 < text, $"packed {small} bytes against {text} as text");
        Assert.Equal(daily.Symbols, SymbolDirectory.DecodePacked(daily.EncodePacked()!, daily.RowGroupStarts, daily.EncodeSummaryColumns()).Symbols);
    }

    [Fact]
    public void PackedDirectory_DecodesNamesToOneStringPerSymbol_AndDamageIsInvalidData()
    {
        var rows = PriceBarBatches.ToBatch([TestBars.Bar("MSFT", Day("2024-01-02")), TestBars.Bar("MSFTX", Day("2024-01-02"))]);
        var directory = SegmentFiles.DirectoryOf(PriceTables.Silver, rows);
        var packed = directory.EncodePacked()!;
        var first = SymbolDirectory.DecodePacked(packed, directory.RowGroupStarts, directory.EncodeSummaryColumns());
        var second = SymbolDirectory.DecodePacked(packed, directory.RowGroupStarts, directory.EncodeSummaryColumns());
        Assert.Equal(["MSFT", "MSFTX"], first.Symbols);
        // Thousands of files name the same symbols: every directory holds the process's one string for each.
        Assert.Same(first.Symbols[1], second.Symbols[1]);
        Assert.Same(directory.Symbols[0], first.Symbols[0]);

        // Version 1, two symbols: "AB", then a name sharing 3 characters with it (only 2 exist).
        Assert.Throws<InvalidDataException>(() => SymbolDirectory.DecodePacked(Pack([1, 2, 0, 2, (byte)'A', (byte)'B', 3, 1, (byte)'C']), [0, 2]));
        // Cut short inside the second name, and inside the counts.
        Assert.Throws<InvalidDataException>(() => SymbolDirectory.DecodePacked(Pack([1, 2, 0, 2, (byte)'A', (byte)'B', 1, 3, (byte)'C']), [0, 2]));
        Assert.Throws<InvalidDataException>(() => SymbolDirectory.DecodePacked(Pack([1, 2, 0, 2, (byte)'A', (byte)'B', 1, 1, (byte)'C', 1]), [0, 2]));
        // A count beyond the directory's bytes, a fifth varint byte with more than 4 bits (BinaryReader refuses it too).
        Assert.Throws<InvalidDataException>(() => SymbolDirectory.DecodePacked(Pack([1, 0xFF, 0xFF, 0xFF, 0x07]), [0]));
        Assert.Throws<InvalidDataException>(() => SymbolDirectory.DecodePacked(Pack([1, 0x80, 0x80, 0x80, 0x80, 0x10]), [0]));
        // A varint that never ends, and text that is not base64.
        Assert.Throws<InvalidDataException>(() => SymbolDirectory.DecodePacked(Pack([1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]), [0]));
        Assert.Throws<InvalidDataException>(() => SymbolDirectory.DecodePacked("not base64!", [0]));
        // The whole of it decodes: what the damaged ones lacked.
        var whole = SymbolDirectory.DecodePacked(Pack([1, 2, 0, 2, (byte)'A', (byte)'B', 1, 1, (byte)'C', 1, 2, 4, 0, 0, 1]), [0, 3]);
        Assert.Equal(["AB", "AC"], whole.Symbols);
        Assert.Equal([0, 1], whole.Starts);
        Assert.Equal([1, 2], whole.Counts);
        Assert.Equal([2, 2], whole.MinDays);
        Assert.Equal([2, 3], whole.MaxDays);
    }

    private static string Pack(byte[] raw)
    {
        using var compressed = new MemoryStream();
        using (var deflate = new System.IO.Compression.DeflateStream(compressed, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
        {
            deflate.Write(raw);
        }
        return Convert.ToBase64String(compressed.ToArray());
    }
}
