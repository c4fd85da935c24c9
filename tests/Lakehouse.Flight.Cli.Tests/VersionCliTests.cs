using System.Text.Json;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Cli.Tests;

/// <summary><c>lakehouse query --version/--as-of/--snapshot</c>, <c>versions</c>, <c>snapshot</c> and <c>vacuum</c> on a lake with a corrected bar.</summary>
public sealed class VersionCliTests : IDisposable
{
    private static readonly DateOnly Day = new(2026, 11, 12);
    private readonly TempDir _temp = new("lakehouse-cli-versions");

    public void Dispose() => _temp.Dispose();

    private async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await LakehouseCli.RunAsync([.. args, "--data-dir", _temp.Path], stdout, stderr, CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private async Task<(long Ingested, long Corrected, double Old, double New)> HistoryAsync()
    {
        var store = LakeStore.Open(_temp.Path);
        var bars = TestBars.Generate(["AAPL"], new DateOnly(2026, 11, 2), new DateOnly(2026, 11, 27));
        await store.UpsertAsync(bars);
        var ingested = store.LatestVersion;
        var bar = bars.Single(b => b.Date == Day);
        var corrected = Math.Round(bar.Close * 1.02, 2);
        await store.UpsertAsync([bar with { Close = corrected, High = Math.Max(bar.High, corrected) }]);
        return (ingested, store.LatestVersion, bar.Close, corrected);
    }

    [Fact]
    public async Task Query_AtAVersionAndASnapshot_PrintsThatVersionsRows_VacuumRefusesUnpinnedOnes()
    {
        var (ingested, corrected, oldClose, newClose) = await HistoryAsync();
        var day = new[] { "query", "--symbols", "AAPL", "--from", "2026-11-12", "--to", "2026-11-12", "--columns", "close", "--format", "csv" };

        var (code, stdout, _) = await Run([.. day, "--version", ingested.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.Equal(0, code);
        Assert.Equal(["close", oldClose.ToString("R", System.Globalization.CultureInfo.InvariantCulture)], Lines(stdout));
        (code, stdout, _) = await Run(day);
        Assert.Equal(["close", newClose.ToString("R", System.Globalization.CultureInfo.InvariantCulture)], Lines(stdout));

        (code, stdout, _) = await Run("versions", "--symbol", "AAPL", "--json");
        Assert.Equal(0, code);
        Assert.Equal([corrected, ingested], Lines(stdout).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("version").GetInt64()));

        (code, stdout, _) = await Run("snapshot", "create", "before-fix", "--version", ingested.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(0, code);
        (code, stdout, _) = await Run("snapshot", "list");
        Assert.Equal("before-fix", JsonDocument.Parse(Lines(stdout).Single()).RootElement.GetProperty("name").GetString());

        (code, stdout, _) = await Run("vacuum", "--retention-hours", "0");
        Assert.Equal(0, code);
        using (var report = JsonDocument.Parse(stdout))
        {
            Assert.Equal(0, report.RootElement.GetProperty("files").GetInt32());
            Assert.Equal(1, report.RootElement.GetProperty("pinned").GetInt32());
        }
        (code, stdout, _) = await Run([.. day, "--snapshot", "before-fix"]);
        Assert.Equal(0, code);
        Assert.Equal(["close", oldClose.ToString("R", System.Globalization.CultureInfo.InvariantCulture)], Lines(stdout));

        (code, _, _) = await Run("snapshot", "delete", "before-fix");
        Assert.Equal(0, code);
        (code, stdout, _) = await Run("vacuum", "--retention-hours", "0");
        Assert.Equal(1, JsonDocument.Parse(stdout).RootElement.GetProperty("files").GetInt32());
        var (gone, _, err) = await Run([.. day, "--version", ingested.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.Equal(1, gone);
        Assert.Contains($"the oldest version still readable is {corrected}", err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "--version", "1", "--as-of", "2026-11-30T22:00:00Z" }, "version and as_of are both given")]
    [InlineData(new[] { "--as-of", "2999-01-01T00:00:00Z" }, "as_of 2999-01-01")]
    [InlineData(new[] { "--as-of", "yesterday" }, "as_of 'yesterday' is not an ISO-8601 instant")]
    [InlineData(new[] { "--snapshot", "nope" }, "snapshot 'nope' does not exist")]
    [InlineData(new[] { "--version", "99" }, "version 99 does not exist")]
    public async Task Query_BadAsOf_ExitsTwoNamingTheField(string[] args, string expected)
    {
        await HistoryAsync();

        var (code, _, err) = await Run(["query", "--symbols", "AAPL", .. args]);

        Assert.Equal(2, code);
        Assert.Contains(expected, err, StringComparison.Ordinal);
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
