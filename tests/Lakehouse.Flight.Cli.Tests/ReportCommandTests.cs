using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Cli.Tests;

public sealed class ReportCommandTests : IDisposable
{
    private readonly TempDir _temp = new("lakehouse-cli-tests");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Report_AfterIngest_PrintsOneUnchangedLinePerReportFile()
    {
        await Run("ingest", "--source", "synthetic", "--symbols", "AAPL,MSFT", "--from", "2024-01-01", "--to", "2024-03-31", "--json");

        var (code, stdout, stderr) = await Run("report", "--symbols", "AAPL,MSFT");

        Assert.Equal((0, ""), (code, stderr));
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        foreach (var (line, symbol) in lines.Zip(new[] { "AAPL", "MSFT" }))
        {
            var path = Path.Combine(_temp.Path, "gold", "reports", $"{symbol}_daily_report.csv");
            Assert.StartsWith("unchanged", line, StringComparison.Ordinal);
            Assert.EndsWith(path, line, StringComparison.Ordinal);
            Assert.Contains(" 65 rows", line, StringComparison.Ordinal);
            Assert.Equal(66, File.ReadAllLines(path).Length);
        }
    }

    [Fact]
    public async Task ReportJson_DeletedReport_RewritesItAndPrintsGoldReports()
    {
        await Run("ingest", "--source", "synthetic", "--symbols", "AAPL", "--from", "2024-01-01", "--to", "2024-03-31");
        var path = Path.Combine(_temp.Path, "gold", "reports", "AAPL_daily_report.csv");
        var before = File.ReadAllText(path);
        File.Delete(path);

        var (code, stdout, _) = await Run("report", "--symbols", "aapl", "--json");

        Assert.Equal(0, code);
        var reports = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => StorageReport.FromJson(l)!).ToList();
        Assert.Equal([("gold", "prices_monthly", "AAPL"), ("gold", "daily_metrics", "AAPL")], reports.Select(r => (r.Layer, r.Table, r.Symbol)));
        Assert.Equal([3L, 65L], reports.Select(r => r.Unchanged));
        Assert.Equal(before, File.ReadAllText(path));
        Assert.StartsWith("symbol,date,open,high,low,close,adj_close,volume,return,", before, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Report_SymbolWithoutSilver_ExitsOneSayingWhatToDo()
    {
        var (code, stdout, stderr) = await Run("report", "--symbols", "ZZZ");

        // A data error (the lake lacks the symbol), not a usage error.
        Assert.Equal((1, ""), (code, stdout));
        Assert.Contains("no silver prices for ZZZ: ingest them first", stderr, StringComparison.Ordinal);
    }

    private async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await LakehouseCli.RunAsync([.. args, "--data-dir", _temp.Path], stdout, stderr, CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
