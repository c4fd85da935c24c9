using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Storage.Tests;

/// <summary>
/// <see cref="LakeLog.ReadHead"/>: what replaying the log reads of an entry (its reports left unread) is the entry less
/// its reports, for a commit of many symbols (a head larger than one read), a correction, a vacuum and a compaction.
/// </summary>
public sealed class LogEntryHeadTests : IDisposable
{
    private readonly TempLake _lake = new();

    public void Dispose() => _lake.Dispose();

    private static string Symbol(int i) => $"SYMBOL{i:D6}";

    [Fact]
    public async Task EveryEntrysHead_IsTheEntryLessItsReports()
    {
        var store = _lake.Open();
        var day = new DateOnly(2025, 3, 3);
        // 26,000 symbols of 12 characters: the entry's list of changed symbols alone (~390 KB) is larger than the first
        // 256 KB read, so its reports are found in a later read.
        await store.UpsertAsync([.. Enumerable.Range(0, 26_000).Select(i => TestBars.Bar(Symbol(i), day))]);
        await store.UpsertAsync([TestBars.Bar(Symbol(42), day.AddDays(1)), TestBars.Bar(Symbol(42), day) with { Volume = 7 }]);
        await store.UpsertAsync([TestBars.Bar(Symbol(43), day.AddDays(1))]);
        await store.UpsertAsync([TestBars.Bar(Symbol(44), day.AddDays(1))]);
        await store.UpsertAsync([TestBars.Bar(Symbol(45), day.AddDays(1))]);
        // A report with reject reasons (and another without: nulls and lists side by side in one entry).
        await store.UpsertAsync([TestBars.Bar(Symbol(46), day.AddDays(1)) with { Close = -1 }, TestBars.Bar(Symbol(47), day.AddDays(1))]);
        store.Compact();
        await store.VacuumAsync(TimeSpan.Zero);

        var log = new LakeLog(Path.Combine(_lake.Dir, "_metadata", "log"));
        var versions = log.VersionsAfter(0).ToArray();
        Assert.True(versions.Length >= 7, $"{versions.Length} versions");
        var operations = new List<string>();
        foreach (var v in versions)
        {
            var whole = log.Read(v);
            var head = log.ReadHead(v);
            operations.Add(whole.Operation);
            Assert.Empty(head.Reports);
            Assert.Equal(System.Text.Encoding.UTF8.GetString(LogJson.Serialize(whole with { Reports = [] })),
                System.Text.Encoding.UTF8.GetString(LogJson.Serialize(head)));
            // The commit put its reports' lines (made once, for the manifests too) in place of their serialization: the
            // bytes on disk are what serializing the entry whole writes.
            Assert.Equal(System.Text.Encoding.UTF8.GetString(LogJson.Serialize(whole)),
                File.ReadAllText(Path.Combine(_lake.Dir, "_metadata", "log", $"{v:D20}.json")));
        }
        Assert.Contains(versions.Select(log.Read).SelectMany(e => e.Reports), r => r.RejectReasons is { Count: > 0 });
        Assert.Contains("compact", operations);
        Assert.Contains("vacuum", operations);
        Assert.True(log.Read(1).Reports.Count == 26_000 && log.ReadHead(1).Tables.Single().Symbols.Count == 26_000);
        var entry = File.ReadAllBytes(Path.Combine(_lake.Dir, "_metadata", "log", "00000000000000000001.json"));
        Assert.True(entry.AsSpan().IndexOf(",\"reports\":"u8) > 256 << 10, "the first entry's reports must start after the first read");
        Assert.NotEmpty(log.ReadHead(versions.Last(v => log.Read(v).Operation == "vacuum")).Expired!);
    }
}
