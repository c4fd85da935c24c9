using System.Diagnostics;
using System.Globalization;
using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage;
using Lakehouse.Flight.Storage.Internal;
using static Lakehouse.Flight.Benchmarks.E2e.ReportTable;

namespace Lakehouse.Flight.Benchmarks.E2e;

/// <summary>
/// <c>compact-format --data-dir D [--symbols N]</c>: the format decision of D22 on a lake the e2e harness
/// kept. Loads each symbol's compacted copy (Arrow IPC, <see cref="CompactFiles"/>) and the same rows as
/// one Parquet file in memory (<see cref="ParquetFiles"/>, Parquet.Net, one row group), and prints rows/s
/// and bytes of each. One thread, page cache warm for both.
/// </summary>
internal static class CompactFormatBench
{
    public static int Run(string[] args)
    {
        string? dataDir = null;
        var limit = int.MaxValue;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--data-dir" when i + 1 < args.Length: dataDir = args[++i]; break;
                case "--symbols" when i + 1 < args.Length: limit = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default:
                    Console.Error.WriteLine("usage: compact-format --data-dir D [--symbols N]   (a lake kept by e2e --keep)");
                    return 2;
            }
        }
        if (dataDir is null)
        {
            Console.Error.WriteLine("usage: compact-format --data-dir D [--symbols N]");
            return 2;
        }
        var store = PriceStore.Open(new StoreOptions { DataDir = dataDir, CacheBytes = 0 });
        store.Compact(PriceTables.Silver);
        // A fresh process's first cold scan (its heap small, as a server's is after start).
        var fresh = PriceStore.Open(new StoreOptions { DataDir = dataDir });
        var gcs = GC.CollectionCount(0);
        var gen2 = GC.CollectionCount(2);
        var scanStart = Stopwatch.GetTimestamp();
        long scanned = 0;
        foreach (var b in fresh.Read(PriceQuery.Create()))
        {
            scanned += b.Length;
        }
        var scanSeconds = Stopwatch.GetElapsedTime(scanStart).TotalSeconds;
        Console.WriteLine($"fresh-process cold scan from copies: {scanned} rows in {scanSeconds:F2} s; GCs gen0 {GC.CollectionCount(0) - gcs}, gen2 {GC.CollectionCount(2) - gen2}; pause {GC.GetTotalPauseDuration().TotalMilliseconds:F0} ms");
        fresh = null;
        var table = new TableId(PriceTables.Silver);
        var symbols = store.SymbolsFor(PriceQuery.Create()).Take(limit).ToArray();
        var parquet = new List<byte[]>(symbols.Length);
        long ipcBytes = 0, rows = 0;
        foreach (var s in symbols)
        {
            var copy = CompactFiles.Read(store.Paths.CompactFile(table, s), table.Definition);
            parquet.Add(ParquetFiles.Encode(copy.Rows));
            ipcBytes += new FileInfo(store.Paths.CompactFile(table, s)).Length;
            rows += copy.Rows.Length;
        }
        var folder = Path.Combine(Path.GetTempPath(), $"compact-format-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        var files = parquet.Select((bytes, i) =>
        {
            var f = Path.Combine(folder, i.ToString(CultureInfo.InvariantCulture) + ".parquet");
            File.WriteAllBytes(f, bytes);
            return f;
        }).ToArray();
        var t = new ReportTable();
        for (var round = 0; round < 2; round++)
        {
            var start = Stopwatch.GetTimestamp();
            long n = 0;
            foreach (var s in symbols)
            {
                n += CompactFiles.Read(store.Paths.CompactFile(table, s), table.Definition).Rows.Length;
            }
            var ipc = Stopwatch.GetElapsedTime(start).TotalSeconds;
            start = Stopwatch.GetTimestamp();
            long m = 0;
            foreach (var f in files)
            {
                m += ParquetFiles.Read(f, table.Definition.Schema).Length;
            }
            var pq = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (round == 1)
            {
                t.Add($"load a symbol's copy, Arrow IPC (file read, checksum, copy out), {symbols.Length} symbols",
                    $"{F(n / ipc)} rows/s ({F(ipc * 1000 / symbols.Length, "F2")} ms per symbol); {F(ipcBytes / 1e6, "F1")} MB on disk");
                t.Add("the same rows as one Parquet file per symbol (Parquet.Net, one row group: file read and decode)",
                    $"{F(m / pq)} rows/s ({F(pq * 1000 / symbols.Length, "F2")} ms per symbol); {F(parquet.Sum(b => (long)b.Length) / 1e6, "F1")} MB",
                    X(n / ipc, m / pq, "Parquet"));
            }
        }
        Directory.Delete(folder, recursive: true);
        Console.WriteLine($"## compact-format: {symbols.Length} symbols, {F(rows)} rows");
        t.Print(Console.Out);
        return 0;
    }
}
