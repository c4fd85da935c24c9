using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Server;
using Apache.Arrow.Ipc;
using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using Grpc.Core;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Server.Internal;

namespace Lakehouse.Flight.Benchmarks.Micro;

/// <summary>
/// Decoding a DoPut body of 2.6M daily bars (8192-row batches, the SDK's default; gRPC frames in 4 KiB
/// segments as Kestrel's pool hands them out): the stock path (the framework's protobuf parse into
/// FlightData, then Apache.Arrow.Flight's FlightServerRecordBatchStreamReader) against FlightPutReader
/// (decisions D22), plain and with LZ4_FRAME / ZSTD bodies, which only the latter reads.
/// </summary>
[MemoryDiagnoser]
public class PutDecodeBenchmarks
{
    private const int Rows = 2_600_000;
    private const int BatchRows = 8192;

    private static readonly MessageParser Parser = (MessageParser)typeof(FlightData).Assembly
        .GetType("Apache.Arrow.Flight.Protocol.FlightData")!.GetProperty("Parser")!.GetValue(null)!;

    private ReadOnlySequence<byte> _plain;
    private ReadOnlySequence<byte> _lz4;
    private ReadOnlySequence<byte> _zstd;

    [GlobalSetup]
    public void Setup()
    {
        var bars = SyntheticBars.Generate(["AAPL", "MSFT", "IBM", "KO"], new DateOnly(2000, 1, 1), new DateOnly(2007, 12, 31));
        var batch = PriceBarBatches.ToBatch(bars, 0, BatchRows);
        _plain = Body(batch, null);
        _lz4 = Body(batch, CompressionCodecType.Lz4Frame);
        _zstd = Body(batch, CompressionCodecType.Zstd);
        Console.WriteLine($"// body bytes: plain {_plain.Length:N0}, lz4 {_lz4.Length:N0}, zstd {_zstd.Length:N0}");
    }

    [Benchmark(Baseline = true, Description = "stock reader, plain")]
    public async Task<long> Stock()
    {
        var messages = new List<FlightData>();
        var rest = _plain;
        while (rest.Length > 0)
        {
            var length = ReadLength(rest);
            var message = (IMessage)Parser.ParseFrom(rest.Slice(5, length));
            messages.Add((FlightData)Activator.CreateInstance(typeof(FlightData),
                System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic, null, [message], null)!);
            rest = rest.Slice(5 + length);
        }
        using var reader = new FlightServerRecordBatchStreamReader(new ListReader(messages));
        long rows = 0;
        while (await reader.MoveNext(default))
        {
            rows += reader.Current.Length;
        }
        return rows;
    }

    [Benchmark(Description = "FlightPutReader, plain")]
    public Task<long> Plain() => Read(_plain);

    [Benchmark(Description = "FlightPutReader, LZ4_FRAME")]
    public Task<long> Lz4() => Read(_lz4);

    [Benchmark(Description = "FlightPutReader, ZSTD")]
    public Task<long> Zstd() => Read(_zstd);

    private static async Task<long> Read(ReadOnlySequence<byte> body)
    {
        using var reader = new FlightPutReader(PipeReader.Create(body), null, 64 << 20);
        await reader.ReadDescriptorAsync(default);
        await reader.ReadSchemaAsync(default);
        long rows = 0;
        while (await reader.MoveNext(default))
        {
            rows += reader.Current.Length;
        }
        return rows;
    }

    private static int ReadLength(ReadOnlySequence<byte> rest)
    {
        Span<byte> prefix = stackalloc byte[5];
        rest.Slice(0, 5).CopyTo(prefix);
        return BinaryPrimitives.ReadInt32BigEndian(prefix[1..]);
    }

    /// <summary>The gRPC request body of an upload of <see cref="Rows"/> rows, in 4 KiB segments.</summary>
    private static ReadOnlySequence<byte> Body(RecordBatch batch, CompressionCodecType? compression)
    {
        var options = compression is null ? new IpcOptions()
            : new IpcOptions { CompressionCodec = compression, CompressionCodecFactory = new Apache.Arrow.Compression.CompressionCodecFactory() };
        using var ipc = new MemoryStream();
        using (var writer = new ArrowStreamWriter(ipc, batch.Schema, leaveOpen: true, options))
        {
            for (var rows = 0; rows < Rows; rows += BatchRows)
            {
                writer.WriteRecordBatch(batch);
            }
        }
        var stream = ipc.ToArray();
        using var body = new MemoryStream();
        var position = 0;
        var first = true;
        while (position + 8 <= stream.Length)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(stream.AsSpan(position + 4));
            var header = stream.AsSpan(position + 8, length).ToArray();
            var bodyLength = (int)IpcMessageHeader.BodyLength(header);
            var bytes = FlightDataBytes(first, header, stream.AsSpan(position + 8 + length, bodyLength).ToArray());
            var prefix = new byte[5];
            BinaryPrimitives.WriteInt32BigEndian(prefix.AsSpan(1), bytes.Length);
            body.Write(prefix);
            body.Write(bytes);
            position += 8 + length + bodyLength;
            first = false;
        }
        return Segmented(body.ToArray(), 4096);
    }

    /// <summary>FlightData: a CMD flight_descriptor (1) on the first message, data_header (2), data_body (1000).</summary>
    private static byte[] FlightDataBytes(bool first, byte[] header, byte[] body)
    {
        using var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        if (first)
        {
            var cmd = ByteString.CopyFromUtf8("""{"source":"bench"}""");
            output.WriteTag(1, WireFormat.WireType.LengthDelimited);
            output.WriteLength(3 + CodedOutputStream.ComputeBytesSize(cmd));
            output.WriteTag(1, WireFormat.WireType.Varint);
            output.WriteEnum(2);
            output.WriteTag(2, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(cmd);
        }
        output.WriteTag(2, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(header));
        if (body.Length > 0)
        {
            output.WriteTag(1000, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(body));
        }
        output.Flush();
        return stream.ToArray();
    }

    private static ReadOnlySequence<byte> Segmented(byte[] bytes, int size)
    {
        Segment? first = null, last = null;
        for (var i = 0; i < bytes.Length; i += size)
        {
            var memory = bytes.AsMemory(i, Math.Min(size, bytes.Length - i));
            last = last is null ? first = new Segment(memory, 0) : last.Append(memory);
        }
        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long index)
        {
            Memory = memory;
            RunningIndex = index;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    /// <summary>What the framework hands the stock reader: the parsed messages, one by one.</summary>
    private sealed class ListReader(List<FlightData> messages) : IAsyncStreamReader<FlightData>
    {
        private int _next;

        public FlightData Current { get; private set; } = null!;

        public Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            if (_next == messages.Count)
            {
                return Task.FromResult(false);
            }
            Current = messages[_next++];
            return Task.FromResult(true);
        }
    }
}
