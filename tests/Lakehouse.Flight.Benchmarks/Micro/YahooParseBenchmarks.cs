using System.Buffers;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Ingestion.Yahoo.Internal;

namespace Lakehouse.Flight.Benchmarks.Micro;

/// <summary>
/// YahooChartParser over a generated 10-year daily chart answer shaped like the recorded AAPL one
/// (meta, timestamp, quote arrays of float32-noisy doubles, adjclose, quarterly dividends, a split).
/// Rows per second = <see cref="Rows"/> / the median.
/// </summary>
[MemoryDiagnoser]
public class YahooParseBenchmarks
{
    private static readonly DateOnly From = new(2014, 1, 1);
    private static readonly DateOnly To = new(2023, 12, 31);

    private byte[] _body = [];

    /// <summary>The generated chart answer (after <see cref="Setup"/>), for the ingest harness.</summary>
    internal byte[] Body => _body;

    /// <summary>Bars in the generated answer (weekdays of 10 years).</summary>
    public int Rows { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        var buffer = new ArrayBufferWriter<byte>(1 << 20);
        using (var w = new Utf8JsonWriter(buffer))
        {
            var stamps = new List<long>();
            for (var d = From; d <= To; d = d.AddDays(1))
            {
                if (d.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday))
                {
                    // 09:30 New York in winter is 14:30 UTC; close enough for the parser's work.
                    stamps.Add(new DateTimeOffset(d.ToDateTime(new TimeOnly(14, 30)), TimeSpan.Zero).ToUnixTimeSeconds());
                }
            }
            Rows = stamps.Count;
            var random = new Random(42);
            var price = 100.0;
            w.WriteStartObject();
            w.WriteStartObject("chart");
            w.WriteStartArray("result");
            w.WriteStartObject();
            w.WriteStartObject("meta");
            w.WriteString("currency", "USD");
            w.WriteString("symbol", "AAPL");
            w.WriteString("exchangeName", "NMS");
            w.WriteString("instrumentType", "EQUITY");
            w.WriteNumber("regularMarketTime", 1739998801);
            w.WriteNumber("gmtoffset", -18000);
            w.WriteString("timezone", "EST");
            w.WriteString("exchangeTimezoneName", "America/New_York");
            w.WriteNumber("priceHint", 2);
            w.WriteStartObject("currentTradingPeriod");
            w.WriteStartObject("regular");
            w.WriteNumber("start", 1740061800);
            w.WriteNumber("end", 1740085200);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteString("dataGranularity", "1d");
            w.WriteEndObject();
            w.WriteStartArray("timestamp");
            foreach (var t in stamps)
            {
                w.WriteNumberValue(t);
            }
            w.WriteEndArray();
            w.WriteStartObject("events");
            w.WriteStartObject("dividends");
            for (var i = 40; i < stamps.Count; i += 63)
            {
                w.WriteStartObject(stamps[i].ToString(System.Globalization.CultureInfo.InvariantCulture));
                w.WriteNumber("amount", 0.205);
                w.WriteNumber("date", stamps[i]);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteStartObject("splits");
            w.WriteStartObject(stamps[1700].ToString(System.Globalization.CultureInfo.InvariantCulture));
            w.WriteNumber("date", stamps[1700]);
            w.WriteNumber("numerator", 4);
            w.WriteNumber("denominator", 1);
            w.WriteString("splitRatio", "4:1");
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
            var open = new double[Rows];
            var high = new double[Rows];
            var low = new double[Rows];
            var close = new double[Rows];
            var volume = new long[Rows];
            for (var i = 0; i < Rows; i++)
            {
                // float32 round trip: the noise Yahoo's arrays carry (129.0399932861328).
                open[i] = (float)price;
                price *= 1 + ((random.NextDouble() - 0.5) * 0.04);
                close[i] = (float)price;
                high[i] = (float)(Math.Max(open[i], close[i]) * 1.01);
                low[i] = (float)(Math.Min(open[i], close[i]) * 0.99);
                volume[i] = random.NextInt64(1_000_000, 300_000_000);
            }
            w.WriteStartObject("indicators");
            w.WriteStartArray("quote");
            w.WriteStartObject();
            WriteArray(w, "open", open);
            WriteArray(w, "high", high);
            WriteArray(w, "low", low);
            WriteArray(w, "close", close);
            w.WriteStartArray("volume");
            foreach (var v in volume)
            {
                w.WriteNumberValue(v);
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteStartArray("adjclose");
            w.WriteStartObject();
            WriteArray(w, "adjclose", [.. close.Select(c => (double)(float)(c * 0.97))]);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteNull("error");
            w.WriteEndObject();
            w.WriteEndObject();
        }
        _body = buffer.WrittenSpan.ToArray();
        var check = Parse();
        if (check.Error is not null || check.Bars.Count != Rows)
        {
            throw new InvalidOperationException($"generated chart parsed to {check.Bars.Count} of {Rows} bars: {check.Error}");
        }
        Console.WriteLine($"// YahooParse: {Rows} rows, {_body.Length:N0} bytes of JSON");
    }

    [Benchmark(Description = "parse 10-year Yahoo daily chart")]
    public SourceResult Parse() => YahooChartParser.Parse(_body, "AAPL", From, To, DateTimeOffset.UnixEpoch);

    private static void WriteArray(Utf8JsonWriter w, string name, double[] values)
    {
        w.WriteStartArray(name);
        foreach (var v in values)
        {
            w.WriteNumberValue(v);
        }
        w.WriteEndArray();
    }
}
