using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Grpc.Core;

namespace Lakehouse.Flight.Server.Internal;

/// <summary>
/// The request body of a Flight call as the gRPC framework (or FastDoGet) reads it, handing out only
/// whole gRPC messages that were checked first: the compressed-flag byte, the size against the method's
/// cap, and the body against the method's protobuf message (<see cref="FlightMessageShape"/>). gRPC's own
/// reader turns these failures into Unknown ("Exception was thrown by handler.") or Internal with a stack
/// trace in the log; here they become the statuses <see cref="FlightRequestGuard"/> builds, thrown from
/// <see cref="ReadAsync"/>, which the framework passes on to the client as they are.
/// </summary>
internal sealed class GrpcRequestReader(PipeReader inner, FlightRequestGuard.Rule rule, bool compressedAllowed, FlightRequestGuard guard) : PipeReader
{
    private const int HeaderSize = 5;

    private ReadOnlySequence<byte> _buffer;
    private long _checked;
    private int _messages;
    private RpcException? _failure;

    /// <summary>The refusal already sent to the client's side of the call, if any.</summary>
    public RpcException? Failure => _failure;

    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (_failure is not null)
        {
            throw _failure;
        }
        while (true)
        {
            var result = await inner.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (Expose(result, out var exposed))
            {
                return exposed;
            }
            // Nothing whole yet: wait for more bytes.
            inner.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    public override bool TryRead(out ReadResult result)
    {
        if (_failure is not null)
        {
            throw _failure;
        }
        if (inner.TryRead(out var read))
        {
            if (Expose(read, out result))
            {
                return true;
            }
            inner.AdvanceTo(read.Buffer.Start);
        }
        result = default;
        return false;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        var exposed = _buffer.Slice(0, _checked);
        _checked -= exposed.Slice(0, consumed).Length;
        // Examining all we handed out also examined the partial message behind it: let the inner reader wait for more.
        var examinedAll = exposed.Slice(examined).Length == 0;
        inner.AdvanceTo(consumed, examinedAll ? _buffer.End : examined);
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    private bool Expose(ReadResult result, out ReadResult exposed)
    {
        var buffer = result.Buffer;
        try
        {
            _checked = Check(buffer, _checked, result.IsCompleted);
        }
        catch (RpcException ex)
        {
            inner.AdvanceTo(buffer.Start);
            _failure = ex;
            throw;
        }
        if (_checked > 0 || result.IsCompleted || result.IsCanceled)
        {
            _buffer = buffer;
            exposed = new ReadResult(buffer.Slice(0, _checked), result.IsCanceled, result.IsCompleted);
            return true;
        }
        exposed = default;
        return false;
    }

    /// <summary>Checks the messages after the first <paramref name="from"/> bytes; returns how many bytes are whole, checked messages.</summary>
    private long Check(ReadOnlySequence<byte> buffer, long from, bool completed)
    {
        var position = from;
        Span<byte> header = stackalloc byte[HeaderSize];
        while (true)
        {
            var rest = buffer.Slice(position);
            if (rest.Length < HeaderSize)
            {
                return rest.Length > 0 && completed ? throw guard.Truncated(rule, _messages + 1) : position;
            }
            rest.Slice(0, HeaderSize).CopyTo(header);
            var flag = header[0];
            var length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
            if (flag > 1 || (flag == 1 && !compressedAllowed))
            {
                throw guard.BadCompressedFlag(rule, _messages + 1, flag);
            }
            if (length > rule.MaxMessageBytes)
            {
                throw guard.TooLarge(rule, length);
            }
            if (rest.Length < HeaderSize + length)
            {
                return completed ? throw guard.Truncated(rule, _messages + 1) : position;
            }
            // A compressed message is checked by the framework after it decompresses it.
            if (flag == 0 && !rule.Shape.IsValid(rest.Slice(HeaderSize, length)))
            {
                throw guard.NotAMessage(rule, _messages + 1);
            }
            position += HeaderSize + length;
            _messages++;
        }
    }
}
