using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion.Legacy;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Cli.Tests;

/// <summary>
/// One legacy file and one lake it was migrated into, shared by the tests of the class: a migration
/// of 200k rows writes ~13,000 partition files, too slow on a shared machine to repeat per test.
/// </summary>
/// <summary>A migration over a store, composed as the DI container composes it.</summary>
internal static class Migrations
{
    public static LegacyMigration Over(LakeStore store) => new(store, new Ingestion.LakeWriter(store, new Ingestion.Gold.GoldBuilder(store)));
}

public sealed class MigratedLake : IAsyncLifetime
{
    // 200 symbols x 1,010 days sorted by date: 202,000 rows in 5 row groups, each holding every symbol.
    public const int SymbolCount = 200;
    public const int Days = 1_010;

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "lakehouse-migrate-tests", Guid.NewGuid().ToString("N"));
    public string Legacy => Path.Combine(Root, "old", "prices_daily.parquet");
    public string Lake => Path.Combine(Root, "lake");
    public LegacyFixture Fixture { get; private set; } = null!;
    public MigrationResult First { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Legacy)!);
        Fixture = LegacyFixture.Write(Legacy, SymbolCount, Days);
        LegacyFixture.WriteManifest(Path.Combine(Root, "old", "_manifests", "prices_ingestion.jsonl"), 3);
        First = await Migrations.Over(LakeStore.Open(Lake)).RunAsync(new LegacyMigrationRequest(Legacy) { ChunkSymbols = 5 });
    }

    public Task DisposeAsync()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
        return Task.CompletedTask;
    }
}

[Collection(ServerAndMigrationTests.Name)]
public sealed class LegacyMigrationTests(MigratedLake lake) : IClassFixture<MigratedLake>
{
    private const int SymbolCount = MigratedLake.SymbolCount;

    private readonly string _root = lake.Root;
    private readonly string _legacy = lake.Legacy;
    private readonly LegacyFixture _fixture = lake.Fixture;

    private string Lake(string name) => name == "lake" ? lake.Lake : Path.Combine(_root, name + "-" + Guid.NewGuid().ToString("N")[..6]);

    private static Task<MigrationResult> Migrate(string dataDir, LegacyMigrationRequest request) =>
        Migrations.Over(LakeStore.Open(dataDir)).RunAsync(request);

    [Fact]
    public void Migrate_PandasQuirks_AccountsForEveryRowAndSilverHoldsTheLastValues()
    {
        var result = lake.First;

        Assert.True(_fixture.Rows > 200_000);
        Assert.Equal(_fixture.Rows, result.RowsRead);
        Assert.Equal(_fixture.Expected.Count, result.RowsMigrated);
        Assert.Equal(_fixture.Duplicates, result.Duplicates);
        Assert.Equal(_fixture.Invalid, result.Invalid);
        Assert.Equal(result.RowsRead, result.RowsMigrated + result.Duplicates + result.Invalid);
        Assert.Equal(new Dictionary<string, long>
        {
            ["bad date"] = 3, ["bad symbol"] = 5, ["high below max(open, close)"] = 10, ["null price"] = 5, ["price not finite or <= 0"] = 20,
        }, result.InvalidByReason);
        Assert.Equal(["__index_level_0__"], result.IgnoredColumns);
        Assert.Equal(SymbolCount, result.Symbols);
        Assert.Equal((_fixture.Expected.Count, 0L, 0L), (result.Inserted, result.Updated, result.Unchanged));
        // Verified: every symbol's row count and value checksum, legacy against silver.
        Assert.True(result.Verified);
        Assert.Equal(SymbolCount, result.Verification.Count);
        Assert.All(result.Verification, v => Assert.Equal(v.LegacyChecksum, v.SilverChecksum));
        Assert.Equal(_fixture.Expected.Count, result.Verification.Sum(v => v.SilverRows));
        // And independently of the migration's own check: silver holds exactly the expected values.
        var silver = LegacyFixture.Silver(Lake("lake"));
        Assert.Equal(_fixture.Expected.Count, silver.Count);
        Assert.All(_fixture.Expected, kv => Assert.Equal(kv.Value, silver[(kv.Key.Symbol, kv.Key.Day)]));
        // Bronze landed under source legacy; the rejected rows are in silver's manifest with reasons.
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(Lake("lake"), "bronze", "prices_daily"), "*-legacy-*.parquet"));
        Assert.Contains(result.Reports, r => r is { Layer: "silver", Symbol: "SYM001", Rejected: 20 });
        // The legacy manifest: 3 whole lines copied, the torn last one left out and reported.
        Assert.Equal((3, 0, true), (result.Manifest.Copied, result.Manifest.AlreadyThere, result.Manifest.TornLastLine));
        Assert.Equal(3, File.ReadAllLines(Path.Combine(Lake("lake"), "_metadata", "manifests", "legacy_prices_ingestion.jsonl")).Length);
    }

    [Fact]
    public async Task MigrateCommand_SecondRunJson_ChangesNothingAndPrintsReportsThenTheVerifiedSummary()
    {
        var before = LegacyFixture.Silver(Lake("lake"));

        var (code, stdout, stderr) = await Cli("migrate", "--from", _legacy, "--data-dir", Lake("lake"), "--json", "--chunk-symbols", "100");

        Assert.True(code == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var reports = lines[..^1].Select(l => StorageReport.FromJson(l)!).ToArray();
        Assert.Equal(2 * SymbolCount, reports.Length);
        Assert.All(reports, r => Assert.Equal((0L, 0L), (r.Inserted, r.Updated)));
        using var summary = JsonDocument.Parse(lines[^1]);
        var m = summary.RootElement.GetProperty("migration");
        Assert.True(m.GetProperty("verified").GetBoolean());
        Assert.Equal((0L, 0L, (long)_fixture.Expected.Count),
            (m.GetProperty("inserted").GetInt64(), m.GetProperty("updated").GetInt64(), m.GetProperty("unchanged").GetInt64()));
        Assert.Equal(_fixture.Duplicates, m.GetProperty("duplicates").GetInt64());
        Assert.Equal(_fixture.Invalid, m.GetProperty("invalid").GetInt64());
        Assert.Equal(SymbolCount, m.GetProperty("verification").GetArrayLength());
        Assert.Equal((0, 3), (m.GetProperty("manifest").GetProperty("copied").GetInt32(), m.GetProperty("manifest").GetProperty("already_there").GetInt32()));
        Assert.Equal(3, File.ReadAllLines(Path.Combine(Lake("lake"), "_metadata", "manifests", "legacy_prices_ingestion.jsonl")).Length);
        Assert.Equal(before, LegacyFixture.Silver(Lake("lake")));
    }

    [Fact]
    public async Task Migrate_DryRun_WritesNothingAndReportsWhatWouldChange()
    {
        var dry = Lake("dry");
        var (code, _, _) = await Cli("ingest", "--source", "synthetic", "--symbols", "SYM000,SYM001", "--from", "2018-01-01", "--to", "2018-03-31", "--data-dir", dry);
        Assert.Equal(0, code);
        var before = HashTree(dry);

        var result = await Migrate(dry, new LegacyMigrationRequest(_legacy, DryRun: true));

        Assert.Equal(before, HashTree(dry));
        Assert.True(result.DryRun);
        Assert.Equal(_fixture.Expected.Count, result.RowsMigrated);
        Assert.Equal(_fixture.Expected.Count, result.Inserted + result.Updated + result.Unchanged);
        // The synthetic bars of SYM000 and SYM001 sit at legacy keys with other values: those would be updated.
        Assert.True(result.Updated > 100, $"updated {result.Updated}");
        Assert.Equal((3, true), (result.Manifest.Copied, result.Manifest.TornLastLine));
        Assert.Empty(result.Verification);
    }

    [Fact]
    public async Task Migrate_KilledHalfwayThenRerun_GivesTheSameLakeAsAnUninterruptedRun()
    {
        var whole = Lake("lake");
        var resumed = Lake("resumed");
        var manifest = Path.Combine(resumed, "_metadata", "manifests", "silver_prices_daily.jsonl");

        using (var child = CliProcess.Start("migrate", "--from", _legacy, "--data-dir", resumed, "--chunk-symbols", "5", "--json"))
        {
            var deadline = Stopwatch.StartNew();
            while (!(File.Exists(manifest) && new FileInfo(manifest).Length > 0))
            {
                Assert.False(child.HasExited, "the child finished or died before its first commit: " + child.Output);
                Assert.True(deadline.Elapsed < TimeSpan.FromMinutes(2), "no commit within 2 minutes");
                await Task.Delay(10);
            }
            child.KillHard();
        }
        var partial = LegacyFixture.Silver(resumed);
        Assert.InRange(partial.Count, 1, _fixture.Expected.Count - 1);

        var rerun = await Migrate(resumed, new LegacyMigrationRequest(_legacy) { ChunkSymbols = 5 });

        Assert.True(rerun.Verified);
        Assert.Equal(partial.Count, rerun.Unchanged);
        Assert.Equal(_fixture.Expected.Count - partial.Count, rerun.Inserted);
        Assert.Equal(LegacyFixture.Silver(whole), LegacyFixture.Silver(resumed));
        // Gold too: a chunk whose silver committed just before the kill gets its reports from the re-run.
        var reports = Directory.GetFiles(Path.Combine(whole, "gold", "reports")).Select(Path.GetFileName).Order().ToArray();
        Assert.Equal(SymbolCount, reports.Length);
        Assert.Equal(reports, Directory.GetFiles(Path.Combine(resumed, "gold", "reports")).Select(Path.GetFileName).Order());
        Assert.All(reports, name => Assert.Equal(File.ReadAllText(Path.Combine(whole, "gold", "reports", name!)),
            File.ReadAllText(Path.Combine(resumed, "gold", "reports", name!))));
        Assert.Equal(BronzeRows(whole), BronzeRows(resumed));
    }

    /// <summary>Bronze's rows (values and source; lineage times differ between runs).</summary>
    private static List<string> BronzeRows(string dir) =>
        LakeStore.Open(dir).Read(TableQuery.Create("bronze")).SelectMany(PriceBarBatches.ToBars)
            .Select(b => FormattableString.Invariant($"{b.Symbol} {b.Date:yyyy-MM-dd} {b.Open} {b.High} {b.Low} {b.Close} {b.AdjClose} {b.Volume} {b.Source}"))
            .ToList();

    [Fact]
    public async Task MigrateCommand_DryRunTable_PrintsWhatWouldHappenWithReasons()
    {
        var (code, stdout, stderr) = await Cli("migrate", "--from", _legacy, "--data-dir", Lake("empty"), "--dry-run");

        Assert.True(code == 0, stderr);
        Assert.Contains("dry run (nothing written)", stdout, StringComparison.Ordinal);
        Assert.Contains($"would migrate {_fixture.Expected.Count:N0} row(s): silver inserted {_fixture.Expected.Count:N0}, updated 0, unchanged 0", stdout, StringComparison.Ordinal);
        Assert.Contains("duplicate keys: 150", stdout, StringComparison.Ordinal);
        Assert.Contains("price not finite or <= 0: 20", stdout, StringComparison.Ordinal);
        Assert.Contains("a torn last line left out", stdout, StringComparison.Ordinal);
        Assert.Contains("ignored columns: __index_level_0__", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Verification_PrintedTable_ShowsPerSymbolCountsAndChecksums()
    {
        using var w = new StringWriter();

        MigrateCommand.Summary(w, lake.First);

        Assert.Matches(@"SYM000\s+1010\s+1010\s+[0-9a-f]{16}\s+[0-9a-f]{16}\s+ok", w.ToString());
        Assert.Contains($"verified: {SymbolCount} symbol(s)", w.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MigrateCommand_MissingFile_ExitsOneWithOneLine()
    {
        var (code, stdout, stderr) = await Cli("migrate", "--from", Path.Combine(_root, "nope.parquet"), "--data-dir", Lake("lake"));

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("does not exist", stderr, StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Out, string Err)> Cli(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await LakehouseCli.RunAsync(args, stdout, stderr, CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Every file's relative path and content hash: equal before and after means nothing was written.</summary>
    private static string HashTree(string dir)
    {
        var lines = Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(f => Path.GetRelativePath(dir, f) + " " + Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));
        return string.Join('\n', lines);
    }
}
