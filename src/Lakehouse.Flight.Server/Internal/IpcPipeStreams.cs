using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Google.Protobuf;

namespace Lakehouse.Flight.Server.Internal;

/// <summary>
/// Where <see cref="ArrowStreamWriter"/> serialises for the response pipes: writes go straight into the
/// pipe's memory (one copy, from the cached Arrow buffers), nothing is flushed until the caller says so.
/// <c>PipeWriter.AsStream()</c> is not used because its Write flushes on every call, which ArrowStreamWriter
/// makes once per buffer. Bytes go in through <see cref="Put"/>, in pieces of up to <see cref="WriteChunkBytes"/>
/// (decisions D33).
/// </summary>
internal class PipeBodyStream(PipeWriter pipe) : Stream
{
    protected PipeWriter Pipe { get; } = pipe;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <summary>
    /// The memory taken from the pipe at a time, filled by as many writes as fit before it is committed. Kestrel's
    /// pipes hand out its pool's 4 KiB blocks unless asked for more, and every commit (Advance) costs a round of the
    /// response's bookkeeping: on HTTP/2 a GetSpan and an Advance, each under the stream's lock, which Kestrel's frame
    /// writer takes too; on HTTP/1.1 a chunk of its own (the IPC writer writes once per column buffer, so chunks of a
    /// few hundred bytes to 4,089). Asked for 64 KiB, the pipe takes a pooled array that large.
    /// </summary>
    internal const int WriteChunkBytes = 64 * 1024;

    private Memory<byte> _open;
    private int _filled;

    public override void Write(ReadOnlySpan<byte> buffer) => Put(buffer);

    /// <summary>Copies into the pipe's memory, <see cref="WriteChunkBytes"/> taken and committed at a time.</summary>
    protected void Put(ReadOnlySpan<byte> source)
    {
        while (!source.IsEmpty)
        {
            if (_filled == _open.Length)
            {
                Commit();
                _open = Pipe.GetMemory(WriteChunkBytes);
            }
            var n = Math.Min(_open.Length - _filled, source.Length);
            source[..n].CopyTo(_open.Span[_filled..]);
            _filled += n;
            source = source[n..];
        }
    }

    /// <summary>Hands the bytes put so far to the pipe (not yet to the transport: see <see cref="SendAsync"/>).</summary>
    private void Commit()
    {
        if (_filled > 0)
        {
            Pipe.Advance(_filled);
        }
        _open = default;
        _filled = 0;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Write(buffer.AsSpan(offset, count));
        return Task.CompletedTask;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    /// <summary>Hands what was written to the transport; false when the client is gone.</summary>
    public async ValueTask<bool> SendAsync(CancellationToken cancellationToken)
    {
        Commit();
        var flushed = await Pipe.FlushAsync(cancellationToken).ConfigureAwait(false);
        return !flushed.IsCanceled && !flushed.IsCompleted;
    }

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>IPC options for a compression codec (null: uncompressed); the codec factory is Apache.Arrow.Compression's.</summary>
    public static IpcOptions Options(CompressionCodecType? compression) => compression is null
        ? new IpcOptions()
        : new IpcOptions { CompressionCodec = compression, CompressionCodecFactory = CodecFactory };

    private static readonly Apache.Arrow.Compression.CompressionCodecFactory CodecFactory = new();
}

/// <summary>
/// Turns the IPC stream <see cref="ArrowStreamWriter"/> produces into gRPC-framed FlightData messages as
/// it is written: the message's metadata (small) is held until complete, its flatbuffer says how long
/// the body is, so the gRPC length prefix and the FlightData tags are written first and the body buffers
/// then pass straight through into the pipe, with no intermediate buffer for the body.
/// </summary>
internal sealed class FlightDataPipeStream(PipeWriter pipe) : PipeBodyStream(pipe)
{
    // FlightData field tags: data_header = 2, data_body = 1000 (both length-delimited).
    private const byte DataHeaderTag = (2 << 3) | 2;
    private static readonly byte[] DataBodyTag = [0xC2, 0x3E];

    private readonly ArrayBufferWriter<byte> _metadata = new(1024);
    private int _metadataLength = -1;
    private long _bodyLeft;

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            if (_bodyLeft > 0)
            {
                var n = (int)Math.Min(_bodyLeft, buffer.Length);
                Put(buffer[..n]);
                _bodyLeft -= n;
                buffer = buffer[n..];
                continue;
            }
            // Prefix (continuation + metadata length), then the metadata, gathered in _metadata.
            var want = _metadataLength < 0 ? 8 - _metadata.WrittenCount : 8 + _metadataLength - _metadata.WrittenCount;
            var take = Math.Min(want, buffer.Length);
            _metadata.Write(buffer[..take]);
            buffer = buffer[take..];
            if (take < want)
            {
                break;
            }
            if (_metadataLength < 0)
            {
                var head = _metadata.WrittenSpan;
                if (BinaryPrimitives.ReadUInt32LittleEndian(head) != 0xFFFFFFFF)
                {
                    throw new InvalidOperationException("the IPC writer produced a message without the continuation marker");
                }
                _metadataLength = BinaryPrimitives.ReadInt32LittleEndian(head[4..]);
                if (_metadataLength > 0)
                {
                    continue;
                }
                // End-of-stream marker: nothing to send on Flight.
                Reset();
                continue;
            }
            var metadata = _metadata.WrittenSpan[8..];
            var bodyLength = BodyLengthOf(metadata);
            WriteFrameHead(metadata, bodyLength);
            _bodyLeft = bodyLength;
            Reset();
        }
    }

    private void Reset()
    {
        _metadata.ResetWrittenCount();
        _metadataLength = -1;
    }

    private void WriteFrameHead(ReadOnlySpan<byte> metadata, long bodyLength)
    {
        var protoLength = 1 + CodedOutputStream.ComputeLengthSize(metadata.Length) + metadata.Length
            + (bodyLength > 0 ? DataBodyTag.Length + CodedOutputStream.ComputeLengthSize((int)bodyLength) + bodyLength : 0);
        Span<byte> head = stackalloc byte[5 + 1 + 5 + 2 + 5];
        head[0] = 0;
        BinaryPrimitives.WriteInt32BigEndian(head[1..], checked((int)protoLength));
        var n = 5;
        head[n++] = DataHeaderTag;
        n += WriteVarint(head[n..], (uint)metadata.Length);
        Put(head[..n]);
        Put(metadata);
        if (bodyLength > 0)
        {
            DataBodyTag.CopyTo(head);
            Put(head[..(2 + WriteVarint(head[2..], checked((uint)bodyLength)))]);
        }
    }

    /// <summary>Message.bodyLength (field 3, a long) of an IPC Message flatbuffer; 0 when absent.</summary>
    internal static long BodyLengthOf(ReadOnlySpan<byte> message)
    {
        var table = (int)BinaryPrimitives.ReadUInt32LittleEndian(message);
        var vtable = table - BinaryPrimitives.ReadInt32LittleEndian(message[table..]);
        var vtableSize = BinaryPrimitives.ReadUInt16LittleEndian(message[vtable..]);
        const int Field = 4 + (2 * 3);
        if (Field + 2 > vtableSize)
        {
            return 0;
        }
        var offset = BinaryPrimitives.ReadUInt16LittleEndian(message[(vtable + Field)..]);
        return offset == 0 ? 0 : BinaryPrimitives.ReadInt64LittleEndian(message[(table + offset)..]);
    }

    internal static int WriteVarint(Span<byte> into, uint value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            into[i++] = (byte)(value | 0x80);
            value >>= 7;
        }
        into[i++] = (byte)value;
        return i;
    }
}

/// <summary>A DoGet sink serialising each batch with <see cref="ArrowStreamWriter"/> into a pipe stream, flushed once per message.</summary>
internal sealed class IpcPipeSink(PipeBodyStream stream, CompressionCodecType? compression, bool writeEnd) : IDoGetSink, IDisposable
{
    private ArrowStreamWriter? _writer;

    public ValueTask<bool> StartAsync(Schema schema, CancellationToken cancellationToken)
    {
        _writer = new ArrowStreamWriter(stream, schema, leaveOpen: true, PipeBodyStream.Options(compression));
        _writer.WriteStart();
        return stream.SendAsync(cancellationToken);
    }

    public ValueTask<bool> WriteAsync(RecordBatch batch, CancellationToken cancellationToken)
    {
        _writer!.WriteRecordBatch(batch);
        return stream.SendAsync(cancellationToken);
    }

    /// <summary>The IPC end-of-stream marker (HTTP); Flight ends with the gRPC trailers instead.</summary>
    public ValueTask<bool> EndAsync(CancellationToken cancellationToken)
    {
        if (writeEnd)
        {
            _writer!.WriteEnd();
        }
        return stream.SendAsync(cancellationToken);
    }

    public void Dispose() => _writer?.Dispose();
}
