using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Storage.Tests;

public sealed class ConcurrencyTests : IDisposable
{
    private readonly TempLake _lake = new();

    public void Dispose() => _lake.Dispose();

    [Fact]
    public async Task Upserts_EightWritersAndASecondProcessOnOnePartition_LoseNoRow()
    {
        const int rounds = 10;
        var store = _lake.Open();
        // Eight in-process writers own 3 days each of January 2024; the second process owns days 25..31.
        var owners = Enumerable.Range(0, 8).Select(w => Enumerable.Range(1 + (w * 3), 3).ToArray()).ToArray();
        var childDays = Enumerable.Range(25, 7).ToArray();
        using var child = new ChildProcess("days", _lake.Dir, rounds.ToString(System.Globalization.CultureInfo.InvariantCulture), string.Join(',', childDays));
        child.WaitFor(l => l == "ready", TimeSpan.FromSeconds(60));

        using var start = new Barrier(owners.Length);
        var writers = owners.Select(days => Task.Run(async () =>
        {
            start.SignalAndWait();
            for (var r = 1; r <= rounds; r++)
            {
                await store.UpsertAsync(CrashWorkload.Days("PAR", days, r));
            }
        })).ToArray();
        await Task.WhenAll(writers);
        Assert.True(child.WaitForExit(TimeSpan.FromSeconds(120)), "second process did not finish");
        Assert.Equal(0, child.ExitCode);

        var rows = LakeFolder.Bars(_lake.Dir, PriceTables.Silver).Where(b => b.Symbol == "PAR").OrderBy(b => b.Date).ToList();
        var expectedDays = owners.SelectMany(d => d).Concat(childDays).Order().ToArray();
        Assert.Equal(expectedDays, rows.Select(r => r.Date.Day).ToArray());
        Assert.All(rows, r => Assert.Equal(rounds, r.Close));
        // Every upsert left exactly one manifest line: 8 writers x rounds + the child's rounds.
        Assert.Equal((8 * rounds) + rounds, LakeStore.Open(_lake.Dir).ReadManifest(PriceTables.Silver, limit: 1000).Count);
    }
}
