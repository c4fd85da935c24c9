using System.Net;
using System.Net.Sockets;
using Lakehouse.Flight.Server;

namespace Lakehouse.Flight.Cli.Tests;

[Collection(ServerAndMigrationTests.Name)]
public sealed class SmokeCommandTests : IDisposable
{
    private readonly TempDir _temp = new("lakehouse-smoke-tests");

    public void Dispose() => _temp.Dispose();

    private static async Task<(int Code, string Out, string Err)> Cli(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await LakehouseCli.RunAsync(args, stdout, stderr, CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(2));
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task Smoke_AgainstARunningServer_AllChecksPass()
    {
        var ingest = await Cli("ingest", "--source", "synthetic", "--symbols", "AAPL", "--from", "2024-01-01", "--to", "2024-01-31", "--data-dir", _temp.Path);
        Assert.Equal(0, ingest.Code);
        await using var server = await LakehouseServer.BuildAsync(new LakehouseServerOptions { DataDir = _temp.Path, Host = "127.0.0.1", FlightPort = 0, HttpPort = 0 });
        var flight = await server.StartAsync(CancellationToken.None);
        var http = server.HttpEndpoint!;

        // A generous per-check deadline: the server warms its cache, compacts and sweeps in the background
        // while CI keeps both cores busy, and this test is about the checks, not their latency.
        var (code, stdout, stderr) = await Cli("smoke", "--server", $"grpc://127.0.0.1:{flight.Port}", "--http", $"http://127.0.0.1:{http.Port}",
            "--timeout", "30");

        Assert.True(code == 0, stdout + stderr);
        Assert.Matches(@"list datasets\s+ok\s+\d+ ms\s+\d+ dataset\(s\): silver/prices_daily", stdout);
        Assert.Matches(@"schema\s+ok", stdout);
        Assert.Matches(@"doget\s+ok\s+\d+ ms\s+23 row\(s\)", stdout);
        Assert.Matches(@"upload\s+ok\s+\d+ ms\s+bronze source=smoke SMOKE\.TEST: inserted 1", stdout);
        Assert.Matches(@"http health\s+ok\s+\d+ ms\s+200 status=ok", stdout);
        Assert.Contains("all checks passed", stdout, StringComparison.Ordinal);
        // The scratch bar stays in bronze: silver (what users read) is untouched.
        Assert.False(Directory.Exists(Path.Combine(_temp.Path, "silver", "prices_daily", "symbol=SMOKE.TEST")));
        await server.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Smoke_AgainstAStoppedServer_FailsClearlyAndQuickly()
    {
        // A port that was just free: nothing listens there.
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();

        var (code, stdout, _) = await Cli("smoke", "--server", $"grpc://127.0.0.1:{port}", "--http", $"http://127.0.0.1:{port}", "--timeout", "3", "--json");

        Assert.Equal(1, code);
        var checks = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(["list datasets", "http health"], checks.Select(c => c.GetProperty("check").GetString()));
        Assert.All(checks, c => Assert.False(c.GetProperty("ok").GetBoolean()));
        Assert.Contains("unreachable", checks[0].GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Smoke_BadServerAddress_IsAUsageError()
    {
        var (code, _, stderr) = await Cli("smoke", "--server", "localhost:8815");

        Assert.Equal(2, code);
        Assert.Contains("use grpc://HOST:PORT", stderr, StringComparison.Ordinal);
    }
}

[Collection(ServerAndMigrationTests.Name)]
public sealed class MigrateLegacyActionTests : IDisposable
{
    private readonly TempDir _temp = new("lakehouse-migrate-action");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task MigrateLegacyAction_StreamsProgressThenReportsAndVerification()
    {
        var legacy = Path.Combine(_temp.Path, "old", "prices_daily.parquet");
        Directory.CreateDirectory(Path.GetDirectoryName(legacy)!);
        var fixture = LegacyFixture.Write(legacy, symbols: 12, days: 40);
        await using var server = await LakehouseServer.BuildAsync(new LakehouseServerOptions
        {
            DataDir = Path.Combine(_temp.Path, "lake"), Host = "127.0.0.1", FlightPort = 0, HttpPort = 0,
            // The legacy file's folder is an import root: actions read server files only there.
            ImportRoots = [Path.GetDirectoryName(legacy)!],
        });
        var flight = await server.StartAsync(CancellationToken.None);
        using var client = new Lakehouse.Flight.Client.LakehouseClient(new Uri($"grpc://127.0.0.1:{flight.Port}"));

        var results = new List<System.Text.Json.JsonElement>();
        await foreach (var body in client.ActionAsync("migrate-legacy", System.Text.Encoding.UTF8.GetBytes($"{{\"from\":\"{legacy}\",\"dry_run\":false}}")))
        {
            results.Add(System.Text.Json.JsonDocument.Parse(body).RootElement.Clone());
        }

        Assert.Contains(results[..^1], r => r.GetProperty("progress").GetProperty("phase").GetString() == "migrate");
        var last = results[^1];
        Assert.Equal(2 * 12, last.GetProperty("reports").GetArrayLength());
        var migration = last.GetProperty("migration");
        Assert.True(migration.GetProperty("verified").GetBoolean());
        Assert.Equal(fixture.Expected.Count, migration.GetProperty("rows_migrated").GetInt64());
        Assert.Equal(fixture.Invalid, migration.GetProperty("invalid").GetInt64());
        Assert.Equal(12, migration.GetProperty("verification").GetArrayLength());
        await server.StopAsync(CancellationToken.None);
    }
}
