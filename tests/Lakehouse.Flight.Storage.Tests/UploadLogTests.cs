using System.Globalization;
using DuckDB.NET.Data;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Storage.Tests;

/// <summary>Uploads acknowledged once durable in the write-ahead log and applied afterwards (decisions D24).</summary>
public sealed class UploadLogTests : IDisposable
{
    private readonly TempLake _lake = new();

    public void Dispose() => _lake.Dispose();

    private string WalDir => Path.Combine(_lake.Dir, "_metadata", "wal");

    private static TableWrite[] Landing(Apache.Arrow.RecordBatch rows, string source = "vendor_x") =>
        [new(PriceTables.Bronze, rows, source), new(PriceTables.Silver, rows, source)];

    [Fact]
    public async Task Enqueue_IsDurable_ReadFromTheBufferUntilApplied_ThenEqualsADirectLanding()
    {
        var store = _lake.Open();
        var bars = TestBars.Generate(["AAA", "BBB", "CCC"], new DateOnly(2024, 1, 1), new DateOnly(2024, 6, 30));
        var receipt = await store.EnqueueAsync(Landing(PriceBarBatches.ToBatch(bars)));

        Assert.Equal(bars.Count, receipt.Rows);
        Assert.Equal(3, receipt.Symbols);
        var entry = Assert.Single(Directory.GetFiles(WalDir, "*.arrows"));
        Assert.Contains(receipt.RunId, entry, StringComparison.Ordinal);
        // Durable, not applied: no partition file, no manifest line, status pending; silver reads have it
        // from the queryable buffer already, bronze once applied.
        Assert.True(receipt.Visible);
        Assert.False(Directory.Exists(Path.Combine(_lake.Dir, "silver", "prices_daily", "symbol=AAA")));
        Assert.Empty(store.ReadManifest(PriceTables.Silver));
        Assert.Empty(store.Read(TableQuery.Create("bronze", "prices_daily")));
        var buffered = BatchDump.Rows(store.Read(TableQuery.Create()));
        Assert.Equal(bars.Count, buffered.Count);
        Assert.Equal("pending", store.UploadStatusOf(receipt.RunId)!.State);
        Assert.Equal(1, store.PendingUploads);

        Assert.Equal(1, await store.ApplyUploadsAsync());

        Assert.Equal(buffered, BatchDump.Rows(store.Read(TableQuery.Create())));
        var silver = store.Read(TableQuery.Create()).SelectMany(PriceBarBatches.ToBars).ToList();
        Assert.Equal(bars.Count, silver.Count);
        Assert.Equal(bars.Select(b => (b.Symbol, b.Date, b.Close)).Order(), silver.Select(b => (b.Symbol, b.Date, b.Close)).Order());
        Assert.Empty(Directory.GetFiles(WalDir, "*.arrows"));
        var status = store.UploadStatusOf(receipt.RunId)!;
        Assert.Equal("applied", status.State);
        // One report per table and symbol, all rows inserted, under the acknowledged run id.
        Assert.Equal(6, status.Reports.Count);
        Assert.All(status.Reports, r => Assert.Equal(receipt.RunId, r.RunId));
        Assert.Equal(bars.Count, status.Reports.Where(r => r.Layer == "silver").Sum(r => r.Inserted));
        Assert.Equal(bars.Count, status.Reports.Where(r => r.Layer == "bronze").Sum(r => r.Inserted));
        Assert.Equal(3, store.ReadManifest(PriceTables.Silver).Count(r => r.RunId == receipt.RunId));

        // The same rows landed directly afterwards change nothing: the applied upload is the same landing.
        var again = await store.LandAsync(bars, "vendor_x", promote: true);
        Assert.All(again, r => Assert.Equal(r.Rows, r.Unchanged));
    }

    [Fact]
    public async Task WaitForUpload_WithNoBackgroundApplier_AppliesItself()
    {
        var store = _lake.Open();
        var receipt = await store.EnqueueAsync(Landing(PriceBarBatches.ToBatch(CrashWorkload.WalUpload(3))));

        // A library or CLI process runs no applier: waiting must not hang.
        var status = await store.WaitForUploadAsync(receipt.RunId).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal("applied", status.State);
        Assert.Equal(CrashWorkload.WalSymbolsPerUpload * CrashWorkload.WalDays,
            store.Read(TableQuery.Create(symbols: CrashWorkload.WalSymbols(3))).Sum(b => b.Length));
    }

    [Fact]
    public async Task Enqueue_DuplicateKey_IsRefusedBeforeTheAcknowledgement_AndLeavesNoEntry()
    {
        var store = _lake.Open();
        var bars = TestBars.Generate(["AAA"], new DateOnly(2024, 1, 1), new DateOnly(2024, 1, 31)).ToList();
        bars.Add(bars[0] with { Close = bars[0].Close + 1 });

        var ex = await Assert.ThrowsAsync<LakehouseException>(() => store.EnqueueAsync(Landing(PriceBarBatches.ToBatch(bars))));

        Assert.Equal(LakehouseErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains("duplicate key (AAA, 2024-01-01", ex.Message, StringComparison.Ordinal);
        Assert.True(!Directory.Exists(WalDir) || Directory.GetFiles(WalDir).Length == 0);
        Assert.Equal(0, store.PendingUploads);
    }

    [Fact]
    public async Task DirectWrite_AfterAnAcknowledgedUpload_LandsAfterIt()
    {
        var store = _lake.Open();
        var days = new[] { 2, 3, 4 };
        var first = PriceBarBatches.ToBatch(CrashWorkload.Days("ORD", days, 1));
        var receipt = await store.EnqueueAsync([new TableWrite(PriceTables.Silver, first, "a")]);

        // Not applied yet: the direct write must not be overwritten by the older upload later.
        await store.UpsertAsync(CrashWorkload.Days("ORD", days, 2));

        Assert.Equal("applied", store.UploadStatusOf(receipt.RunId)!.State);
        await store.ApplyUploadsAsync();
        var rows = store.Read(TableQuery.Create(symbols: ["ORD"])).SelectMany(PriceBarBatches.ToBars).ToList();
        Assert.Equal(3, rows.Count);
        Assert.All(rows, r => Assert.Equal(2, r.Close));
        var manifest = store.ReadManifest(PriceTables.Silver);
        Assert.Equal(2, manifest.Count);
        Assert.Equal(receipt.RunId, manifest[0].RunId);
        Assert.Equal(3, manifest[0].Inserted);
        Assert.Equal(3, manifest[1].Updated);
    }

    [Fact]
    public async Task TornEntryOfADeadWriter_IsDeletedUnapplied_AndAWholeOneIsAdopted()
    {
        var dead = DeadPid();
        var store = _lake.Open();
        var receipt = await store.EnqueueAsync(Landing(PriceBarBatches.ToBatch(CrashWorkload.WalUpload(1))));
        var entry = Assert.Single(Directory.GetFiles(WalDir, "*.arrows"));
        // Pretend another process wrote it and died: one whole entry, one torn (cut before its end marker).
        var name = Path.GetFileName(entry);
        var parts = name.Split('-', 3);
        var whole = Path.Combine(WalDir, $"{parts[0]}-{dead}-{parts[2]}");
        File.Copy(entry, whole);
        var bytes = await File.ReadAllBytesAsync(entry);
        var torn = Path.Combine(WalDir, $"{long.Parse(parts[0], CultureInfo.InvariantCulture) + 1:D19}-{dead}-20261201T000000000-deadbeef.arrows");
        await File.WriteAllBytesAsync(torn, bytes.AsSpan(0, bytes.Length - 100).ToArray());
        File.Delete(entry);

        var reopened = _lake.Open();
        Assert.Equal(1, await reopened.ApplyUploadsAsync());

        Assert.Empty(Directory.GetFiles(WalDir, "*.arrows"));
        var rows = reopened.Read(TableQuery.Create(symbols: CrashWorkload.WalSymbols(1))).SelectMany(PriceBarBatches.ToBars).ToList();
        Assert.Equal(CrashWorkload.WalSymbolsPerUpload * CrashWorkload.WalDays, rows.Count);
        Assert.Equal(CrashWorkload.WalSymbolsPerUpload, reopened.ReadManifest(PriceTables.Silver).Count(r => r.RunId == receipt.RunId));
        Assert.Null(reopened.UploadStatusOf("20261201T000000000-deadbeef"));
        // After a restart the status comes from the manifests.
        var status = _lake.Open().UploadStatusOf(receipt.RunId)!;
        Assert.Equal("applied", status.State);
        Assert.Equal(CrashWorkload.WalSymbolsPerUpload * CrashWorkload.WalDays, status.Rows);
    }

    [Fact]
    public async Task AdoptedUpload_PartlyCommittedBeforeTheCrash_IsAppliedExactlyOnce()
    {
        var store = LakeStore.Open(new StoreOptions { DataDir = _lake.Dir, UploadApplyChunkRows = CrashWorkload.WalChunkRows });
        var rows = PriceBarBatches.ToBatch(CrashWorkload.WalUpload(7));
        var receipt = await store.EnqueueAsync(Landing(rows, "wal"));
        var entry = Assert.Single(Directory.GetFiles(WalDir, "*.arrows"));
        var copy = await File.ReadAllBytesAsync(entry);
        await store.ApplyUploadsAsync();
        // The crash: the first commit (two symbols) happened, the rest did not. Rebuild that state: the
        // log entry back under a dead writer's pid, manifest lines only for the first two symbols.
        var committed = CrashWorkload.WalSymbols(7).Take(2).ToHashSet();
        foreach (var manifest in Directory.GetFiles(Path.Combine(_lake.Dir, "_metadata", "manifests")))
        {
            var keep = File.ReadAllLines(manifest).Where(l => committed.Any(s => l.Contains($"\"symbol\":\"{s}\"", StringComparison.Ordinal)));
            await File.WriteAllLinesAsync(manifest, keep);
        }
        var parts = Path.GetFileName(entry).Split('-', 3);
        await File.WriteAllBytesAsync(Path.Combine(WalDir, $"{parts[0]}-{DeadPid()}-{parts[2]}"), copy);

        var reopened = LakeStore.Open(new StoreOptions { DataDir = _lake.Dir, UploadApplyChunkRows = CrashWorkload.WalChunkRows });
        await reopened.ApplyUploadsAsync();

        foreach (var table in new[] { PriceTables.Silver, PriceTables.Bronze })
        {
            var lines = reopened.ReadManifest(table, 1000).Where(r => r.RunId == receipt.RunId).ToList();
            Assert.Equal(CrashWorkload.WalSymbols(7).Order(StringComparer.Ordinal), lines.Select(r => r.Symbol).Order(StringComparer.Ordinal));
        }
        var status = reopened.UploadStatusOf(receipt.RunId)!;
        Assert.Equal("applied", status.State);
        Assert.Equal(2 * CrashWorkload.WalSymbolsPerUpload, status.Reports.Count);
    }

    [Fact]
    public async Task Uploads_KilledAtRandomMomentsWhileAcknowledgingAndApplying_AreWholeAndOnce()
    {
        var random = new Random(20261201);
        var nextK = 1;
        var acked = new Dictionary<int, string>();
        for (var round = 0; round < 15; round++)
        {
            using (var child = new ChildProcess("wal", _lake.Dir, nextK.ToString(CultureInfo.InvariantCulture)))
            {
                child.WaitFor(l => l.StartsWith("acked", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
                // Into the middle of acknowledging further uploads and applying earlier ones, then SIGKILL.
                Thread.Sleep(random.Next(100, 2000));
                child.KillHard();
                foreach (var line in child.Lines.Where(l => l.StartsWith("acked ", StringComparison.Ordinal)))
                {
                    var parts = line.Split(' ');
                    acked[int.Parse(parts[1], CultureInfo.InvariantCulture)] = parts[2];
                }
            }
            // The next child continues after the last upload it could have started (acked or not).
            nextK = acked.Keys.Max() + 2;
        }

        var store = LakeStore.Open(_lake.Dir);
        await store.ApplyUploadsAsync();

        Assert.True(acked.Count >= 15, $"each round should acknowledge at least one upload; got {acked.Count}");
        Assert.Empty(Directory.GetFiles(WalDir, "*.arrows"));
        var silver = store.Read(TableQuery.Create()).SelectMany(PriceBarBatches.ToBars).ToList();
        var silverLines = store.ReadManifest(PriceTables.Silver, 1_000_000);
        var bronzeLines = store.ReadManifest(PriceTables.Bronze, 1_000_000);
        for (var k = 1; k < nextK; k++)
        {
            var symbols = CrashWorkload.WalSymbols(k);
            var present = symbols.Count(s => silver.Any(b => b.Symbol == s));
            if (!acked.ContainsKey(k) && present == 0)
            {
                // Never acknowledged and not applied: no trace anywhere.
                Assert.DoesNotContain(bronzeLines, r => symbols.Contains(r.Symbol));
                continue;
            }
            // Acknowledged (or durable just before the kill): every symbol whole, in both layers, once.
            Assert.Equal(symbols.Length, present);
            foreach (var s in symbols)
            {
                var rows = silver.Where(b => b.Symbol == s).ToList();
                Assert.Equal(CrashWorkload.WalDays, rows.Count);
                Assert.All(rows, r => Assert.Equal(k, r.Close));
                var runs = silverLines.Where(r => r.Symbol == s).ToList();
                Assert.Single(runs);
                Assert.Single(bronzeLines, r => r.Symbol == s);
                if (acked.TryGetValue(k, out var runId))
                {
                    Assert.Equal(runId, runs[0].RunId);
                }
            }
        }
        // Every data file opens (bronze and silver), and DuckDB over the table folder sees exactly what the store serves.
        Assert.NotEmpty(LakeFolder.Bars(_lake.Dir, PriceTables.Bronze));
        Assert.NotEmpty(LakeFolder.Bars(_lake.Dir, PriceTables.Silver));
        AssertDuckDbAgrees(silver);
        await store.Housekeeping;
        Assert.Empty(Directory.EnumerateFiles(_lake.Dir, DurableFile.TempPrefix + "*", SearchOption.AllDirectories));
    }

    private void AssertDuckDbAgrees(List<PriceBar> ours)
    {
        using var conn = new DuckDBConnection("DataSource=:memory:");
        conn.Open();
        using var cmd = conn.CreateCommand();
        var glob = Path.Combine(_lake.Dir, "silver", "prices_daily", "**", "*.parquet").Replace('\\', '/');
        cmd.CommandText = $"SELECT symbol, date, close FROM read_parquet('{glob}', hive_partitioning = 1) ORDER BY symbol, date";
        var duck = new List<(string, DateOnly, double)>();
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            duck.Add((r.GetString(0), DateOnly.FromDateTime(r.GetDateTime(1)), r.GetDouble(2)));
        }
        Assert.Equal(ours.Select(b => (b.Symbol, b.Date, b.Close)).OrderBy(x => x.Symbol, StringComparer.Ordinal).ThenBy(x => x.Date), duck);
    }

    /// <summary>A pid no process has now (a short-lived child's, after it exited).</summary>
    private static int DeadPid()
    {
        using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("true") { UseShellExecute = false })!;
        p.WaitForExit();
        return p.Id;
    }
}
