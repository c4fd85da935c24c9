using System.Globalization;
using System.Text.Json;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Server;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Cli.Tests;

/// <summary><c>lakehouse sql</c> over a real lake, in process and against a running server.</summary>
[Collection(ServerAndMigrationTests.Name)]
public sealed class SqlCommandTests : IAsyncLifetime
{
    private const string PerSymbol = "SELECT symbol, count(*) AS days, max(close) AS top FROM silver.prices_daily GROUP BY symbol ORDER BY symbol";
    private readonly TempDir _temp = new("lakehouse-cli-sql");
    private IReadOnlyList<PriceBar> _bars = [];

    public async Task InitializeAsync()
    {
        _bars = TestBars.Generate(["AAPL", "MSFT"], new DateOnly(2024, 1, 1), new DateOnly(2024, 2, 29));
        await LakeStore.Open(_temp.Path).UpsertAsync(_bars);
    }

    public Task DisposeAsync()
    {
        _temp.Dispose();
        return Task.CompletedTask;
    }

    private static async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await LakehouseCli.RunAsync(args, stdout, stderr, CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(2));
        return (code, stdout.ToString(), stderr.ToString());
    }

    private string[] Expected() => _bars.GroupBy(b => b.Symbol).OrderBy(g => g.Key, StringComparer.Ordinal)
        .Select(g => FormattableString.Invariant($"{g.Key},{g.Count()},{g.Max(b => b.Close):R}")).ToArray();

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [Fact]
    public async Task Sql_InProcessCsvAndJson_PrintTheAggregate()
    {
        var (code, stdout, stderr) = await Run("sql", PerSymbol, "--format", "csv", "--data-dir", _temp.Path);
        var json = await Run("sql", PerSymbol, "--format", "json", "--data-dir", _temp.Path);

        Assert.Equal(0, code);
        Assert.Equal(["symbol,days,top", .. Expected()], Lines(stdout));
        Assert.Contains("2 row(s) at lake version", stderr, StringComparison.Ordinal);
        Assert.Equal(0, json.Code);
        var rows = Lines(json.Out).Select(l => JsonDocument.Parse(l).RootElement)
            .Select(r => FormattableString.Invariant($"{r.GetProperty("symbol").GetString()},{r.GetProperty("days").GetInt64()},{r.GetProperty("top").GetDouble():R}"));
        Assert.Equal(Expected(), rows);
    }

    [Fact]
    public async Task Sql_Table_HasTheColumnsAndValues_AndTheLimitCutsIt()
    {
        var (code, stdout, _) = await Run("sql", PerSymbol, "--data-dir", _temp.Path);
        var limited = await Run("sql", "SELECT date, close FROM silver.prices_daily WHERE symbol = 'AAPL' ORDER BY date", "--limit", "3", "--data-dir", _temp.Path);

        Assert.Equal(0, code);
        var lines = Lines(stdout);
        Assert.Contains(lines, l => l.Contains("symbol", StringComparison.Ordinal) && l.Contains("days", StringComparison.Ordinal) && l.Contains("top", StringComparison.Ordinal));
        foreach (var expected in Expected())
        {
            var cells = expected.Split(',');
            Assert.Contains(lines, l => cells.All(c => l.Contains(c, StringComparison.Ordinal)));
        }
        Assert.Equal(0, limited.Code);
        var aapl = _bars.Where(b => b.Symbol == "AAPL").OrderBy(b => b.Date).ToList();
        var dates = Lines(limited.Out).Where(l => l.Contains("2024-", StringComparison.Ordinal)).ToList();
        Assert.Equal(aapl.Take(3).Select(b => b.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)), dates.Select(l => l.Split('│', StringSplitOptions.TrimEntries)[1]));
        Assert.Contains("printed the first 3", limited.Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SELEC 1", 2, "syntax error")]
    [InlineData("SELECT nope FROM silver.prices_daily", 2, "nope")]
    [InlineData("SELECT * FROM read_csv('/etc/passwd')", 1, "SQL reads the lake's tables only")]
    public async Task Sql_BadStatement_ExitCodeAndTheEnginesMessage(string sql, int exit, string mentions)
    {
        var (code, stdout, stderr) = await Run("sql", sql, "--data-dir", _temp.Path);

        Assert.Equal(exit, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("error: ", stderr, StringComparison.Ordinal);
        Assert.Contains(mentions, stderr, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(_temp.Path, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sql_BadFormat_Exit2()
    {
        var (code, _, stderr) = await Run("sql", "SELECT 1", "--format", "xml", "--data-dir", _temp.Path);

        Assert.Equal(2, code);
        Assert.Contains("--format 'xml' is not one of table, csv, json", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sql_AgainstARunningServer_SameRowsAsInProcess_BadSqlExit2()
    {
        await using var server = await LakehouseServer.BuildAsync(new LakehouseServerOptions { DataDir = _temp.Path, Host = "127.0.0.1", FlightPort = 0, HttpPort = 0 });
        var flight = await server.StartAsync(CancellationToken.None);
        var address = $"grpc://127.0.0.1:{flight.Port}";

        var (code, stdout, stderr) = await Run("sql", PerSymbol, "--format", "csv", "--server", address);
        var bad = await Run("sql", "SELECT nope FROM silver.prices_daily", "--server", address);
        var none = await Run("sql", "SELECT symbol, close FROM silver.prices_daily WHERE symbol = 'NONE'", "--format", "csv", "--server", address);

        Assert.True(code == 0, stderr);
        Assert.Equal(["symbol,days,top", .. Expected()], Lines(stdout));
        Assert.Equal(2, bad.Code);
        Assert.Contains("nope", bad.Err, StringComparison.Ordinal);
        Assert.True(none.Code == 0, none.Err);
        Assert.Equal(["symbol,close"], Lines(none.Out));
        Assert.Contains("0 row(s)", none.Err, StringComparison.Ordinal);
        await server.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Sql_AsOfAVersion_InProcessAndOnAServer_ReadsTheRowsBeforeACorrection_TwoMomentsExit2()
    {
        var store = LakeStore.Open(_temp.Path);
        var before = store.LatestVersion;
        var bar = _bars.First(b => b.Symbol == "AAPL");
        await store.UpsertAsync([bar with { Close = bar.Close + 100, High = bar.High + 100 }]);
        const string Query = "SELECT max(close) AS top FROM silver.prices_daily WHERE symbol = 'AAPL'";
        var old = _bars.Where(b => b.Symbol == "AAPL").Max(b => b.Close).ToString("R", CultureInfo.InvariantCulture);
        var corrected = (bar.Close + 100).ToString("R", CultureInfo.InvariantCulture);

        var now = await Run("sql", Query, "--format", "csv", "--data-dir", _temp.Path);
        var then = await Run("sql", Query, "--format", "csv", "--version", before.ToString(CultureInfo.InvariantCulture), "--data-dir", _temp.Path);
        var both = await Run("sql", Query, "--version", "1", "--snapshot", "eod", "--data-dir", _temp.Path);

        Assert.Equal(["top", corrected], Lines(now.Out));
        Assert.True(then.Code == 0, then.Err);
        Assert.Equal(["top", old], Lines(then.Out));
        Assert.Contains($"1 row(s) at lake version {before}", then.Err, StringComparison.Ordinal);
        Assert.Equal(2, both.Code);
        Assert.Contains("version and snapshot are both given", both.Err, StringComparison.Ordinal);

        await using var server = await LakehouseServer.BuildAsync(new LakehouseServerOptions { DataDir = _temp.Path, Host = "127.0.0.1", FlightPort = 0, HttpPort = 0 });
        var flight = await server.StartAsync(CancellationToken.None);
        var remote = await Run("sql", Query, "--format", "csv", "--version", before.ToString(CultureInfo.InvariantCulture), "--server", $"grpc://127.0.0.1:{flight.Port}");
        Assert.True(remote.Code == 0, remote.Err);
        Assert.Equal(["top", old], Lines(remote.Out));
        await server.StopAsync(CancellationToken.None);
    }
}
