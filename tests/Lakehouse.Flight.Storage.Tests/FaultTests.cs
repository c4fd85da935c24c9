using System.Security.Cryptography;
using DuckDB.NET.Data;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Storage.Tests;

/// <summary>A full disk, a read-only disk, a torn manifest: the lake stays whole and the error says what to do.</summary>
public sealed class FaultTests
{
    [TmpfsFact]
    public async Task FullDisk_WriteIsRefusedBeforeTheCommitPoint_LakeUnchangedAndManifestsWhole()
    {
        using var disk = Tmpfs.Mount(4);
        var store = LakeStore.Open(disk.Path);
        await store.UpsertAsync(TestBars.Generate(["AAPL"], new DateOnly(2024, 1, 1), new DateOnly(2024, 1, 31)));
        var filler = disk.Fill(leaveBytes: 256 * 1024);
        var before = Snapshot(disk.Path);

        var ex = await Assert.ThrowsAsync<LakehouseException>(() =>
            store.UpsertAsync(TestBars.Generate(["MSFT", "IBM", "KO"], new DateOnly(2020, 1, 1), new DateOnly(2023, 12, 31))));

        Assert.Equal(LakehouseErrorKind.DiskFull, ex.Kind);
        Assert.StartsWith("disk full: this write needs", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(disk.Path, ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(disk.Path));
        AssertManifestsAreJsonLines(disk.Path);
        Assert.Equal(23, store.Read(TableQuery.Create()).Sum(b => b.Length));
        // What the store answers is what DuckDB reads from the files.
        var closes = store.Read(TableQuery.Create(columns: ["close"])).Sum(b => ((Apache.Arrow.DoubleArray)b.Column(0)).Values.ToArray().Sum());
        using (var duck = new DuckDBConnection("DataSource=:memory:"))
        {
            duck.Open();
            using var cmd = duck.CreateCommand();
            cmd.CommandText = $"SELECT count(*), sum(close) FROM read_parquet('{Path.Combine(disk.Path, "silver", "prices_daily")}/**/*.parquet')";
            using var r = cmd.ExecuteReader();
            Assert.True(r.Read());
            Assert.Equal(23L, Convert.ToInt64(r.GetValue(0), System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(closes, r.GetDouble(1), 6);
        }

        // Space back: the same write goes through.
        File.Delete(filler);
        var reports = await store.UpsertAsync(TestBars.Generate(["MSFT"], new DateOnly(2023, 1, 1), new DateOnly(2023, 1, 31)));
        Assert.Equal(22L, Assert.Single(reports).Inserted); // January 2023: 22 weekdays
    }

    [TmpfsFact]
    public async Task ReadOnlyDisk_WritesRefusedAtOnce_ReadsGoOn()
    {
        using var disk = Tmpfs.Mount(8);
        await LakeStore.Open(disk.Path).UpsertAsync(TestBars.Generate(["AAPL"], new DateOnly(2024, 1, 1), new DateOnly(2024, 3, 31)));
        disk.RemountReadOnly();
        try
        {
            var store = LakeStore.Open(disk.Path);

            var rows = store.Read(TableQuery.Create(symbols: ["AAPL"])).Sum(b => b.Length);
            var ex = await Assert.ThrowsAsync<LakehouseException>(() =>
                store.UpsertAsync(TestBars.Generate(["AAPL"], new DateOnly(2024, 4, 1), new DateOnly(2024, 4, 30))).WaitAsync(TimeSpan.FromSeconds(30)));

            Assert.Equal(65, rows);
            Assert.Equal(LakehouseErrorKind.FailedPrecondition, ex.Kind);
            Assert.Contains("data dir is read-only", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            disk.RemountReadOnly(false);
        }
    }

    [TmpfsFact]
    public void AtomicFile_OnAFullThenAReadOnlyDisk_ThrowsTheLakesErrorNamingNoPath()
    {
        using var disk = Tmpfs.Mount(2);
        var record = Path.Combine(disk.Path, "_metadata", "jobs", "job.json");
        AtomicFile.WriteAllBytes(record, "{}"u8);
        var filler = disk.Fill(leaveBytes: 0);

        var full = Assert.Throws<LakehouseException>(() => AtomicFile.WriteAllBytes(record, new byte[64 * 1024]));
        File.Delete(filler);
        disk.RemountReadOnly();
        LakehouseException readOnly;
        try
        {
            readOnly = Assert.Throws<LakehouseException>(() => AtomicFile.WriteAllBytes(record, "{\"a\":1}"u8));
        }
        finally
        {
            disk.RemountReadOnly(false);
        }

        Assert.Equal((LakehouseErrorKind.DiskFull, LakehouseErrorKind.FailedPrecondition), (full.Kind, readOnly.Kind));
        Assert.StartsWith("disk full", full.Message, StringComparison.Ordinal);
        Assert.Contains("data dir is read-only", readOnly.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(disk.Path, full.Message + readOnly.Message, StringComparison.Ordinal);
        Assert.Equal("{}", File.ReadAllText(record));
        Assert.Single(Directory.EnumerateFiles(Path.GetDirectoryName(record)!));
    }

    [Fact]
    public async Task TornManifestTail_IsCutBeforeTheNextAppend_SoEveryLineIsJson()
    {
        using var lake = new TempLake();
        var store = lake.Open();
        await store.UpsertAsync(TestBars.Generate(["AAPL"], new DateOnly(2024, 1, 1), new DateOnly(2024, 1, 31)));
        var manifest = store.Paths.ManifestFile(PriceTables.Silver);
        await File.AppendAllTextAsync(manifest, """{"run_id":"torn","ts":"2024-""");

        await store.UpsertAsync(TestBars.Generate(["MSFT"], new DateOnly(2024, 1, 1), new DateOnly(2024, 1, 31)));

        var lines = await File.ReadAllLinesAsync(manifest);
        Assert.Equal(2, lines.Length);
        Assert.All(lines, l => Assert.NotNull(StorageReport.FromJson(l)));
        AssertManifestsAreJsonLines(lake.Dir);
    }

    /// <summary>Every manifest parses as JSON Lines in DuckDB (what a user's notebook does).</summary>
    private static void AssertManifestsAreJsonLines(string root)
    {
        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(root, "_metadata", "manifests"), "*.jsonl"))
        {
            using var cmd = duck.CreateCommand();
            cmd.CommandText = $"SELECT count(*) FROM read_json_auto('{file}', format = 'newline_delimited')";
            Assert.True(Convert.ToInt64(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0, file);
        }
    }

    /// <summary>Every folder and every data/manifest file with its hash (lock files aside: they exist to be touched).</summary>
    private static SortedDictionary<string, string> Snapshot(string root)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var d in Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories))
        {
            result[Path.GetRelativePath(root, d) + "/"] = "";
        }
        foreach (var f in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            if (f.EndsWith(".lock", StringComparison.Ordinal) || f.EndsWith("filler.bin", StringComparison.Ordinal))
            {
                continue;
            }
            result[Path.GetRelativePath(root, f)] = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)));
        }
        return result;
    }
}
