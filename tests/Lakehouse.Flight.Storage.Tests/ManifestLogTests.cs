using System.Text;
using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Storage.Tests;

/// <summary>A manifest append writes whole lines, byte for byte, after any torn tail is cut off.</summary>
public sealed class ManifestLogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lakehouse-manifests-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Append_WritesEachLineAndANewline_AfterCuttingATornTail_AndReportsTheRange()
    {
        var log = new ManifestLog(Path.Combine(_dir, "locks"));
        Directory.CreateDirectory(Path.Combine(_dir, "locks"));
        var file = Path.Combine(_dir, "m", "silver_prices_daily.jsonl");
        var ranges = new List<(long Before, long After)>();
        log.Appended += (_, before, after) => ranges.Add((before, after));

        log.Append(file, ["{\"symbol\":\"AAPL\"}", "{\"symbol\":\"MSFT\"}"]);
        // A crash cut the next append short: its half line is cut off before the next lines go in.
        File.AppendAllText(file, "{\"symbol\":\"TO");
        // Lines are JSON with escapes in practice; any text is written as UTF-8 all the same.
        var lines = Enumerable.Range(0, 5_000).Select(i => $"{{\"symbol\":\"SYM{i:D4}\",\"reason\":\"{(i % 2 == 0 ? "clé" : "ok")}\"}}").ToArray();
        log.Append(file, lines);

        var expected = "{\"symbol\":\"AAPL\"}\n{\"symbol\":\"MSFT\"}\n" + string.Concat(lines.Select(l => l + "\n"));
        Assert.Equal(Encoding.UTF8.GetBytes(expected), File.ReadAllBytes(file));
        var first = Encoding.UTF8.GetByteCount("{\"symbol\":\"AAPL\"}\n{\"symbol\":\"MSFT\"}\n");
        Assert.Equal([(0L, (long)first), (first, Encoding.UTF8.GetByteCount(expected))], ranges);
    }
}
