using System.Runtime.CompilerServices;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Lakehouse.Flight.Client.Internal;

/// <summary>
/// DoGet of a compressed stream. The stock Flight client reader (Apache.Arrow.Flight 23.0.0) builds its
/// IPC reader without a compression codec factory, so it refuses LZ4/ZSTD bodies; this calls the same
/// gRPC method with raw bytes, turns the FlightData messages back into an IPC stream and reads that with
/// <see cref="ArrowStreamReader"/> and Apache.Arrow.Compression's codecs.
/// </summary>
internal static class CompressedDoGet
{
    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(b => b, b => b);

    private static readonly Method<byte[], byte[]> DoGet =
        new(MethodType.ServerStreaming, "arrow.flight.protocol.FlightService", "DoGet", Bytes, Bytes);

    private static readonly Apache.Arrow.Compression.CompressionCodecFactory Codecs = new();

    public static async IAsyncEnumerable<RecordBatch> ReadAsync(GrpcChannel channel, byte[] ticket, Metadata headers,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // A Flight Ticket: field 1, the ticket bytes.
        var request = new byte[1 + CodedOutputStream.ComputeBytesSize(ByteString.CopyFrom(ticket))];
        var output = new CodedOutputStream(request);
        output.WriteTag(1, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(ticket));
        output.Flush();
        // Disposing the call (early break, exception or cancellation) cancels it on the server.
        using var call = channel.CreateCallInvoker().AsyncServerStreamingCall(DoGet, null,
            new CallOptions(headers, cancellationToken: cancellationToken), request);
        using var reader = new ArrowStreamReader(new FlightDataIpcStream(call.ResponseStream), Codecs);
        while (await reader.ReadNextRecordBatchAsync(cancellationToken).ConfigureAwait(false) is { } batch)
        {
            yield return batch;
        }
    }

    /// <summary>FlightData messages (data_header = 2, data_body = 1000) read back as the IPC stream they came from.</summary>
    private sealed class FlightDataIpcStream(IAsyncStreamReader<byte[]> messages) : Stream
    {
        private byte[] _current = [];
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (_position == _current.Length)
            {
                if (!await messages.MoveNext(cancellationToken).ConfigureAwait(false))
                {
                    return 0;
                }
                _current = ToIpcMessage(messages.Current);
                _position = 0;
            }
            var n = Math.Min(buffer.Length, _current.Length - _position);
            _current.AsSpan(_position, n).CopyTo(buffer.Span);
            _position += n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) =>
            throw new NotSupportedException("the Flight stream is read asynchronously");

        /// <summary>Continuation marker, metadata length, metadata, body: one encapsulated IPC message.</summary>
        private static byte[] ToIpcMessage(byte[] flightData)
        {
            var input = new CodedInputStream(flightData);
            ByteString header = ByteString.Empty, body = ByteString.Empty;
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                switch (WireFormat.GetTagFieldNumber(tag))
                {
                    case 2: header = input.ReadBytes(); break;
                    case 1000: body = input.ReadBytes(); break;
                    default: input.SkipLastField(); break;
                }
            }
            if (header.IsEmpty)
            {
                return [];
            }
            var padded = (header.Length + 7) & ~7;
            var message = new byte[8 + padded + body.Length];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(message, 0xFFFFFFFF);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(4), padded);
            header.Span.CopyTo(message.AsSpan(8));
            body.Span.CopyTo(message.AsSpan(8 + padded));
            return message;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
