using System.Text.Json;

namespace Lakehouse.Flight.Cli.Tests;

public sealed class FlowCommandTests : IDisposable
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
    public async Task FlowDailyRunOnce_TwiceForOneDate_IngestsTheLookbackThenSaysAlreadyCompleted()
    {
        var (code, stdout, stderr) = await Run("flow", "daily", "--run-once", "--date", "2024-03-15", "--symbols", "AAPL,MSFT", "--source", "synthetic", "--json");
        var (again, stdout2, _) = await Run("flow", "daily", "--run-once", "--date", "2024-03-15", "--symbols", "AAPL,MSFT", "--source", "synthetic", "--json");

        Assert.Equal((0, ""), (code, stderr));
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        Assert.Equal(["ingest", "gold", "done"], lines.Select(l => l.GetProperty("step").GetString()));
        // 2024-03-08 .. 2024-03-15 is six weekdays per symbol.
        Assert.Equal(12, lines[0].GetProperty("rows").GetInt64());
        Assert.Equal(["AAPL", "MSFT"], lines[0].GetProperty("symbols").EnumerateArray().Select(s => s.GetString()));
        // The built-in gold step: the runner already built gold for the new rows, so this pass finds it current.
        Assert.Equal(0, lines[1].GetProperty("rows").GetInt64());
        Assert.Equal(3, File.ReadAllLines(Path.Combine(_temp.Path, "_metadata", "flows", "daily.jsonl")).Length);
        var report = File.ReadAllLines(Path.Combine(_temp.Path, "gold", "reports", "MSFT_daily_report.csv"));
        Assert.Equal(1 + 6, report.Length);
        Assert.StartsWith("MSFT,2024-03-15,", report[^1], StringComparison.Ordinal);
        Assert.Equal(0, again);
        Assert.Contains("\"reason\":\"already completed\"", stdout2, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FlowDailyRunOnce_OnAHoliday_WritesOnlyTheFlowLog()
    {
        var (code, stdout, _) = await Run("flow", "daily", "--run-once", "--date", "2024-03-16", "--lookback-days", "0", "--symbols", "AAPL", "--source", "synthetic", "--json");

        Assert.Equal(0, code);
        var ingest = JsonDocument.Parse(stdout.Split('\n')[0]).RootElement;
        Assert.Equal(("ingest", 0L), (ingest.GetProperty("step").GetString(), ingest.GetProperty("rows").GetInt64()));
        Assert.Equal(["daily.jsonl"], Directory.EnumerateFiles(_temp.Path, "*", SearchOption.AllDirectories)
            .Where(f => !f.Contains("_metadata" + Path.DirectorySeparatorChar + "locks", StringComparison.Ordinal)).Select(Path.GetFileName));
    }

    [Fact]
    public async Task FlowDaily_WithoutRunOnce_SaysHowToRunIt()
    {
        var (code, _, stderr) = await Run("flow", "daily", "--symbols", "AAPL", "--source", "synthetic");

        Assert.Equal(2, code);
        Assert.Contains("pass --run-once to run it now", stderr, StringComparison.Ordinal);
    }
}
