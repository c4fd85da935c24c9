using System.Text.Json;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Cli.Tests;

public sealed class CliTests : IDisposable
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

    [Fact]
    public async Task IngestJson_PrintsOneReportPerSymbolAndLayer_AndFilesLandAtDesignPaths()
    {
        var (code, stdout, stderr) = await Run("ingest", "--source", "synthetic", "--symbols", "AAPL,MSFT", "--from", "2024-01-01", "--to", "2024-03-31", "--json");

        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        var reports = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => StorageReport.FromJson(l)!).ToList();
        Assert.Equal([("bronze", "AAPL"), ("bronze", "MSFT"), ("silver", "AAPL"), ("silver", "MSFT")], reports.Select(r => (r.Layer, r.Symbol)));
        Assert.All(reports, r => Assert.Equal((65L, 65L, "2024-01-01", "2024-03-29"), (r.Rows, r.Inserted, r.DateFrom, r.DateTo)));
        using (var doc = JsonDocument.Parse(stdout.Split('\n')[0]))
        {
            // The manifest line's shape (README, StorageReport), in its order.
            Assert.Equal(["run_id", "ts", "engine", "source", "layer", "table", "location", "symbol", "date_from", "date_to", "rows",
                "inserted", "updated", "unchanged", "rejected", "duration_ms", "version"], doc.RootElement.EnumerateObject().Select(p => p.Name));
        }
        // One file of the 2024 band per table, in the table's folder (bronze's named after its source).
        Assert.Single(Directory.GetFiles(Path.Combine(_temp.Path, "silver", "prices_daily"), "2024-*.parquet"));
        Assert.Single(Directory.GetFiles(Path.Combine(_temp.Path, "bronze", "prices_daily"), "2024-synthetic-*.parquet"));
    }

    [Fact]
    public async Task IngestTwice_SecondRunIsAllUnchanged()
    {
        await Run("ingest", "--source", "synthetic", "--symbols", "AAPL", "--from", "2024-01-01", "--to", "2024-01-31", "--json");
        var (_, stdout, _) = await Run("ingest", "--source", "synthetic", "--symbols", "AAPL", "--from", "2024-01-01", "--to", "2024-01-31", "--json");

        var silver = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => StorageReport.FromJson(l)!).Single(r => r.Layer == "silver");
        Assert.Equal((0L, 0L, 23L), (silver.Inserted, silver.Updated, silver.Unchanged));
    }

    [Fact]
    public async Task QueryCsv_ReturnsTheIngestedRowsInOrder()
    {
        await Run("ingest", "--source", "synthetic", "--symbols", "MSFT,AAPL", "--from", "2024-01-01", "--to", "2024-01-10");

        var (code, stdout, _) = await Run("query", "--symbols", "MSFT,AAPL", "--from", "2024-01-08", "--columns", "symbol,date", "--format", "csv");

        Assert.Equal(0, code);
        Assert.Equal(["symbol,date", "AAPL,2024-01-08", "AAPL,2024-01-09", "AAPL,2024-01-10", "MSFT,2024-01-08", "MSFT,2024-01-09", "MSFT,2024-01-10"],
            stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData(new[] { "ingest", "--source", "synthetic", "--symbols", "../etc", "--from", "2024-01-01", "--to", "2024-01-02" }, "contains '/'")]
    [InlineData(new[] { "ingest", "--source", "nasdaq", "--symbols", "A", "--from", "2024-01-01", "--to", "2024-01-02" }, "unknown source 'nasdaq'")]
    [InlineData(new[] { "query", "--symbols", "A", "--formt", "csv" }, "unknown option(s): --formt")]
    [InlineData(new[] { "frobnicate" }, "unknown command 'frobnicate'")]
    public async Task BadInput_ExitsTwoWithAClearMessage(string[] args, string fragment)
    {
        var (code, stdout, stderr) = await Run(args);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains(fragment, stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_temp.Path, "silver")));
    }
}
