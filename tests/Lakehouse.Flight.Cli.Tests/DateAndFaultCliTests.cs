using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Types;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Cli.Tests;

/// <summary>
/// Dates and disk faults at the command line (decisions D34): a far <c>--to</c> is a usage error, a lake holding a <c>year=9999</c>
/// partition is reported by <c>stats</c>, a legacy file of DECIMAL prices is a data error (exit 1).
/// </summary>
public sealed class DateAndFaultCliTests : IDisposable
{
    private readonly TempDir _temp = new("lakehouse-cli-tests");

    public void Dispose() => _temp.Dispose();

    private async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await LakehouseCli.RunAsync([.. args, "--data-dir", _temp.Path], stdout, stderr, CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Theory]
    [InlineData("1990-01-01", "9999-12-31", "--to 9999-12-31")]
    [InlineData("1850-01-01", "2020-01-31", "--from 1850-01-01")]
    public async Task Ingest_RangeOutsideTheAcceptedDates_ExitsTwoNamingTheOptionAndWritesNothing(string from, string to, string named)
    {
        var (code, stdout, stderr) = await Run("ingest", "--source", "synthetic", "--symbols", "ZZV", "--from", from, "--to", to);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("error: ", stderr, StringComparison.Ordinal);
        Assert.Contains(named, stderr, StringComparison.Ordinal);
        Assert.Contains("1900-01-01", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_temp.Path, "bronze")));
    }

    [Fact]
    public async Task FlowRunOnce_DateOutsideTheAcceptedDates_ExitsTwoNamingTheOption()
    {
        var (code, _, stderr) = await Run("flow", "daily", "--run-once", "--date", "9999-12-31", "--symbols", "ZZV", "--source", "synthetic");

        Assert.Equal(2, code);
        Assert.Contains("--date 9999-12-31 is outside the dates the lake accepts", stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_temp.Path, "bronze")));
    }

    [Fact]
    public async Task Stats_LakeHoldingAYear9999Partition_ReportsItAndExitsZero()
    {
        // What an old build let a DoPut leave in bronze: one row dated 9999-12-31.
        var store = LakeStore.Open(_temp.Path);
        PriceBar[] bars =
        [
            new("ZZV", new DateOnly(2020, 1, 1), 10, 11, 9, 10, 10, 100, "v1", DateTimeOffset.UnixEpoch),
            new("ZZV", new DateOnly(9999, 12, 31), 10, 11, 9, 10, 10, 100, "v1", DateTimeOffset.UnixEpoch),
        ];
        await store.WriteAsync([new TableWrite(PriceTables.Bronze, PriceBarBatches.ToBatch(bars), "v1")]);

        var (code, stdout, stderr) = await Run("stats", "--json");

        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        var bronze = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)
            .Single(e => e.GetProperty("layer").GetString() == "bronze");
        Assert.Equal(("2020-01-01", "9999-12-31", 2L, 2L),
            (bronze.GetProperty("first_date").GetString(), bronze.GetProperty("last_date").GetString(),
             bronze.GetProperty("rows").GetInt64(), bronze.GetProperty("files").GetInt64()));
    }

    [Fact]
    public async Task Migrate_LegacyFileWithDecimalPrices_ExitsOneWithItsMessage()
    {
        var legacy = Path.Combine(_temp.Path, "old", "prices_daily.parquet");
        Directory.CreateDirectory(Path.GetDirectoryName(legacy)!);
        WriteDecimalLegacyFile(legacy);

        var (code, _, stderr) = await Run("migrate", "--from", legacy);

        Assert.Equal(1, code);
        Assert.StartsWith("error: ", stderr, StringComparison.Ordinal);
        Assert.Contains("decimal", stderr, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("close", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_temp.Path, "silver")));
    }

    [TmpfsFact]
    public async Task IngestAndReport_OnAReadOnlyDataDir_ExitOneWithTheReadOnlyLineAndNoPath()
    {
        using var disk = Tmpfs.Mount(8);
        using (var o = new StringWriter())
        using (var e = new StringWriter())
        {
            Assert.Equal(0, await LakehouseCli.RunAsync(["ingest", "--source", "synthetic", "--symbols", "RO", "--from", "2024-01-01", "--to", "2024-01-31", "--data-dir", disk.Path], o, e, CancellationToken.None));
        }
        disk.RemountReadOnly();
        try
        {
            foreach (var args in new[]
            {
                new[] { "ingest", "--source", "synthetic", "--symbols", "RO2", "--from", "2024-01-01", "--to", "2024-01-31" },
                ["report", "--symbols", "RO"],
            })
            {
                using var stdout = new StringWriter();
                using var stderr = new StringWriter();

                var code = await LakehouseCli.RunAsync([.. args, "--data-dir", disk.Path], stdout, stderr, CancellationToken.None);

                Assert.True(code == 1, $"{args[0]}: exit {code}: {stderr}");
                Assert.Contains("read-only", stderr.ToString(), StringComparison.Ordinal);
                Assert.DoesNotContain(disk.Path, stderr.ToString(), StringComparison.Ordinal);
                Assert.DoesNotContain("   at ", stderr.ToString(), StringComparison.Ordinal);
                Assert.DoesNotContain("Exception", stderr.ToString(), StringComparison.Ordinal);
            }
        }
        finally
        {
            disk.RemountReadOnly(false);
        }
    }

    /// <summary>A legacy file whose price columns are DECIMAL(10,2), as some exports write money.</summary>
    private static void WriteDecimalLegacyFile(string path)
    {
        var dec = new Decimal128Type(10, 2);
        var schema = new Schema.Builder()
            .Field(b => b.Name("symbol").DataType(StringType.Default))
            .Field(b => b.Name("date").DataType(Date32Type.Default))
            .Field(b => b.Name("open").DataType(dec))
            .Field(b => b.Name("high").DataType(dec))
            .Field(b => b.Name("low").DataType(dec))
            .Field(b => b.Name("close").DataType(dec))
            .Field(b => b.Name("volume").DataType(Int64Type.Default))
            .Build();
        Decimal128Array Prices(params decimal[] values)
        {
            var b = new Decimal128Array.Builder(dec);
            foreach (var v in values)
            {
                b.Append(v);
            }
            return b.Build();
        }
        var batch = new RecordBatch(schema,
        [
            new StringArray.Builder().Append("DEC").Append("DEC").Build(),
            new Date32Array.Builder().Append(new DateOnly(2024, 1, 2)).Append(new DateOnly(2024, 1, 3)).Build(),
            Prices(10.00m, 10.50m), Prices(11.00m, 11.50m), Prices(9.50m, 10.00m), Prices(10.50m, 11.00m),
            new Int64Array.Builder().Append(100).Append(200).Build(),
        ], 2);
        using var writer = new ParquetSharp.Arrow.FileWriter(path, schema);
        writer.WriteRecordBatch(batch);
        writer.Close();
    }
}
