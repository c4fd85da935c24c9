using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Pipelines;
using Apache.Arrow.Flight;
using Google.Protobuf;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Server.Internal;

/// <summary>
/// A DoPut request body (gRPC-framed FlightData messages, as <see cref="GrpcRequestReader"/> hands them
/// out) read as the Arrow IPC stream the messages carry: per FlightData with a data_header, the
/// continuation marker, the metadata length, the metadata (data_header, padded to 8) and the body
/// (data_body), the body copied once, straight from the pipe into the reader's buffer. Messages without
/// a data_header (app_metadata only) carry nothing of the stream and are skipped. The first message's
/// flight_descriptor is kept for the upload command. A header whose Message.bodyLength is not the length
/// of its data_body is refused here: the IPC reader would otherwise read into the next message.
/// </summary>
internal sealed class FlightDataIpcStream(PipeReader body, string? grpcEncoding, long maxMessageBytes) : Stream
{
    private const int HeaderTag = 2;
    private const int BodyTag = 1000;
    private const int DescriptorTag = 1;

    private readonly byte[] _prefix = new byte[5];
    private byte[] _head = new byte[512];
    private int _headLength;
    private int _headPosition;
    private ReadOnlySequence<byte> _body;
    private bool _holding;
    private SequencePosition _messageEnd;
    private bool _ended;

    /// <summary>The first message's flight_descriptor (null when it carried none).</summary>
    public FlightDescriptor? Descriptor { get; private set; }

    /// <summary>gRPC messages read so far.</summary>
    public int Messages { get; private set; }

    /// <summary>Called as each FlightData message is taken in (the upload's allocator counts per message).</summary>
    public Action? MessageStarted { get; init; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>Reads the first message, so <see cref="Descriptor"/> is known before the IPC reader asks for bytes.</summary>
    public async ValueTask StartAsync(CancellationToken cancellationToken)
    {
        if (Messages == 0 && !_ended)
        {
            await NextMessageAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }
        while (true)
        {
            if (_headPosition < _headLength)
            {
                var n = Math.Min(buffer.Length, _headLength - _headPosition);
                _head.AsSpan(_headPosition, n).CopyTo(buffer.Span);
                _headPosition += n;
                return n;
            }
            if (!_body.IsEmpty)
            {
                var n = (int)Math.Min(buffer.Length, _body.Length);
                _body.Slice(0, n).CopyTo(buffer.Span);
                _body = _body.Slice(n);
                return n;
            }
            if (!await NextMessageAsync(cancellationToken).ConfigureAwait(false))
            {
                return 0;
            }
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("the DoPut body is read asynchronously");

    /// <summary>Reads and forgets up to <paramref name="messages"/> more messages (before a refusal, so the client sees it).</summary>
    public async Task SkipAsync(int messages, CancellationToken cancellationToken)
    {
        for (var i = 0; i < messages && await NextMessageAsync(cancellationToken).ConfigureAwait(false); i++)
        {
        }
    }

    /// <summary>Lets go of the current message and takes in the next one; false at the end of the body.</summary>
    private async ValueTask<bool> NextMessageAsync(CancellationToken cancellationToken)
    {
        Release();
        if (_ended)
        {
            return false;
        }
        while (true)
        {
            var result = await body.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (buffer.Length >= 5)
            {
                buffer.Slice(0, 5).CopyTo(_prefix);
                var length = BinaryPrimitives.ReadUInt32BigEndian(_prefix.AsSpan(1));
                if (length > maxMessageBytes)
                {
                    // FlightRequestGuard refuses this first, with batch-size advice; this is the backstop.
                    body.AdvanceTo(buffer.Start);
                    throw LakehouseException.Invalid($"a DoPut message of {length:N0} bytes is over the server's limit of {maxMessageBytes:N0}");
                }
                if (buffer.Length >= 5 + length)
                {
                    var message = buffer.Slice(5, length);
                    _holding = true;
                    _messageEnd = message.End;
                    Messages++;
                    MessageStarted?.Invoke();
                    Take(_prefix[0] == 0 ? message : Decompress(message));
                    return true;
                }
            }
            if (result.IsCompleted || result.IsCanceled)
            {
                body.AdvanceTo(buffer.End);
                _ended = true;
                return buffer.IsEmpty ? false : throw LakehouseException.Invalid($"the DoPut body ends inside gRPC message {Messages + 1}");
            }
            body.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private void Release()
    {
        _headLength = _headPosition = 0;
        _body = default;
        if (_holding)
        {
            _holding = false;
            body.AdvanceTo(_messageEnd);
        }
    }

    /// <summary>The FlightData fields we use, in place: flight_descriptor (1), data_header (2), data_body (1000).</summary>
    private void Take(ReadOnlySequence<byte> message)
    {
        var reader = new SequenceReader<byte>(message);
        var header = ReadOnlySequence<byte>.Empty;
        var data = ReadOnlySequence<byte>.Empty;
        while (!reader.End)
        {
            var tag = ReadVarint(ref reader);
            var field = tag >> 3;
            switch (tag & 7)
            {
                case 0:
                    ReadVarint(ref reader);
                    break;
                case 1:
                    Skip(ref reader, 8);
                    break;
                case 5:
                    Skip(ref reader, 4);
                    break;
                case 2:
                    var length = ReadVarint(ref reader);
                    if (length > (ulong)reader.Remaining)
                    {
                        throw Malformed();
                    }
                    var value = reader.UnreadSequence.Slice(0, (long)length);
                    reader.Advance((long)length);
                    if (field == HeaderTag)
                    {
                        header = value;
                    }
                    else if (field == BodyTag)
                    {
                        data = value;
                    }
                    else if (field == DescriptorTag && Messages == 1)
                    {
                        Descriptor = DescriptorOf(value);
                    }
                    break;
                default:
                    throw Malformed();
            }
        }
        if (header.IsEmpty)
        {
            return;
        }
        var padded = (int)((header.Length + 7) & ~7L);
        if (_head.Length < 8 + padded)
        {
            _head = new byte[8 + padded];
        }
        BinaryPrimitives.WriteUInt32LittleEndian(_head, 0xFFFFFFFF);
        BinaryPrimitives.WriteInt32LittleEndian(_head.AsSpan(4), padded);
        header.CopyTo(_head.AsSpan(8));
        _head.AsSpan(8 + (int)header.Length, padded - (int)header.Length).Clear();
        var declared = IpcMessageHeader.BodyLength(_head.AsSpan(8, (int)header.Length));
        if (declared != data.Length)
        {
            throw LakehouseException.Invalid(
                $"DoPut message {Messages}: its IPC header declares a body of {declared:N0} bytes but data_body holds {data.Length:N0}; send the stream with a Flight client (e.g. pyarrow.flight)");
        }
        _headLength = 8 + padded;
        _body = data;
    }

    /// <summary>A message the client compressed at the gRPC level (grpc-encoding gzip or deflate), inflated into memory of its own.</summary>
    private ReadOnlySequence<byte> Decompress(ReadOnlySequence<byte> message)
    {
        using var input = new MemoryStream(message.ToArray());
        using Stream inflater = grpcEncoding?.ToLowerInvariant() switch
        {
            "gzip" => new GZipStream(input, CompressionMode.Decompress),
            "deflate" => new ZLibStream(input, CompressionMode.Decompress),
            _ => throw LakehouseException.Invalid($"DoPut messages compressed with grpc-encoding '{grpcEncoding}' are not supported: use gzip, deflate or none"),
        };
        using var output = new MemoryStream();
        var chunk = new byte[81920];
        int n;
        while ((n = inflater.Read(chunk)) > 0)
        {
            if (output.Length + n > maxMessageBytes)
            {
                throw LakehouseException.Invalid($"a DoPut message inflates to more than the server's limit of {maxMessageBytes:N0} bytes per message");
            }
            output.Write(chunk, 0, n);
        }
        return new ReadOnlySequence<byte>(output.GetBuffer(), 0, (int)output.Length);
    }

    private static FlightDescriptor DescriptorOf(ReadOnlySequence<byte> value)
    {
        var input = new CodedInputStream(value.ToArray());
        var type = 0;
        var command = ByteString.Empty;
        var path = new List<string>();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1 when WireFormat.GetTagWireType(tag) == WireFormat.WireType.Varint:
                    type = input.ReadEnum();
                    break;
                case 2 when WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited:
                    command = input.ReadBytes();
                    break;
                case 3 when WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited:
                    path.Add(input.ReadString());
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }
        // DescriptorType: 1 = PATH, 2 = CMD.
        return type == 1 ? FlightDescriptor.CreatePathDescriptor([.. path]) : FlightDescriptor.CreateCommandDescriptor(command.ToByteArray());
    }

    private ulong ReadVarint(ref SequenceReader<byte> reader)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (!reader.TryRead(out var b))
            {
                break;
            }
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
        throw Malformed();
    }

    private void Skip(ref SequenceReader<byte> reader, int count)
    {
        if (reader.Remaining < count)
        {
            throw Malformed();
        }
        reader.Advance(count);
    }

    private LakehouseException Malformed() => LakehouseException.Invalid(
        $"the DoPut request is not a valid Flight message: gRPC message {Messages} does not parse as protobuf arrow.flight.protocol.FlightData; send it with a Flight client (e.g. pyarrow.flight)");

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // The framework completes the request body itself; only the message we hold is let go.
            _body = default;
            if (_holding)
            {
                _holding = false;
                body.AdvanceTo(_messageEnd);
            }
        }
        base.Dispose(disposing);
    }
}

/// <summary>Reads the one field of an IPC Message flatbuffer the stream needs, with every offset checked.</summary>
internal static class IpcMessageHeader
{
    /// <summary>Message.bodyLength (field 3, a long; 0 when absent); throws InvalidArgument when the bytes are not a Message table.</summary>
    public static long BodyLength(ReadOnlySpan<byte> message)
    {
        const int Field = 4 + (2 * 3);
        if (message.Length < 8)
        {
            throw NotAMessage();
        }
        var table = BinaryPrimitives.ReadUInt32LittleEndian(message);
        if (table > (uint)message.Length - 4)
        {
            throw NotAMessage();
        }
        var vtable = (long)table - BinaryPrimitives.ReadInt32LittleEndian(message[(int)table..]);
        if (vtable < 0 || vtable > message.Length - 4)
        {
            throw NotAMessage();
        }
        var vtableSize = BinaryPrimitives.ReadUInt16LittleEndian(message[(int)vtable..]);
        if (Field + 2 > vtableSize || vtable + Field + 2 > message.Length)
        {
            return 0;
        }
        var offset = BinaryPrimitives.ReadUInt16LittleEndian(message[(int)(vtable + Field)..]);
        if (offset == 0)
        {
            return 0;
        }
        if (table + offset + 8L > message.Length)
        {
            throw NotAMessage();
        }
        return BinaryPrimitives.ReadInt64LittleEndian(message[(int)(table + offset)..]);
    }

    private static LakehouseException NotAMessage() => LakehouseException.Invalid(
        "a DoPut data_header is not an Arrow IPC Message flatbuffer; send the stream with a Flight client (e.g. pyarrow.flight)");
}
