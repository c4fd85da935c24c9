using Apache.Arrow;
using Apache.Arrow.Types;
using Lakehouse.Flight.Core;
using ParquetSharp;
using TimeUnit = Apache.Arrow.Types.TimeUnit;

namespace Lakehouse.Flight.Cli.Tests;

/// <summary>Expected silver values of one (symbol, date) after a migration.</summary>
public readonly record struct Bar(double Open, double High, double Low, double Close, double? AdjClose, long Volume);

/// <summary>
/// A legacy <c>prices_daily.parquet</c> as pandas wrote them: <c>Date</c> as timestamp[ns], <c>Adj Close</c>,
/// capitalised columns, a <c>__index_level_0__</c> column, some lower-case symbols, rows sorted by date
/// (so every row group holds every symbol), duplicates later in the file, and bad rows. Remembers
/// what silver must hold afterwards.
/// </summary>
public sealed class LegacyFixture
{
    public const long NanosPerDay = 86_400L * 1_000_000_000L;

    public Dictionary<(string Symbol, int Day), Bar> Expected { get; } = [];
    public long Rows { get; private set; }
    public long Duplicates { get; private set; }
    public long Invalid { get; private set; }
    public int Symbols { get; private set; }

    public static LegacyFixture Write(string path, int symbols, int days, int rowGroupRows = 50_000)
    {
        var f = new LegacyFixture { Symbols = symbols };
        var rng = new Random(7);
        var sym = new List<string>();
        var ns = new List<long>();
        var o = new List<double?>();
        var h = new List<double>();
        var l = new List<double>();
        var c = new List<double?>();
        var adj = new List<double?>();
        var v = new List<long>();
        void Add(string s, long t, double? open, double high, double low, double? close, double? a, long vol)
        {
            sym.Add(s);
            ns.Add(t);
            o.Add(open);
            h.Add(high);
            l.Add(low);
            c.Add(close);
            adj.Add(a);
            v.Add(vol);
        }
        var start = new DateOnly(2018, 1, 1).DayNumber - new DateOnly(1970, 1, 1).DayNumber;
        var written = new List<(string Symbol, int Day, Bar Bar)>();
        for (var d = 0; d < days; d++)
        {
            var day = start + d;
            for (var s = 0; s < symbols; s++)
            {
                var name = $"SYM{s:D3}";
                var close = 50 + s + (rng.NextDouble() * 10);
                var bar = new Bar(close * 0.99, close * 1.02, close * 0.97, close, s % 5 == 0 ? null : close * 0.95, 1000 + rng.Next(100_000));
                // Some rows of every 7th symbol are spelled in lower case, as hand-made frames had them.
                Add(s % 7 == 0 && d % 2 == 0 ? name.ToLowerInvariant() : name, day * NanosPerDay, bar.Open, bar.High, bar.Low, bar.Close, bar.AdjClose, bar.Volume);
                f.Expected[(name, day)] = bar;
                written.Add((name, day, bar));
            }
        }
        // Duplicates near the end of the file: the later row wins.
        for (var i = 0; i < 150; i++)
        {
            var (name, day, bar) = written[rng.Next(written.Count)];
            var again = bar with { Close = (bar.High + bar.Low) / 2 + 0.001 * i, Volume = bar.Volume + 1 };
            Add(name, day * NanosPerDay, again.Open, again.High, again.Low, again.Close, again.AdjClose, again.Volume);
            f.Expected[(name, day)] = again;
            f.Duplicates++;
        }
        // Bad rows: each kind counted and reported, none landing.
        var late = start + days + 10;
        for (var i = 0; i < 20; i++)
        {
            Add("SYM001", (late + i) * NanosPerDay, -5, 10, 1, 5, 5, 100); // negative price
        }
        for (var i = 0; i < 10; i++)
        {
            Add("SYM002", (late + i) * NanosPerDay, 5, 4, 1, 5, 5, 100); // high below max(open, close)
        }
        for (var i = 0; i < 5; i++)
        {
            Add("SYM003", (late + i) * NanosPerDay, 5, 6, 4, null, 5, 100); // null close
        }
        for (var i = 0; i < 5; i++)
        {
            Add("BAD/SYM", (late + i) * NanosPerDay, 5, 6, 4, 5, 5, 100); // not a symbol
        }
        for (var i = 0; i < 3; i++)
        {
            Add("SYM004", (late + i) * NanosPerDay + 3_600_000_000_000L, 5, 6, 4, 5, 5, 100); // 01:00, not a daily bar
        }
        f.Invalid = 20 + 10 + 5 + 5 + 3;
        f.Rows = sym.Count;

        var schema = new Schema.Builder()
            .Field(b => b.Name("Date").DataType(new TimestampType(TimeUnit.Nanosecond, (string?)null)).Nullable(true))
            .Field(b => b.Name("symbol").DataType(StringType.Default).Nullable(true))
            .Field(b => b.Name("Open").DataType(DoubleType.Default).Nullable(true))
            .Field(b => b.Name("High").DataType(DoubleType.Default).Nullable(true))
            .Field(b => b.Name("Low").DataType(DoubleType.Default).Nullable(true))
            .Field(b => b.Name("Close").DataType(DoubleType.Default).Nullable(true))
            .Field(b => b.Name("Adj Close").DataType(DoubleType.Default).Nullable(true))
            .Field(b => b.Name("Volume").DataType(Int64Type.Default).Nullable(true))
            .Field(b => b.Name("__index_level_0__").DataType(Int64Type.Default).Nullable(true))
            .Build();
        using var props = new WriterPropertiesBuilder().Compression(Compression.Snappy).Build();
        using var writer = new ParquetSharp.Arrow.FileWriter(path, schema, props);
        for (var offset = 0; offset < sym.Count; offset += rowGroupRows)
        {
            var n = Math.Min(rowGroupRows, sym.Count - offset);
            var range = Enumerable.Range(offset, n).ToArray();
            var ts = new TimestampArray.Builder(new TimestampType(TimeUnit.Nanosecond, (string?)null));
            var symbolsCol = new StringArray.Builder();
            foreach (var i in range)
            {
                ts.Append(DateTimeOffset.FromUnixTimeMilliseconds(ns[i] / 1_000_000));
                symbolsCol.Append(sym[i]);
            }
            var batch = new RecordBatch(schema,
            [
                ts.Build(), symbolsCol.Build(), Doubles(range.Select(i => o[i])), Doubles(range.Select(i => (double?)h[i])),
                Doubles(range.Select(i => (double?)l[i])), Doubles(range.Select(i => c[i])), Doubles(range.Select(i => adj[i])),
                new Int64Array.Builder().AppendRange(range.Select(i => v[i])).Build(),
                new Int64Array.Builder().AppendRange(range.Select(i => (long)i)).Build(),
            ], n);
            writer.WriteRecordBatch(batch);
        }
        writer.Close();
        return f;
    }

    private static DoubleArray Doubles(IEnumerable<double?> values)
    {
        var b = new DoubleArray.Builder();
        foreach (var x in values)
        {
            if (x is { } d)
            {
                b.Append(d);
            }
            else
            {
                b.AppendNull();
            }
        }
        return b.Build();
    }

    /// <summary>Writes the prototype's manifest: complete lines and a torn last one.</summary>
    public static void WriteManifest(string path, int lines)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var text = string.Concat(Enumerable.Range(0, lines).Select(i =>
            $"{{\"engine\":\"parquet\",\"source\":\"yfinance\",\"location\":\"data/prices_daily.parquet\",\"symbol\":\"SYM{i:D3}\",\"rows\":10,\"inserted\":10,\"updated\":0}}\n"));
        File.WriteAllText(path, text + "{\"engine\":\"parquet\",\"source\":\"yf");
    }

    /// <summary>Silver's values (symbol, date32 day) without lineage columns, for comparing lakes.</summary>
    public static Dictionary<(string Symbol, int Day), Bar> Silver(string dataDir) => Read(dataDir, "silver");

    public static Dictionary<(string Symbol, int Day), Bar> Read(string dataDir, string layer)
    {
        var store = Storage.LakeStore.Open(dataDir);
        var result = new Dictionary<(string, int), Bar>();
        foreach (var batch in store.Read(TableQuery.Create(layer)))
        {
            var symbol = (StringArray)batch.Column("symbol");
            var date = (Date32Array)batch.Column("date");
            var open = (DoubleArray)batch.Column("open");
            var high = (DoubleArray)batch.Column("high");
            var low = (DoubleArray)batch.Column("low");
            var close = (DoubleArray)batch.Column("close");
            var adjClose = (DoubleArray)batch.Column("adj_close");
            var volume = (Int64Array)batch.Column("volume");
            for (var i = 0; i < batch.Length; i++)
            {
                result[(symbol.GetString(i), date.Values[i])] = new Bar(open.Values[i], high.Values[i], low.Values[i], close.Values[i], adjClose.GetValue(i), volume.Values[i]);
            }
        }
        return result;
    }
}
