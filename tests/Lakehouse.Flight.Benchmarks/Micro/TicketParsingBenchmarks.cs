using System.Text;
using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Benchmarks.Micro;

/// <summary>QueryCodec.ParseQuery of a DoGet ticket: the JSON a Python user writes, and binary protobuf.</summary>
[MemoryDiagnoser]
public class TicketParsingBenchmarks
{
    private readonly byte[] _json = Encoding.UTF8.GetBytes(
        """{"symbols":["AAPL","MSFT"],"date_from":"2024-01-01","date_to":"2024-03-31","columns":["date","close"]}""");

    private readonly byte[] _protobuf = new Lakehouse.Flight.Protocol.TableQuery
    {
        Symbols = { "AAPL", "MSFT" },
        DateFrom = "2024-01-01",
        DateTo = "2024-03-31",
        Columns = { "date", "close" },
    }.ToByteArray();

    [Benchmark(Description = "parse ticket, JSON")]
    public TableQuery Json() => QueryCodec.ParseQuery(_json);

    [Benchmark(Description = "parse ticket, protobuf")]
    public TableQuery Protobuf() => QueryCodec.ParseQuery(_protobuf);
}
