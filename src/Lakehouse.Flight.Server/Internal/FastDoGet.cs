using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Text;
using Apache.Arrow.Ipc;
using Google.Protobuf;
using Grpc.Core;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Storage;
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
internal sealed class FastDoGet
{
    public const string Path = "/arrow.flight.protocol.FlightService/DoGet";

    // FlightData field tags: data_header = 2, data_body = 1000 (both length-delimited).
    private const byte DataHeaderTag = (2 << 3) | 2;
    private static readonly byte[] DataBodyTag = [0xC2, 0x3E];

    private readonly PriceStore _store;
    private readonly LakehouseServerOptions _options;
    private readonly TokenService _tokens;
    private readonly FlightMetrics _metrics;
    private readonly ILogger<FastDoGet> _logger;

    public FastDoGet(PriceStore store, LakehouseServerOptions options, TokenService tokens, FlightMetrics metrics, ILogger<FastDoGet> logger)
    {
        _store = store;
        _options = options;
        _tokens = tokens;
        _metrics = metrics;
        _logger = logger;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var response = context.Response;
        var ct = context.RequestAborted;
        _metrics.FastStreamStarted();
        response.ContentType = "application/grpc";
        try
        {
            Authenticate(context.Request.Headers.Authorization.ToString());
            var ticket = await ReadTicketAsync(context.Request.BodyReader, ct).ConfigureAwait(false);
            await StreamAsync(QueryCodec.ParseQuery(ticket), response, ct).ConfigureAwait(false);
            response.AppendTrailer("grpc-status", "0");
        }
        catch (Exception) when (ct.IsCancellationRequested)
        {
            ServerLog.Cancelled(_logger, "DoGet");
        }
        catch (LakehouseException ex)
        {
            ServerLog.Refused(_logger, "DoGet", ex.Message);
            Fail(response, FlightCallInterceptor.ToStatus(ex.Kind), ex.Message);
        }
        catch (RpcException ex)
        {
            ServerLog.Refused(_logger, "DoGet", ex.Status.Detail);
            Fail(response, ex.StatusCode, ex.Status.Detail);
        }
        catch (Exception ex)
        {
            ServerLog.Failed(_logger, ex, "DoGet");
            Fail(response, StatusCode.Internal, $"DoGet failed on the server: {ex.GetType().Name}: {ex.Message}");
        }
    }

    private async Task StreamAsync(PriceQuery query, HttpResponse response, CancellationToken ct)
    {
        var schema = PriceStore.SchemaOf(query);
        var maxRows = LakehouseFlightService.RowsPerMessage(schema, _options.MaxSendMessageBytes);
        var sw = Stopwatch.StartNew();
        long rows = 0, messages = 0;
        var pipe = response.BodyWriter;
        _metrics.StreamStarted();
        try
        {
            using var buffer = new MemoryStream(1 << 20);
            using var writer = new ArrowStreamWriter(buffer, schema, leaveOpen: true);
            // The schema goes first, so an empty result is a valid schema-only stream.
            writer.WriteStart();
            if (!await SendAsync(pipe, buffer, ct).ConfigureAwait(false))
            {
                return;
            }
            foreach (var slice in LakehouseFlightService.MessageSlices(_store.Read(query, ct), maxRows, _metrics, ct))
            {
                writer.WriteRecordBatch(slice);
                if (!await SendAsync(pipe, buffer, ct).ConfigureAwait(false))
                {
                    return;
                }
                _metrics.MessageSent();
                rows += slice.Length;
                messages++;
            }
        }
        finally
        {
            _metrics.StreamEnded();
        }
        ServerLog.Served(_logger, query.Symbols.Count, rows, messages, sw.ElapsedMilliseconds);
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

    private void Authenticate(string header)
    {
        if (!_tokens.Enabled)
        {
            return;
        }
        if (string.IsNullOrEmpty(header))
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated,
                "no credentials: call Handshake with Basic user:password, then send 'authorization: Bearer <token>'"));
        }
        _ = _tokens.Resolve(header) ?? _tokens.CheckBasicHeader(header)
            ?? throw new RpcException(new Status(StatusCode.Unauthenticated, "invalid or expired credentials: authenticate again"));
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
