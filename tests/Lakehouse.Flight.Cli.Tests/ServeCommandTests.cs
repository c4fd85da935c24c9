using System.Text;
using System.Text.RegularExpressions;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Cli.Tests;

public sealed partial class ServeCommandTests : IDisposable
{
    private readonly TempDir _temp = new("lakehouse-cli");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Executable_ShipsTheGcSettingThatBoundsAScanOfALakeLargerThanTheCache()
    {
        // decisions D31: without it a full scan of a lake 4x the cache budget peaked at 6.3x the budget.
        var path = Path.Combine(AppContext.BaseDirectory, "lakehouse.runtimeconfig.json");
        using var config = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path));
        var properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
        Assert.Equal(7, properties.GetProperty("System.GC.ConserveMemory").GetInt32());
    }

    [Fact]
    public async Task Serve_Demo_PrintsListeningLineAndFillsTheLake_StopsOnCancel()
    {
        var stdout = new LockedWriter();
        var stderr = new LockedWriter();
        using var cts = new CancellationTokenSource();

        var run = LakehouseCli.RunAsync(["serve", "--data-dir", _temp.Path, "--flight-port", "0", "--http-port", "0", "--demo"], stdout, stderr, cts.Token);
        Match? match = null;
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120)))
        {
            while (((match = ListeningLine().Match(stdout.Text)) is { Success: false } || !stdout.Text.Contains("HTTP listening", StringComparison.Ordinal))
                && !run.IsCompleted)
            {
                await Task.Delay(50, timeout.Token);
            }
        }
        var http = System.Text.RegularExpressions.Regex.Match(stdout.Text, @"^HTTP listening on (http://127\.0\.0\.1:\d+)$", System.Text.RegularExpressions.RegexOptions.Multiline);
        string health = "";
        if (http.Success)
        {
            using var client = new HttpClient();
            health = await client.GetStringAsync(new Uri(http.Groups[1].Value + "/health"));
        }
        await cts.CancelAsync();
        var exit = await run.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(match.Success, $"stdout: {stdout.Text}\nstderr: {stderr.Text}");
        Assert.Equal(0, exit);
        Assert.Equal(2, stdout.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.True(http.Success, $"stdout: {stdout.Text}");
        Assert.Contains("\"status\":\"ok\"", health, StringComparison.Ordinal);
        Assert.InRange(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 1, 65535);
        var stats = LakeStore.Open(_temp.Path).Stats(PriceTables.Silver);
        Assert.Equal(ServeCommand.DemoSymbols.Length, stats.Symbols);
        Assert.True(stats.Rows > ServeCommand.DemoSymbols.Length * 700L, $"{stats.Rows} rows");
    }

    [Fact]
    public async Task Serve_UnknownOption_IsRefused()
    {
        var stderr = new LockedWriter();

        var exit = await LakehouseCli.RunAsync(["serve", "--data-dir", _temp.Path, "--flight-prot", "1"], new LockedWriter(), stderr, CancellationToken.None);

        Assert.Equal(2, exit);
        Assert.Contains("--flight-prot", stderr.Text, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^Flight listening on grpc://127\.0\.0\.1:(\d+)\r?$", RegexOptions.Multiline)]
    private static partial Regex ListeningLine();

    /// <summary>The server writes from another thread while the test polls.</summary>
    private sealed class LockedWriter : StringWriter
    {
        private readonly object _gate = new();

        public string Text
        {
            get
            {
                lock (_gate)
                {
                    return ToString();
                }
            }
        }

        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value)
        {
            lock (_gate)
            {
                base.Write(value);
            }
        }

        public override void Write(string? value)
        {
            lock (_gate)
            {
                base.Write(value);
            }
        }

        public override void WriteLine(string? value)
        {
            lock (_gate)
            {
                base.WriteLine(value);
            }
        }

        public override Task WriteLineAsync(string? value)
        {
            WriteLine(value);
            return Task.CompletedTask;
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
