using System.Diagnostics;
using System.Globalization;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Benchmarks.E2e;

/// <summary>The benchmark universe: SYM0001.. over business days, written by LakeStore.UpsertAsync in chunks of symbols.</summary>
internal static class Universe
{
    public static string Symbol(int i) => "SYM" + i.ToString("D4", CultureInfo.InvariantCulture);

    public static IReadOnlyList<string> Symbols(int count) => Enumerable.Range(1, count).Select(Symbol).ToArray();

    /// <summary>Writes the universe; returns rows written and the seconds it took.</summary>
    public static (long Rows, double Seconds) Generate(E2eOptions o, string dataDir, TextWriter log)
    {
        // Cache off: generation must not leave decoded partitions in this process's memory.
        var store = LakeStore.Open(new StoreOptions { DataDir = dataDir, CacheBytes = 0 });
        var symbols = Symbols(o.Symbols);
        long rows = 0;
        var start = Stopwatch.GetTimestamp();
        var lastLog = start;
        for (var i = 0; i < symbols.Count; i += o.ChunkSymbols)
        {
            var chunk = symbols.Skip(i).Take(o.ChunkSymbols).ToArray();
            var bars = SyntheticBars.Generate(chunk, o.From, o.To);
            store.UpsertAsync(bars).GetAwaiter().GetResult();
            rows += bars.Count;
            if (Stopwatch.GetElapsedTime(lastLog).TotalSeconds >= 10)
            {
                lastLog = Stopwatch.GetTimestamp();
                log.WriteLine($"  generated {i + chunk.Length}/{symbols.Count} symbols, {rows:N0} rows, {Stopwatch.GetElapsedTime(start).TotalSeconds:F0} s");
            }
        }
        // What a server's maintenance would do next: merge the small files the chunks left (timed with the generation).
        store.Compact();
        return (rows, Stopwatch.GetElapsedTime(start).TotalSeconds);
    }

    /// <summary>
    /// <c>compact --data-dir D [--seconds S]</c>: one compaction of a kept lake's silver (what the server's compactor
    /// does), stopped after S seconds if not done; run under <c>/usr/bin/time -v</c> for its peak memory.
    /// </summary>
    public static async Task<int> CompactAsync(IReadOnlyList<string> args)
    {
        var dir = args.SkipWhile(a => a != "--data-dir").Skip(1).FirstOrDefault();
        var seconds = int.Parse(args.SkipWhile(a => a != "--seconds").Skip(1).FirstOrDefault() ?? "0", CultureInfo.InvariantCulture);
        if (dir is null)
        {
            Console.Error.WriteLine("compact needs --data-dir D");
            return 2;
        }
        var store = LakeStore.Open(new StoreOptions { DataDir = dir, CacheBytes = 0 });
        store.WaitReady();
        var plan = Lakehouse.Flight.Storage.Internal.Compactor.Plan(store.Metadata.Current.Table(Lakehouse.Flight.Core.Tables.PriceTables.Silver));
        Console.WriteLine($"plan: {plan.Count} set(s) of {plan.Sum(s => s.Count)} files, {plan.Sum(s => s.Sum(f => (long)f.Rows)):N0} rows");
        using var stop = seconds > 0 ? new CancellationTokenSource(TimeSpan.FromSeconds(seconds)) : new CancellationTokenSource();
        var start = Stopwatch.GetTimestamp();
        try
        {
            var result = await store.CompactAsync(Lakehouse.Flight.Core.Tables.PriceTables.Silver, stop.Token);
            Console.WriteLine($"compaction: {result} in {Stopwatch.GetElapsedTime(start).TotalSeconds:F1} s");
        }
        catch (OperationCanceledException)
        {
            var done = store.Metadata.Current.Table(Lakehouse.Flight.Core.Tables.PriceTables.Silver).Files.Count;
            Console.WriteLine($"stopped after {Stopwatch.GetElapsedTime(start).TotalSeconds:F1} s; silver now has {done} files");
        }
        return 0;
    }

    /// <summary>
    /// <c>generate --symbols N --years Y --data-dir D</c>: writes the universe into a kept data
    /// dir (silver, then a compaction pass), for runs by hand against a lake of any size (e.g. one
    /// several times a server's cache budget).
    /// </summary>
    public static int Run(IReadOnlyList<string> args)
    {
        E2eOptions o;
        try
        {
            o = E2eOptions.Parse(args);
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine(ex.Message);
            return 2;
        }
        if (o.DataDir is null)
        {
            Console.Error.WriteLine("generate needs --data-dir D (the lake is kept there)");
            return 2;
        }
        var (rows, seconds) = Generate(o, o.DataDir, Console.Out);
        Console.WriteLine($"generated {o.Symbols} symbols x {o.Years} years: {rows:N0} rows in {seconds:F1} s into {o.DataDir}");
        {
            var compacted = LakeStore.Open(new StoreOptions { DataDir = o.DataDir, CacheBytes = 0 }).Compact();
            Console.WriteLine($"compaction: {compacted}");
        }
        return 0;
    }
}
