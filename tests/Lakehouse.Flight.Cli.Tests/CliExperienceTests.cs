using System.Diagnostics;
using System.Text.Json;

namespace Lakehouse.Flight.Cli.Tests;

public sealed class CliExperienceTests : IDisposable
{
    private readonly TempDir _temp = new("lakehouse-cli-ux");

    public void Dispose() => _temp.Dispose();

    private static async Task<(int Code, string Out, string Err)> Cli(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await LakehouseCli.RunAsync(args, stdout, stderr, CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Theory]
    [InlineData("serve")]
    [InlineData("ingest")]
    [InlineData("query")]
    [InlineData("stats")]
    [InlineData("migrate")]
    [InlineData("smoke")]
    public async Task Help_EveryCommand_ExitsZeroWithUsageAndAnExample(string command)
    {
        var (code, stdout, stderr) = await Cli(command, "--help");

        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        Assert.Contains($" {command} [options]", stdout, StringComparison.Ordinal); // the usage line; the executable name is the test host here
        Assert.Contains("--data-dir", command == "smoke" ? "--data-dir" : stdout, StringComparison.Ordinal);
        var examples = stdout[stdout.IndexOf("Examples:", StringComparison.Ordinal)..];
        Assert.Contains($"  lakehouse {command} --", examples, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "ingest", "--symbol", "AAPL", "--source", "synthetic" }, "--symbol (did you mean --symbols?)")]
    [InlineData(new[] { "migrate", "--from", "x.parquet", "--dryrun" }, "--dryrun (did you mean --dry-run?)")]
    [InlineData(new[] { "ingst" }, "unknown command 'ingst' (did you mean 'ingest'?)")]
    [InlineData(new[] { "ingest", "--symbols", "AAPL" }, "--source' is required")]
    public async Task Typo_ExitsTwoWithASuggestionOnOneLine(string[] args, string fragment)
    {
        var (code, stdout, stderr) = await Cli(args);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(fragment, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StatsJson_EveryLineIsAJsonObject()
    {
        await Cli("ingest", "--source", "synthetic", "--symbols", "AAPL", "--from", "2024-01-01", "--to", "2024-01-31", "--data-dir", _temp.Path);

        var (code, stdout, _) = await Cli("stats", "--json", "--data-dir", _temp.Path);

        Assert.Equal(0, code);
        var silver = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)
            .Single(e => e.GetProperty("layer").GetString() == "silver" && e.GetProperty("table").GetString() == "prices_daily");
        Assert.Equal(23, silver.GetProperty("rows").GetInt64());
    }

    [Fact]
    public async Task Ingest_StdoutRedirected_PrintsNoProgressOnlyTheReportTable()
    {
        // A real process whose stdout is a pipe: what a script or `| tee` sees.
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "lakehouse.dll"), "ingest", "--source", "synthetic", "--symbols", "AAPL,MSFT",
                     "--from", "2024-01-01", "--to", "2024-01-31", "--data-dir", _temp.Path })
        {
            psi.ArgumentList.Add(a);
        }
        using var process = Process.Start(psi)!;
        var stderrTask = process.StandardError.ReadToEndAsync();
        var stdout = await process.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        var stderr = await stderrTask;

        Assert.True(process.ExitCode == 0, stderr);
        Assert.DoesNotContain('\u001b', stdout);
        Assert.DoesNotContain("%", stdout, StringComparison.Ordinal);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("layer", lines[0], StringComparison.Ordinal);
        Assert.Equal(5, lines.Length);
        Assert.Equal("", stderr);
    }
}
