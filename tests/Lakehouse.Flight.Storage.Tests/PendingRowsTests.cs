using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Storage.Tests;

/// <summary>
/// The queryable buffer (docs/decisions.md D27): an upload acknowledged from the write-ahead log is in
/// every read of silver from the acknowledgement on, and a read before the applier commits it returns
/// exactly what a read after returns (values, lineage, order, plans).
/// </summary>
public sealed class PendingRowsTests : IDisposable
{
    private readonly TempLake _lake = new();

    public void Dispose() => _lake.Dispose();

    private static readonly TableQuery[] Queries =
    [
        TableQuery.Create(),
        TableQuery.Create(symbols: ["AAA"]),
        TableQuery.Create(symbols: ["CCC", "AAA"], dateFrom: "2024-02-10", dateTo: "2024-03-20"),
        TableQuery.Create(symbols: ["BBB"], dateFrom: "2024-07-01", dateTo: "2024-07-31", columns: ["date", "close", "source", "ingested_at"]),
        TableQuery.Create(dateFrom: "2024-03-29", dateTo: "2024-04-02"),
        TableQuery.Create(symbols: ["AAA"], limit: 7),
    ];

    private static IReadOnlyList<PriceBar> Bars(string from, string to, params string[] symbols) =>
        TestBars.Generate(symbols, DateOnly.Parse(from, System.Globalization.CultureInfo.InvariantCulture),
            DateOnly.Parse(to, System.Globalization.CultureInfo.InvariantCulture));

    private static TableWrite[] Landing(IReadOnlyList<PriceBar> bars, string source = "vendor_x")
    {
        var rows = PriceBarBatches.ToBatch(bars);
        return [new(PriceTables.Bronze, rows, source), new(PriceTables.Silver, rows, source)];
    }

    private static (List<string> Rows, List<string> Plans) Snapshot(LakeStore store) =>
        (Queries.SelectMany(q => BatchDump.Rows(store.Read(q)).Prepend($"-- {q}")).ToList(),
         // Rows exactly; the files a pending symbol will take are only estimated until its rows are applied.
         Queries.SelectMany(q => store.Plan(q).Select(p => $"{q}: {p.Symbol} {p.Rows}")).ToList());

    [Fact]
    public async Task AcknowledgedUploads_ReadBeforeTheCommit_EqualTheReadAfterIt()
    {
        var store = _lake.Open();
        await store.LandAsync(Bars("2024-01-01", "2024-06-30", "AAA", "BBB"), "vendor_a", promote: true);
        var before = BatchDump.Rows(store.Read(TableQuery.Create()));
        var januaryQuery = TableQuery.Create(symbols: ["AAA"], dateFrom: "2024-01-01", dateTo: "2024-01-31", columns: ["source", "ingested_at"]);
        var januaryLineage = BatchDump.Rows(store.Read(januaryQuery));

        // First upload: AAA's January again (unchanged: the old lineage stays), AAA's March changed (updated),
        // BBB's July (inserted), a new symbol CCC, and one bar of CCC the validator refuses (high below close).
        var january = Bars("2024-01-01", "2024-01-31", "AAA");
        var march = Bars("2024-03-01", "2024-03-31", "AAA").Select(b => b with { Close = b.Close + 1, High = b.High + 1 }).ToList();
        var ccc = Bars("2024-02-01", "2024-04-30", "CCC").ToList();
        ccc[3] = ccc[3] with { High = ccc[3].Close - 1 };
        var first = await store.EnqueueAsync(Landing([.. january, .. march, .. Bars("2024-07-01", "2024-07-31", "BBB"), .. ccc]));
        // Second upload, acknowledged later: AAA's March once more (the later upload wins), lowercase symbol.
        var march2 = Bars("2024-03-01", "2024-03-31", "AAA").Select(b => b with { Symbol = "aaa", Close = b.Close + 2, High = b.High + 2 }).ToList();
        var second = await store.EnqueueAsync(Landing(march2, "vendor_y"));

        Assert.True(first.Visible);
        Assert.True(second.Visible);
        Assert.Equal(2, store.PendingUploads);
        Assert.True(store.PendingUploadBytes > 0);
        var pending = Snapshot(store);
        // Bronze is not in the buffer: it follows when the uploads are applied.
        Assert.Empty(BatchDump.Rows(store.Read(TableQuery.Create("bronze", "prices_daily", symbols: ["CCC"]))));
        Assert.Equal(2, await store.ApplyUploadsAsync());
        var applied = Snapshot(store);

        Assert.Equal(applied.Rows, pending.Rows);
        Assert.Equal(applied.Plans, pending.Plans);
        Assert.Equal(0, store.PendingUploads);
        Assert.Equal(0, store.PendingUploadBytes);
        // What the reads saw is what the uploads did: CCC without the refused bar, March from the second upload,
        // January with its first landing's lineage.
        var all = store.Read(TableQuery.Create()).SelectMany(PriceBarBatches.ToBars).ToList();
        Assert.Equal(ccc.Count - 1, all.Count(b => b.Symbol == "CCC"));
        Assert.Equal(march2.Select(b => b.Close), all.Where(b => b.Symbol == "AAA" && b.Date.Month == 3).Select(b => b.Close));
        Assert.Equal(januaryLineage, BatchDump.Rows(store.Read(januaryQuery)));
        Assert.All(januaryLineage, l => Assert.StartsWith("vendor_a|", l, StringComparison.Ordinal));
        Assert.Equal(before.Count + Bars("2024-07-01", "2024-07-31", "BBB").Count + ccc.Count - 1, all.Count);
        var silverReports = store.ReadManifest(PriceTables.Silver).Where(r => r.RunId == first.RunId).ToList();
        Assert.Equal(1, silverReports.Single(r => r.Symbol == "CCC").Rejected);
        // A store opened afresh (the month files alone) agrees.
        Assert.Equal(applied.Rows, Snapshot(_lake.Open()).Rows);
    }

    [Fact]
    public async Task AcknowledgedUpload_ThenADirectWrite_TheDirectWriteWinsAndNothingStaysBuffered()
    {
        var store = _lake.Open();
        var bars = Bars("2024-01-01", "2024-02-29", "AAA");
        var receipt = await store.EnqueueAsync(Landing(bars));
        Assert.True(receipt.Visible);
        Assert.Equal(bars.Count, store.Read(TableQuery.Create(symbols: ["AAA"])).Sum(b => b.Length));

        // A direct write applies the acknowledged upload first, then lands over it.
        var changed = bars.Take(5).Select(b => b with { Close = b.Close + 3, High = b.High + 3 }).ToList();
        await store.UpsertAsync(changed);

        Assert.Equal(0, store.PendingUploads);
        Assert.Equal(0, store.PendingUploadBytes);
        var closes = store.Read(TableQuery.Create(symbols: ["AAA"])).SelectMany(PriceBarBatches.ToBars).Take(5).Select(b => b.Close);
        Assert.Equal(changed.Select(b => b.Close), closes);
    }

    [Fact]
    public async Task AppliedUploads_BeyondTheKeptCount_LeaveMemory_AndTheirStatusComesFromTheManifests()
    {
        var store = _lake.Open();
        store.AppliedRunsKept = 2;
        var runs = new List<(string RunId, UploadStatus Status)>();
        foreach (var symbol in new[] { "AAA", "BBB", "CCC", "DDD" })
        {
            var receipt = await store.EnqueueAsync(Landing(Bars("2024-01-01", "2024-01-31", symbol)));
            runs.Add((receipt.RunId, await store.WaitForUploadAsync(receipt.RunId)));
        }

        Assert.Equal(2, store.RunsInMemory);
        var first = store.UploadStatusOf(runs[0].RunId)!;
        Assert.Equal("applied", first.State);
        Assert.Equal(runs[0].Status.Rows, first.Rows);
        Assert.Equal(runs[0].Status.Reports.Select(r => (r.Layer, r.Symbol, r.Inserted)), first.Reports.Select(r => (r.Layer, r.Symbol, r.Inserted)));
        Assert.Equal(0, await store.WaitForAcknowledgedUploadsAsync());
    }

    [Fact]
    public async Task UploadLargerThanTheBuffer_IsVisibleOnceApplied()
    {
        var store = LakeStore.Open(new StoreOptions { DataDir = _lake.Dir, PendingUploadBytes = 4096 });
        var bars = Bars("2024-01-01", "2024-06-30", "AAA", "BBB");

        var receipt = await store.EnqueueAsync(Landing(bars));

        Assert.False(receipt.Visible);
        Assert.Equal(0, store.PendingUploadBytes);
        Assert.Empty(store.Read(TableQuery.Create()));
        Assert.Empty(store.Plan(TableQuery.Create()));
        await store.ApplyUploadsAsync();
        Assert.Equal(bars.Count, store.Read(TableQuery.Create()).Sum(b => b.Length));
    }

    [Fact]
    public async Task BufferOff_UploadIsVisibleOnceApplied()
    {
        var store = LakeStore.Open(new StoreOptions { DataDir = _lake.Dir, PendingUploadBytes = 0 });
        var receipt = await store.EnqueueAsync(Landing(Bars("2024-01-01", "2024-01-31", "AAA")));

        Assert.False(receipt.Visible);
        Assert.Empty(store.Read(TableQuery.Create()));
    }

    [Fact]
    public async Task SecondStoreOnTheLake_SeesTheUploadOnlyOnceApplied()
    {
        var store = _lake.Open();
        var other = _lake.Open();
        var bars = Bars("2024-01-01", "2024-03-31", "AAA");
        await store.EnqueueAsync(Landing(bars));

        // The buffer is the acknowledging process's memory; other processes read the month files.
        Assert.Equal(bars.Count, store.Read(TableQuery.Create()).Sum(b => b.Length));
        Assert.Empty(other.Read(TableQuery.Create()));
        await store.ApplyUploadsAsync();
        Assert.Equal(BatchDump.Rows(store.Read(TableQuery.Create())), BatchDump.Rows(other.Read(TableQuery.Create())));
    }

    [Fact]
    public async Task UploadsAcknowledgedInAnotherOrderThanBegun_ReadAndApplyInAcknowledgementOrder()
    {
        var store = _lake.Open();
        var march = Bars("2024-03-01", "2024-03-31", "AAA");
        (TableDefinition, string?)[] targets = [(PriceTables.Bronze, "vendor_x"), (PriceTables.Silver, "vendor_x")];
        // The first begins first (its log file's name sorts first) and is acknowledged last: it lands last.
        using var first = store.BeginUpload(targets);
        using var second = store.BeginUpload(targets);
        second.Add(PriceBarBatches.ToBatch(march.Select(b => b with { Close = b.Close + 2, High = b.High + 2 }).ToList()));
        await second.CommitAsync();
        first.Add(PriceBarBatches.ToBatch(march.Select(b => b with { Close = b.Close + 1, High = b.High + 1 }).ToList()));
        await first.CommitAsync();

        var pending = Snapshot(store);
        await store.ApplyUploadsAsync();

        Assert.Equal(Snapshot(store).Rows, pending.Rows);
        Assert.Equal(march.Select(b => b.Close + 1), store.Read(TableQuery.Create(symbols: ["AAA"])).SelectMany(PriceBarBatches.ToBars).Select(b => b.Close));
    }

    [Fact]
    public async Task DateOutsideTheCalendar_IsRefusedBeforeTheAcknowledgement_AndReadsStayWhole()
    {
        var store = _lake.Open();
        await store.UpsertAsync(Bars("2024-01-01", "2024-01-31", "AAA"));
        var schema = PriceTables.SilverSchema;
        var good = PriceBarBatches.ToBatch(Bars("2024-02-01", "2024-02-29", "BBB"));
        var days = ((Date32Array)good.Column(schema.GetFieldIndex("date"))).Values.ToArray();
        days[3] = 3_000_000;
        var bad = new RecordBatch(good.Schema, Enumerable.Range(0, good.ColumnCount).Select(c =>
            c == good.Schema.GetFieldIndex("date") ? new Date32Array(new ArrowBuffer(System.Runtime.InteropServices.MemoryMarshal.AsBytes(days.AsSpan()).ToArray()),
                ArrowBuffer.Empty, days.Length, 0, 0) : good.Column(c)), good.Length);

        var ex = await Assert.ThrowsAsync<LakehouseException>(() => store.EnqueueAsync([new TableWrite(PriceTables.Bronze, bad, "vendor_x"), new TableWrite(PriceTables.Silver, bad, "vendor_x")]));
        var direct = await Assert.ThrowsAsync<LakehouseException>(() => store.WriteAsync([new TableWrite(PriceTables.Silver, bad, "vendor_x")]));

        Assert.Contains("row 3 is day 3000000", ex.Message, StringComparison.Ordinal);
        Assert.Contains("outside 0001-01-01..9999-12-31", direct.Message, StringComparison.Ordinal);
        Assert.Equal(0, store.PendingUploads);
        Assert.Equal(Bars("2024-01-01", "2024-01-31", "AAA").Count, store.Read(TableQuery.Create()).Sum(b => b.Length));
    }
}
