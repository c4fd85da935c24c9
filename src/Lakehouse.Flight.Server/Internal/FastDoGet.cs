using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Text;
using Apache.Arrow.Ipc;
using Google.Protobuf;
using Grpc.Core;
using Lakehouse.Flight.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Server.Internal;

/// <summary>
/// DoGet served below the gRPC framework: each IPC message is serialized once into a reused buffer
/// and framed straight into the HTTP/2 response as a FlightData message. The stock Flight writer
/// copies every batch twice more (into a ByteString, then into the gRPC message), which makes the
/// C# server several times slower than the wire. Same contract as the gRPC DoGet: auth, slicing,
/// cancellation, statuses in trailers.
/// </summary>
internal sealed class FastDoGet(DoGetStreamer streamer, TokenService tokens, FlightMetrics metrics, ILogger<FastDoGet> logger)
{
    public const string Path = "/arrow.flight.protocol.FlightService/DoGet";

    // FlightData field tags: data_header = 2, data_body = 1000 (both length-delimited).
    private const byte DataHeaderTag = (2 << 3) | 2;
    private static readonly byte[] DataBodyTag = [0xC2, 0x3E];

    public async Task InvokeAsync(HttpContext context)
    {
        var response = context.Response;
        if (!context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) ?? true)
        {
            // Not a gRPC request (a browser, curl without the headers): say what this endpoint speaks.
            response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            response.ContentType = "text/plain; charset=utf-8";
            await response.WriteAsync("This is the Arrow Flight DoGet method: it speaks gRPC over HTTP/2 (content-type application/grpc). Use a Flight client, e.g. pyarrow.flight.connect(\"grpc://host:port\").do_get(ticket).\n", context.RequestAborted).ConfigureAwait(false);
            return;
        }
        metrics.FastStreamStarted();
        response.ContentType = "application/grpc";
        using var deadline = DeadlineOf(context.Request.Headers["grpc-timeout"].ToString(), context.RequestAborted);
        var ct = deadline.Token;
        try
        {
            tokens.Authenticate(context.Request.Headers.Authorization.ToString());
            var ticket = await ReadTicketAsync(context.Request.BodyReader, ct).ConfigureAwait(false);
            await streamer.StreamAsync(QueryCodec.ParseQuery(ticket), new Sink(response.BodyWriter), ct).ConfigureAwait(false);
            response.AppendTrailer("grpc-status", "0");
        }
        catch (Exception) when (ct.IsCancellationRequested && !context.RequestAborted.IsCancellationRequested)
        {
            // The client's grpc-timeout passed: it is still there to read the status.
            ServerLog.Refused(logger, "DoGet", "deadline exceeded");
            Fail(response, StatusCode.DeadlineExceeded, "the call's deadline (grpc-timeout) passed before the stream ended");
        }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
        {
            ServerLog.Cancelled(logger, "DoGet");
        }
        catch (Exception ex)
        {
            var status = ErrorMapper.ToStatus(ex, "DoGet", cancelled: false, out var expected);
            if (expected)
            {
                ServerLog.Refused(logger, "DoGet", status.Detail);
            }
            else
            {
                ServerLog.Failed(logger, ex, "DoGet");
            }
            Fail(response, status.StatusCode, status.Detail);
        }
    }

    /// <summary>The request's token, cancelled also when the gRPC deadline (<c>grpc-timeout: 100m</c>, <c>5S</c>...) passes.</summary>
    private static CancellationTokenSource DeadlineOf(string header, CancellationToken aborted)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        if (header.Length is >= 2 and <= 9 && long.TryParse(header.AsSpan(0, header.Length - 1), System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out var amount))
        {
            var timeout = header[^1] switch
            {
                'H' => TimeSpan.FromHours(amount),
                'M' => TimeSpan.FromMinutes(amount),
                'S' => TimeSpan.FromSeconds(amount),
                'm' => TimeSpan.FromMilliseconds(amount),
                'u' => TimeSpan.FromMicroseconds(amount),
                'n' => TimeSpan.FromTicks(Math.Max(1, amount / 100)),
                _ => Timeout.InfiniteTimeSpan,
            };
            if (timeout != Timeout.InfiniteTimeSpan)
            {
                cts.CancelAfter(timeout);
            }
        }
        return cts;
    }

    /// <summary>Serialises each IPC message once into a reused buffer and frames it straight into the response pipe.</summary>
    private sealed class Sink(PipeWriter pipe) : IDoGetSink
    {
        private readonly MemoryStream _buffer = new(1 << 20);
        private ArrowStreamWriter? _writer;

        public ValueTask<bool> StartAsync(Apache.Arrow.Schema schema, CancellationToken cancellationToken)
        {
            _writer = new ArrowStreamWriter(_buffer, schema, leaveOpen: true);
            _writer.WriteStart();
            return SendAsync(pipe, _buffer, cancellationToken);
        }

        public ValueTask<bool> WriteAsync(Apache.Arrow.RecordBatch batch, CancellationToken cancellationToken)
        {
            _writer!.WriteRecordBatch(batch);
            return SendAsync(pipe, _buffer, cancellationToken);
        }
    }

    /// <summary>
    /// Frames the IPC message in <paramref name="buffer"/> (continuation, metadata length, metadata,
    /// body) as one gRPC FlightData message, then empties the buffer. False when the client is gone.
    /// </summary>
    private static async ValueTask<bool> SendAsync(PipeWriter pipe, MemoryStream buffer, CancellationToken ct)
    {
        var bytes = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        var metadataLength = BinaryPrimitives.ReadInt32LittleEndian(bytes.Span[4..]);
        var metadata = bytes.Slice(8, metadataLength);
        var body = bytes[(8 + metadataLength)..];
        var protoLength = 1 + CodedOutputStream.ComputeLengthSize(metadata.Length) + metadata.Length
            + (body.Length > 0 ? DataBodyTag.Length + CodedOutputStream.ComputeLengthSize(body.Length) + body.Length : 0);

        var head = pipe.GetSpan(5 + 1 + 5 + 2 + 5);
        head[0] = 0;
        BinaryPrimitives.WriteInt32BigEndian(head[1..], protoLength);
        var n = 5;
        head[n++] = DataHeaderTag;
        n += WriteVarint(head[n..], (uint)metadata.Length);
        pipe.Advance(n);
        pipe.Write(metadata.Span);
        if (body.Length > 0)
        {
            var tag = pipe.GetSpan(2 + 5);
            DataBodyTag.CopyTo(tag);
            var m = 2 + WriteVarint(tag[2..], (uint)body.Length);
            pipe.Advance(m);
            pipe.Write(body.Span);
        }
        buffer.SetLength(0);
        var flushed = await pipe.FlushAsync(ct).ConfigureAwait(false);
        return !flushed.IsCanceled && !flushed.IsCompleted;
    }

    private static int WriteVarint(Span<byte> into, uint value)
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

    /// <summary>The ticket bytes of the request's single gRPC message (a Flight Ticket, field 1).</summary>
    private static async Task<byte[]> ReadTicketAsync(PipeReader reader, CancellationToken ct)
    {
        var prefix = new byte[5];
        while (true)
        {
            var result = await reader.ReadAsync(ct).ConfigureAwait(false);
            var data = result.Buffer;
            if (data.Length >= 5)
            {
                data.Slice(0, 5).CopyTo(prefix);
                if (prefix[0] != 0)
                {
                    throw new RpcException(new Status(StatusCode.Unimplemented, "compressed requests are not supported"));
                }
                var length = BinaryPrimitives.ReadInt32BigEndian(prefix.AsSpan(1));
                if (length > 1 << 20)
                {
                    throw LakehouseException.Invalid("the ticket is larger than 1 MiB");
                }
                if (data.Length >= 5 + length)
                {
                    var message = data.Slice(5, length).ToArray();
                    reader.AdvanceTo(data.End);
                    return ParseTicket(message);
                }
            }
            if (result.IsCompleted)
            {
                throw LakehouseException.Invalid("the DoGet request carries no ticket");
            }
            reader.AdvanceTo(data.Start, data.End);
        }
    }

    private static byte[] ParseTicket(byte[] message)
    {
        var input = new CodedInputStream(message);
        var ticket = Array.Empty<byte>();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (tag == 10)
            {
                ticket = input.ReadBytes().ToByteArray();
            }
            else
            {
                input.SkipLastField();
            }
        }
        return ticket;
    }

    private static void Fail(HttpResponse response, StatusCode code, string message)
    {
        response.AppendTrailer("grpc-status", ((int)code).ToString(System.Globalization.CultureInfo.InvariantCulture));
        response.AppendTrailer("grpc-message", PercentEncode(message));
    }

    /// <summary>grpc-message is percent-encoded UTF-8 (gRPC HTTP/2 protocol spec).</summary>
    private static string PercentEncode(string message)
    {
        var sb = new StringBuilder(message.Length);
        foreach (var b in Encoding.UTF8.GetBytes(message))
        {
            if (b is >= 0x20 and <= 0x7E and not (byte)'%')
            {
                sb.Append((char)b);
            }
            else
            {
                sb.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        return sb.ToString();
    }
}
