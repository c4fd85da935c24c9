using System.Globalization;
using System.Text.Json;
using DuckDB.NET.Data;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Cli.Tests;

/// <summary>
/// The seed layout (decisions D35): <c>lakehouse migrate --layout lake</c> on a lake the previous engine wrote
/// (Fixtures/seed-lake, see its README), killed at each step and run again, and <c>lakehouse export --layout seed</c>
/// back. Rows are compared as DuckDB reads them (<c>read_parquet(..., hive_partitioning = 1)</c>), every column.
/// </summary>
public sealed class SeedLayoutCliTests : IDisposable
{
    private static readonly TableDefinition[] Tables = [.. TableCatalog.Default.Tables];

    private readonly string _root = Path.Combine(Path.GetTempPath(), "lakehouse-seed-layout-tests", Guid.NewGuid().ToString("N"));

    public SeedLayoutCliTests() => Directory.CreateDirectory(_root);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task MigrateLayout_OldEnginesLake_IsVerifiedAndReadsTheSameRows()
    {
        var lake = CopyFixture("lake");
        var before = Dump(lake);
        var open = Assert.Throws<LakehouseException>(() => LakeStore.Open(lake));
        Assert.Equal(LakehouseErrorKind.FailedPrecondition, open.Kind);
        Assert.Contains("lakehouse migrate --layout lake", open.Message, StringComparison.Ordinal);

        var (code, stdout, stderr) = await Cli("migrate", "--layout", "lake", "--json", "--data-dir", lake);

        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var migration = json.RootElement.GetProperty("migration");
        Assert.True(migration.GetProperty("verified").GetBoolean());
        Assert.False(migration.GetProperty("resumed").GetBoolean());
        Assert.Equal(5, migration.GetProperty("version").GetInt64());
        var tables = migration.GetProperty("tables").EnumerateArray().ToDictionary(t => t.GetProperty("table").GetString()!);
        // The fixture's rows (its README): silver 2 x 50 days, bronze 50 + 50 synthetic, 50 yahoo, 3 + 1 csv (2020-10-07 twice).
        Assert.Equal(new Dictionary<string, (long, long, long)>
        {
            ["silver/prices_daily"] = (8, 100, 100),
            ["bronze/prices_daily"] = (13, 153, 153),
            ["silver/corporate_actions"] = (1, 2, 2),
            ["gold/prices_monthly"] = (2, 8, 8),
            ["gold/daily_metrics"] = (2, 100, 100),
        }, tables.ToDictionary(t => t.Key, t => (t.Value.GetProperty("seed_files").GetInt64(), t.Value.GetProperty("seed_rows").GetInt64(),
            t.Value.GetProperty("lake_rows").GetInt64())));
        Assert.All(tables.Values, t => Assert.Equal(t.GetProperty("seed_checksum").GetString(), t.GetProperty("lake_checksum").GetString()));

        // DuckDB over the table folders reads exactly the old engine's rows, every column; the month files are gone.
        Assert.Equal(before, Dump(lake));
        Assert.Equal(363, before.Values.Sum(rows => rows.Count));
        foreach (var table in Tables)
        {
            var dir = Path.Combine(lake, Layers.Name(table.Layer), table.Name);
            Assert.Empty(Directory.EnumerateDirectories(dir));
            Assert.All(Directory.EnumerateFiles(dir), f => Assert.EndsWith(".parquet", f, StringComparison.Ordinal));
        }
        Assert.False(Directory.Exists(Path.Combine(lake, "_metadata", "displaced")));
        Assert.False(File.Exists(Path.Combine(lake, "_metadata", "layout-migration.json")));
        Assert.False(Directory.Exists(Path.Combine(lake, "_metadata", "journal")));
        // Manifests (the append-only lineage) and the gold reports are kept byte for byte.
        AssertSameFiles(Path.Combine(Fixture, "_metadata", "manifests"), Path.Combine(lake, "_metadata", "manifests"));
        AssertSameFiles(Path.Combine(Fixture, "gold", "reports"), Path.Combine(lake, "gold", "reports"));

        // The store opens it and reads the values: silver holds the corrected csv record, bronze both records.
        var store = LakeStore.Open(lake);
        await store.Ready;
        var silver = store.Read(TableQuery.Create("silver", "prices_daily", ["AAPL"])).SelectMany(PriceBarBatches.ToBars).ToList();
        Assert.Equal(50, silver.Count);
        var corrected = Assert.Single(silver, b => b.Date == new DateOnly(2020, 10, 7));
        Assert.Equal((115.09, 114.21, 96849001L, "csv"), (corrected.Close, corrected.AdjClose!.Value, corrected.Volume, corrected.Source));
        var bronze = store.Read(TableQuery.Create("bronze", "prices_daily", ["AAPL"])).SelectMany(PriceBarBatches.ToBars)
            .Where(b => b.Source == "csv").Select(b => (b.Date, b.Close)).ToList();
        Assert.Equal([(new DateOnly(2020, 10, 5), 116.5), (new DateOnly(2020, 10, 6), 113.16), (new DateOnly(2020, 10, 7), 115.08),
            (new DateOnly(2020, 10, 7), 115.09)], bronze.Order());
        var gspc = store.Read(TableQuery.Create("silver", "prices_daily", ["^GSPC"])).Sum(b => b.Length);
        Assert.Equal(50, gspc);

        // A second run finds nothing to migrate.
        var (again, _, againErr) = await Cli("migrate", "--layout", "lake", "--data-dir", lake);
        Assert.Equal(2, again);
        Assert.Contains("already in the lake layout", againErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExportSeed_OfTheMigratedOldLake_WritesTheOldEnginesFilesAgain()
    {
        var lake = CopyFixture("lake");
        Assert.Equal(0, (await Cli("migrate", "--layout", "lake", "--data-dir", lake)).Code);
        var export = Path.Combine(_root, "export");
        // An earlier export to the same folder killed before its rename (its process is gone): deleted by the next one.
        var dead = Path.Combine(_root, $".tmp-{int.MaxValue}-{Guid.NewGuid():N}-export.tmp");
        Directory.CreateDirectory(Path.Combine(dead, "silver"));
        await File.WriteAllTextAsync(Path.Combine(dead, "silver", "half.parquet"), "cut short");

        var (code, stdout, stderr) = await Cli("export", "--layout", "seed", "--out", export, "--json", "--data-dir", lake);

        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var result = json.RootElement.GetProperty("export");
        Assert.Equal(26, result.GetProperty("partitions").GetInt64());
        Assert.Equal(363, result.GetProperty("rows").GetInt64());
        Assert.Equal(5, result.GetProperty("manifest_files").GetInt32());
        Assert.Equal(2, result.GetProperty("report_files").GetInt32());
        // The same partition files at the same paths, each with the same rows in the same order.
        var old = PartitionFiles(Fixture);
        Assert.Equal(26, old.Length);
        Assert.Equal(old, PartitionFiles(export));
        foreach (var file in old)
        {
            Assert.Equal(FileRows(Path.Combine(Fixture, file)), FileRows(Path.Combine(export, file)));
        }
        AssertSameFiles(Path.Combine(Fixture, "_metadata", "manifests"), Path.Combine(export, "_metadata", "manifests"));
        AssertSameFiles(Path.Combine(Fixture, "gold", "reports"), Path.Combine(export, "gold", "reports"));
        // Nothing but the export beside it (its temp folder was renamed into place, the dead one deleted).
        Assert.Equal([export], Directory.GetFileSystemEntries(_root).Where(e => e != lake).ToArray());
    }

    [Fact]
    public async Task RoundTrip_LakeWrittenByTodaysEngine_ExportSeedThenMigrate_EqualsTheOriginal()
    {
        // The old lake migrated, then written by today's write path: a new symbol (bronze, silver, gold) and a csv landing.
        var lake = CopyFixture("lake");
        Assert.Equal(0, (await Cli("migrate", "--layout", "lake", "--data-dir", lake)).Code);
        Assert.Equal(0, (await Cli("ingest", "--source", "synthetic", "--symbols", "MSFT,EURUSD=X", "--from", "2019-12-02", "--to", "2021-01-29",
            "--data-dir", lake)).Code);
        var csv = Path.Combine(_root, "csv");
        Directory.CreateDirectory(csv);
        await File.WriteAllTextAsync(Path.Combine(csv, "MSFT.csv"), "Date,Open,High,Low,Close,Adj Close,Volume\n2020-06-01,180,183,179,182.8,180.1,22622400\n");
        Assert.Equal(0, (await Cli("ingest", "--source", "csv", "--path", csv, "--data-dir", lake)).Code);
        var original = Dump(lake);
        Assert.Equal(["csv", "synthetic", "yahoo"], original["bronze/prices_daily"].Select(r => r.Split('|')[8]).Distinct().Order());
        Assert.Contains(original["silver/prices_daily"], r => r.StartsWith("EURUSD=X|2021-01-29|", StringComparison.Ordinal));
        Assert.Contains(original["gold/prices_monthly"], r => r.StartsWith("MSFT|2019-12-01|", StringComparison.Ordinal));
        Assert.Equal(2, original["silver/corporate_actions"].Count);
        Assert.True(original["silver/prices_daily"].Count > 700);

        var export = Path.Combine(_root, "export");
        Assert.Equal(0, (await Cli("export", "--layout", "seed", "--out", export, "--data-dir", lake)).Code);
        // The export is a seed lake: DuckDB reads the same rows from its month files, gold from its year files.
        Assert.Equal(original, Dump(export));
        Assert.True(File.Exists(Path.Combine(export, "silver", "prices_daily", "symbol=EURUSD%3DX", "year=2021", "month=1", "data.parquet")));
        Assert.True(File.Exists(Path.Combine(export, "bronze", "prices_daily", "source=csv", "symbol=MSFT", "year=2020", "month=6", "data.parquet")));
        Assert.True(File.Exists(Path.Combine(export, "gold", "daily_metrics", "symbol=MSFT", "year=2019", "data.parquet")));
        Assert.True(File.Exists(Path.Combine(export, "silver", "corporate_actions", "symbol=AAPL", "data.parquet")));

        var (code, _, stderr) = await Cli("migrate", "--layout", "lake", "--data-dir", export);

        Assert.True(code == 0, stderr);
        Assert.Equal(original, Dump(export));
        var store = LakeStore.Open(export);
        await store.Ready;
        Assert.Equal(original["silver/prices_daily"].Count, store.Read(TableQuery.Create("silver", "prices_daily")).Sum(b => b.Length));
        AssertSameFiles(Path.Combine(lake, "_metadata", "manifests"), Path.Combine(export, "_metadata", "manifests"));
    }

    [Theory]
    [InlineData("committed:silver/prices_daily")]
    [InlineData("committed:bronze/prices_daily")]
    [InlineData("verified")]
    [InlineData("moved:bronze/prices_daily")]
    [InlineData("published")]
    [InlineData("deleted")]
    public async Task MigrateLayout_KilledAtAStep_IsRefusedUntilARerunFinishesIt(string step)
    {
        var lake = CopyFixture("lake");
        var before = Dump(lake);

        using (var child = CliProcess.Start(new Dictionary<string, string> { ["LAKEHOUSE_TEST_MIGRATION_CRASH_AT"] = step },
                   "migrate", "--layout", "lake", "--data-dir", lake))
        {
            Assert.True(child.WaitForExit(TimeSpan.FromSeconds(60)), child.Output);
            Assert.NotEqual(0, child.ExitCode);
            Assert.DoesNotContain("migrated", child.Output, StringComparison.Ordinal);
        }
        Assert.True(File.Exists(Path.Combine(lake, "_metadata", "layout-migration.json")));
        var open = Assert.Throws<LakehouseException>(() => LakeStore.Open(lake));
        Assert.Equal(LakehouseErrorKind.FailedPrecondition, open.Kind);
        Assert.Contains("interrupted", open.Message, StringComparison.Ordinal);
        Assert.Contains("lakehouse migrate --layout lake", open.Message, StringComparison.Ordinal);

        var (code, stdout, stderr) = await Cli("migrate", "--layout", "lake", "--json", "--data-dir", lake);

        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var migration = json.RootElement.GetProperty("migration");
        Assert.True(migration.GetProperty("resumed").GetBoolean());
        Assert.True(migration.GetProperty("verified").GetBoolean());
        Assert.Equal(5, migration.GetProperty("version").GetInt64());
        Assert.Equal([100L, 153, 2, 8, 100], migration.GetProperty("tables").EnumerateArray().Select(t => t.GetProperty("lake_rows").GetInt64()));
        Assert.Equal(before, Dump(lake));
        Assert.False(File.Exists(Path.Combine(lake, "_metadata", "layout-migration.json")));
        Assert.False(Directory.Exists(Path.Combine(lake, "_metadata", "displaced")));
        foreach (var table in Tables)
        {
            Assert.Empty(Directory.EnumerateDirectories(Path.Combine(lake, Layers.Name(table.Layer), table.Name)));
        }
        AssertSameFiles(Path.Combine(Fixture, "_metadata", "manifests"), Path.Combine(lake, "_metadata", "manifests"));
        var store = LakeStore.Open(lake);
        await store.Ready;
        Assert.Equal(100, store.Read(TableQuery.Create("silver", "prices_daily")).Sum(b => b.Length));
    }

    [Fact]
    public async Task ExportAndMigrateLayout_BadInput_ExitTwoWithAClearMessage()
    {
        var lake = CopyFixture("lake");
        Assert.Equal(0, (await Cli("migrate", "--layout", "lake", "--data-dir", lake)).Code);
        var full = Path.Combine(_root, "full");
        Directory.CreateDirectory(full);
        await File.WriteAllTextAsync(Path.Combine(full, "keep.txt"), "mine");

        await AssertUsage(["export", "--layout", "seed", "--out", full, "--data-dir", lake], "is not empty");
        Assert.Equal([Path.Combine(full, "keep.txt")], Directory.GetFileSystemEntries(full));
        Assert.Equal([full, lake], Directory.GetFileSystemEntries(_root).Order(StringComparer.Ordinal).ToArray());
        await AssertUsage(["export", "--layout", "lake", "--out", Path.Combine(_root, "x"), "--data-dir", lake], "the one layout to export is seed");
        await AssertUsage(["export", "--layout", "seed", "--out", Path.Combine(lake, "inside"), "--data-dir", lake], "is inside the data dir");
        await AssertUsage(["migrate", "--layout", "lake", "--data-dir", lake], "already in the lake layout");
        await AssertUsage(["migrate", "--layout", "parquet", "--data-dir", lake], "the layout to migrate a data dir into is lake");
        await AssertUsage(["migrate", "--layout", "seed", "--data-dir", lake], "lakehouse export --layout seed --out DIR");
        await AssertUsage(["migrate", "--layout", "lake", "--from", "old.parquet", "--data-dir", lake], "not both");
        await AssertUsage(["migrate", "--layout", "lake", "--dry-run", "--data-dir", lake], "only with --from");
        await AssertUsage(["migrate", "--data-dir", lake], "--from FILE");
        await AssertUsage(["migrate", "--layout", "lake", "--data-dir", Path.Combine(_root, "empty")], "holds no lake in the seed layout");
        Assert.False(Directory.Exists(Path.Combine(_root, "x")));
    }

    private static async Task AssertUsage(string[] args, string message)
    {
        var (code, _, stderr) = await Cli(args);
        Assert.True(code == 2, $"{string.Join(' ', args)}: exit {code}, {stderr}");
        Assert.Contains(message, stderr, StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Stdout, string Stderr)> Cli(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await LakehouseCli.RunAsync(args, stdout, stderr, CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>The fixture's <c>lake/</c> in the source tree (it has names MSBuild would unescape: <c>symbol=%5EGSPC</c>).</summary>
    private static string Fixture { get; } = FindFixture();

    private static string FindFixture()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "Lakehouse.Flight.Cli.Tests", "Fixtures", "seed-lake", "lake");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new DirectoryNotFoundException("tests/Lakehouse.Flight.Cli.Tests/Fixtures/seed-lake/lake above " + AppContext.BaseDirectory);
    }

    private string CopyFixture(string name)
    {
        var target = Path.Combine(_root, name);
        foreach (var file in Directory.EnumerateFiles(Fixture, "*", SearchOption.AllDirectories))
        {
            var to = Path.Combine(target, Path.GetRelativePath(Fixture, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }
        return target;
    }

    private static void AssertSameFiles(string expectedDir, string actualDir)
    {
        var expected = Directory.GetFiles(expectedDir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        Assert.NotEmpty(expected);
        Assert.Equal(expected, Directory.GetFiles(actualDir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray());
        foreach (var name in expected)
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(expectedDir, name!)), File.ReadAllBytes(Path.Combine(actualDir, name!)));
        }
    }

    private static string[] PartitionFiles(string dataDir) =>
        Directory.GetFiles(dataDir, "*.parquet", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(dataDir, f)).Order(StringComparer.Ordinal).ToArray();

    /// <summary>Every table's rows as DuckDB reads the table's folder with Hive partitioning, sorted (a row: every column of the table, '|'-joined).</summary>
    private static Dictionary<string, List<string>> Dump(string dataDir) => Tables.ToDictionary(t => t.Id, t =>
    {
        var glob = Path.Combine(dataDir, Layers.Name(t.Layer), t.Name, "**", "*.parquet");
        var rows = Query($"SELECT {Columns(t)} FROM read_parquet('{glob}', hive_partitioning = 1)");
        rows.Sort(StringComparer.Ordinal);
        return rows;
    });

    /// <summary>One file's rows in file order.</summary>
    private static List<string> FileRows(string path) => Query($"SELECT * FROM read_parquet('{path}', hive_partitioning = 0)");

    private static string Columns(TableDefinition table) => string.Join(", ", table.Schema.FieldsList.Select(f => "\"" + f.Name + "\""));

    private static List<string> Query(string sql)
    {
        using var conn = new DuckDBConnection("DataSource=:memory:");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        using var r = cmd.ExecuteReader();
        var rows = new List<string>();
        while (r.Read())
        {
            var cells = new string[r.FieldCount];
            for (var c = 0; c < r.FieldCount; c++)
            {
                cells[c] = r.IsDBNull(c) ? "null" : r.GetValue(c) switch
                {
                    double d => d.ToString("R", CultureInfo.InvariantCulture),
                    DateTime dt when r.GetDataTypeName(c) == "Date" || dt.TimeOfDay == TimeSpan.Zero => dt.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    DateTime dt => dt.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture),
                    DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    DateTimeOffset dto => dto.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture),
                    IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                    var v => v.ToString() ?? "",
                };
            }
            rows.Add(string.Join('|', cells));
        }
        return rows;
    }
}
