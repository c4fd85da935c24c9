using System.Diagnostics;
using System.Globalization;
using Apache.Arrow;
using Apache.Arrow.Types;
using Lakehouse.Flight.Ingestion.Legacy;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Benchmarks.E2e;

/// <summary>
/// <c>legacy-migrate ROWS DIR [CACHE_MB]</c>: writes (once) a pandas-style legacy file of ROWS rows (timestamp[ns]
/// <c>Date</c>, <c>Adj Close</c>, an index column; sorted by date, so every row group holds every symbol:
/// the migration's worst case) into DIR, migrates it into DIR/lake, and prints rows/s and the process's
/// peak working set.
/// </summary>
internal static class LegacyMigrationBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rows = long.Parse(args[0], CultureInfo.InvariantCulture);
        var dir = args[1];
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, $"prices_daily_{rows}.parquet");
        const int symbols = 500;
        if (!File.Exists(file))
        {
            var sw = Stopwatch.StartNew();
            Write(file, symbols, (int)(rows / symbols));
            Console.WriteLine($"generated {file} ({new FileInfo(file).Length / 1e6:F1} MB) in {sw.Elapsed.TotalSeconds:F1} s");
        }
        var lake = Path.Combine(dir, "lake");
        if (Directory.Exists(lake))
        {
            Directory.Delete(lake, recursive: true);
        }
        // The store's read cache (2 GB by default) fills as verification reads silver back; a cap shows the migration's own footprint.
        var options = new StoreOptions { DataDir = lake };
        if (args.Length > 2)
        {
            options.CacheBytes = long.Parse(args[2], CultureInfo.InvariantCulture) << 20;
        }
        var store = LakeStore.Open(options);
        var migration = new LegacyMigration(store, new Ingestion.LakeWriter(store, new Ingestion.Gold.GoldBuilder(store)));
        var clock = Stopwatch.StartNew();
        var result = await migration.RunAsync(new LegacyMigrationRequest(file),
            new Progress<MigrationProgress>(p => Console.Error.WriteLine($"{clock.Elapsed.TotalSeconds,7:F1}s {p.Phase} {p.Done}/{p.Total} rows {p.Rows:N0}")));
        var elapsed = clock.Elapsed;
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        Console.WriteLine($"migrated {result.RowsRead:N0} rows ({result.Symbols} symbols) in {elapsed.TotalSeconds:F1} s: {result.RowsRead / elapsed.TotalSeconds:N0} rows/s; "
            + $"peak working set {self.PeakWorkingSet64 / 1e6:F0} MB; verified {result.Verified}; inserted {result.Inserted:N0}");
        return result.Verified ? 0 : 1;
    }

    private static void Write(string path, int symbols, int days)
    {
        var ts = new TimestampType(TimeUnit.Nanosecond, (string?)null);
        var schema = new Schema.Builder()
            .Field(b => b.Name("Date").DataType(ts))
            .Field(b => b.Name("symbol").DataType(StringType.Default))
            .Field(b => b.Name("Open").DataType(DoubleType.Default))
            .Field(b => b.Name("High").DataType(DoubleType.Default))
            .Field(b => b.Name("Low").DataType(DoubleType.Default))
            .Field(b => b.Name("Close").DataType(DoubleType.Default))
            .Field(b => b.Name("Adj Close").DataType(DoubleType.Default))
            .Field(b => b.Name("Volume").DataType(Int64Type.Default))
            .Field(b => b.Name("__index_level_0__").DataType(Int64Type.Default))
            .Build();
        using var props = new ParquetSharp.WriterPropertiesBuilder().Compression(ParquetSharp.Compression.Snappy).Build();
        using var writer = new ParquetSharp.Arrow.FileWriter(path, schema, props);
        var rng = new Random(1);
        // 10M rows are 20,000 days per symbol: start early enough that no date is in the future (those rows would be rejected).
        var start = new DateTime(1960, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        const int daysPerGroup = 2_000; // 1M rows per row group at 500 symbols, pyarrow's default
        long index = 0;
        for (var d0 = 0; d0 < days; d0 += daysPerGroup)
        {
            var n = Math.Min(daysPerGroup, days - d0);
            var date = new TimestampArray.Builder(ts);
            var sym = new StringArray.Builder();
            var o = new DoubleArray.Builder();
            var h = new DoubleArray.Builder();
            var l = new DoubleArray.Builder();
            var c = new DoubleArray.Builder();
            var a = new DoubleArray.Builder();
            var v = new Int64Array.Builder();
            var idx = new Int64Array.Builder();
            for (var d = d0; d < d0 + n; d++)
            {
                for (var s = 0; s < symbols; s++)
                {
                    var close = 20 + s + (rng.NextDouble() * 5);
                    date.Append(new DateTimeOffset(start.AddDays(d)));
                    sym.Append($"S{s:D4}");
                    o.Append(close * 0.99);
                    h.Append(close * 1.02);
                    l.Append(close * 0.97);
                    c.Append(close);
                    a.Append(close * 0.95);
                    v.Append(1000 + rng.Next(1_000_000));
                    idx.Append(index++);
                }
            }
            writer.WriteRecordBatch(new RecordBatch(schema,
                [date.Build(), sym.Build(), o.Build(), h.Build(), l.Build(), c.Build(), a.Build(), v.Build(), idx.Build()], n * symbols));
        }
        writer.Close();
    }
}
