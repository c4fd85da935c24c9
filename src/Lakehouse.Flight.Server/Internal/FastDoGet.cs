using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Lakehouse.Flight.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Server.Internal;

/// <summary>
/// DoGet served below the gRPC framework: each IPC message is serialized straight into the HTTP/2
/// response pipe, framed as a FlightData message as it is written (<see cref="FlightDataPipeStream"/>);
/// a ticket's <c>"compression": "lz4" | "zstd"</c> compresses the bodies. The stock Flight writer
/// copies every batch twice more (into a ByteString, then into the gRPC message), which makes the
/// C# server several times slower than the wire. Same contract as the gRPC DoGet: auth, slicing,
/// cancellation, statuses in trailers.
/// </summary>
internal sealed class FastDoGet(DoGetStreamer streamer, TokenService tokens, FlightMetrics metrics, Sql.FlightSqlService sql, ILogger<FastDoGet> logger)
{
    public const string Path = "/arrow.flight.protocol.FlightService/DoGet";

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
            if (sql.TryUnpack(ticket) is { } sqlTicket)
            {
                using var sqlSink = new IpcPipeSink(new FlightDataPipeStream(response.BodyWriter), null, writeEnd: false);
                await sql.DoGetAsync(sqlTicket, ticket, sqlSink, ct).ConfigureAwait(false);
            }
            else
            {
                var (query, compression) = QueryCodec.ParseTicket(ticket);
                using var sink = new IpcPipeSink(new FlightDataPipeStream(response.BodyWriter), compression, writeEnd: false);
                await streamer.StreamAsync(query, sink, ct).ConfigureAwait(false);
            }
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
        catch (MalformedRequestException ex)
        {
            // FlightRequestGuard logged it.
            Fail(response, ex.StatusCode, ex.Status.Detail);
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
                // FlightRequestGuard checked the flag byte, the size and the protobuf before this reads them.
                if (prefix[0] != 0)
                {
                    throw new RpcException(new Status(StatusCode.Unimplemented, "compressed (grpc-encoding) DoGet requests are not supported: send the ticket uncompressed"));
                }
                var length = BinaryPrimitives.ReadInt32BigEndian(prefix.AsSpan(1));
                if (length > FlightRequestGuard.MaxCommandBytes + 1024)
                {
                    throw FlightRequestGuard.CommandTooLarge("DoGet request", length);
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
                if (ticket.Length > FlightRequestGuard.MaxCommandBytes)
                {
                    throw FlightRequestGuard.CommandTooLarge("DoGet ticket", ticket.Length);
                }
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
