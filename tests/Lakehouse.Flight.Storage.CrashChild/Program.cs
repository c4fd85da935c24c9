using System.Globalization;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage;

// loop <dataDir> <firstK>: upsert generation k = firstK, firstK+1, ... forever, printing "committed k".
// days <dataDir> <rounds> <day,day,...>: upsert Jan 2024 rows for those days, value = round, `rounds` times.
// wal <dataDir> <firstK>: acknowledge upload k = firstK, firstK+1, ... through the write-ahead log
// (printing "acked k") while the background applier lands them in commits of a few symbols.
// maintain <dataDir> <firstK>: as loop, and after each upsert a compaction pass and a vacuum that expires every
// superseded file, printing "compacting k", "vacuuming k" and "committed k" as it enters each step.
// snapshots <dataDir> <firstK>: as loop, and after each upsert a snapshot "g<k>" of silver at that version, the
// deletion of "g<k-3>" and a vacuum that expires every superseded file no snapshot pins, printing "snapshotting k",
// "deleting k" and "vacuuming k" as it enters each step.
// promote <dataDir> <sym,sym,...>: one commit of bronze and silver (a DoPut with promote) of a year of
// varying prices per symbol, printing "committed"; run with LAKEHOUSE_TEST_CRASH_AFTER_COMMIT_POINT=1 the
// store kills the process at the commit point instead, leaving the journal for the next opener.
var mode = args[0];
if (mode == "promote")
{
    var promoteStore = LakeStore.Open(args[1]);
    var bars = PriceBarBatches.ToBatch(args[2].Split(',').SelectMany(CrashWorkload.Year).ToArray());
    Console.Out.WriteLine("ready");
    Console.Out.Flush();
    await promoteStore.WriteAsync([new TableWrite(PriceTables.Bronze, bars, "crash"), new TableWrite(PriceTables.Silver, bars, "crash")]);
    Console.Out.WriteLine("committed");
    Console.Out.Flush();
    return 0;
}
if (mode == "wal")
{
    var walStore = LakeStore.Open(new StoreOptions { DataDir = args[1], UploadApplyChunkRows = CrashWorkload.WalChunkRows });
    _ = Task.Run(() => walStore.RunUploadApplierAsync(TimeSpan.FromMilliseconds(200), CancellationToken.None));
    for (var k = int.Parse(args[2], CultureInfo.InvariantCulture); ; k++)
    {
        var rows = PriceBarBatches.ToBatch(CrashWorkload.WalUpload(k));
        var receipt = await walStore.EnqueueAsync([new TableWrite(PriceTables.Bronze, rows, "wal"), new TableWrite(PriceTables.Silver, rows, "wal")]);
        Console.Out.WriteLine($"acked {k} {receipt.RunId}");
        Console.Out.Flush();
        // Acknowledging is much faster than applying: let the applier keep within a few uploads.
        while (walStore.PendingUploads > 3)
        {
            await Task.Delay(5);
        }
    }
}
var store = LakeStore.Open(args[1]);
if (mode == "maintain")
{
    for (var k = int.Parse(args[2], CultureInfo.InvariantCulture); ; k++)
    {
        await store.UpsertAsync(CrashWorkload.Generation(k));
        Console.Out.WriteLine($"committed {k}");
        Console.Out.WriteLine($"compacting {k}");
        Console.Out.Flush();
        await store.CompactAsync();
        Console.Out.WriteLine($"vacuuming {k}");
        Console.Out.Flush();
        await store.VacuumAsync(TimeSpan.Zero);
    }
}
if (mode == "snapshots")
{
    for (var k = int.Parse(args[2], CultureInfo.InvariantCulture); ; k++)
    {
        await store.UpsertAsync(CrashWorkload.Generation(k));
        Console.Out.WriteLine($"committed {k}");
        Console.Out.WriteLine($"snapshotting {k}");
        Console.Out.Flush();
        await store.CreateSnapshotAsync($"g{k}", [PriceTables.Silver]);
        Console.Out.WriteLine($"deleting {k}");
        Console.Out.Flush();
        if (store.ListSnapshots().Any(s => s.Name == $"g{k - 3}"))
        {
            await store.DeleteSnapshotAsync($"g{k - 3}");
        }
        Console.Out.WriteLine($"vacuuming {k}");
        Console.Out.Flush();
        await store.VacuumAsync(TimeSpan.Zero);
    }
}
if (mode == "loop")
{
    for (var k = int.Parse(args[2], CultureInfo.InvariantCulture); ; k++)
    {
        await store.UpsertAsync(CrashWorkload.Generation(k));
        Console.Out.WriteLine($"committed {k}");
        Console.Out.Flush();
    }
}
var rounds = int.Parse(args[2], CultureInfo.InvariantCulture);
var days = args[3].Split(',').Select(d => int.Parse(d, CultureInfo.InvariantCulture)).ToArray();
Console.Out.WriteLine("ready");
Console.Out.Flush();
for (var r = 1; r <= rounds; r++)
{
    await store.UpsertAsync(CrashWorkload.Days("PAR", days, r));
}
Console.Out.WriteLine("done");
return 0;

/// <summary>The workloads, shared with the tests through a linked source file.</summary>
public static partial class CrashWorkload;
