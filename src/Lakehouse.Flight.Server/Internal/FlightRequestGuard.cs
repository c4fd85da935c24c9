using System.Globalization;
using System.IO.Pipelines;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Server.Internal;

/// <summary>
/// Middleware in front of every Flight method (the stock gRPC endpoints and FastDoGet): the request body
/// is read through a <see cref="GrpcRequestReader"/>, so client garbage (a body that is not the method's
/// protobuf message, a bad compressed-flag byte, a message over the size cap) is answered
/// InvalidArgument or ResourceExhausted with a message that says what was wrong, and logged as one
/// warning line. A gRPC interceptor cannot do this: the framework deserialises a unary request before
/// any interceptor runs, and maps its failures to Unknown.
/// </summary>
internal sealed class FlightRequestGuard
{
    /// <summary>The one cap on a descriptor command (GetFlightInfo, GetSchema, PollFlightInfo) and a ticket (DoGet).</summary>
    public const int MaxCommandBytes = 1 << 20;

    private const string Prefix = "/arrow.flight.protocol.FlightService/";
    private const string ClientHint = "send it with a Flight client (e.g. pyarrow.flight)";

    /// <summary>What a method's request messages are and how large one may be.</summary>
    /// <param name="Method">The Flight method name.</param>
    /// <param name="Shape">Its request message.</param>
    /// <param name="MaxMessageBytes">The largest request message accepted.</param>
    /// <param name="Upload">Messages carry record batches: an oversized one is ResourceExhausted with batch-size advice.</param>
    /// <param name="Command">Messages carry a command or ticket: an oversized one is InvalidArgument naming the command cap.</param>
    internal sealed record Rule(string Method, FlightMessageShape Shape, long MaxMessageBytes, bool Upload, bool Command);

    private readonly Dictionary<string, Rule> _rules;
    private readonly long _maxReceive;
    private readonly ILogger<FlightRequestGuard> _logger;

    public FlightRequestGuard(LakehouseServerOptions options, ILogger<FlightRequestGuard> logger)
    {
        _maxReceive = options.MaxReceiveMessageBytes;
        _logger = logger;
        // A command message is the command plus a few bytes of protobuf framing; the command itself is checked after parsing.
        long command = MaxCommandBytes + 1024;
        Rule[] rules =
        [
            new("Handshake", FlightMessageShape.HandshakeRequest, _maxReceive, Upload: false, Command: false),
            new("ListFlights", FlightMessageShape.Criteria, _maxReceive, Upload: false, Command: false),
            new("GetFlightInfo", FlightMessageShape.FlightDescriptor, command, Upload: false, Command: true),
            new("PollFlightInfo", FlightMessageShape.FlightDescriptor, command, Upload: false, Command: true),
            new("GetSchema", FlightMessageShape.FlightDescriptor, command, Upload: false, Command: true),
            new("DoGet", FlightMessageShape.Ticket, command, Upload: false, Command: true),
            new("DoPut", FlightMessageShape.FlightData, _maxReceive, Upload: true, Command: false),
            new("DoExchange", FlightMessageShape.FlightData, _maxReceive, Upload: true, Command: false),
            new("DoAction", FlightMessageShape.Action, _maxReceive, Upload: false, Command: false),
            new("ListActions", FlightMessageShape.Empty, _maxReceive, Upload: false, Command: false),
        ];
        _rules = rules.ToDictionary(r => Prefix + r.Method, StringComparer.Ordinal);
    }

    public Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (context.Request.Path.Value is { } path && _rules.TryGetValue(path, out var rule)
            && context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true)
        {
            var encoding = context.Request.Headers["grpc-encoding"].ToString();
            var compressed = encoding.Length > 0 && !string.Equals(encoding, "identity", StringComparison.OrdinalIgnoreCase);
            var reader = new GrpcRequestReader(context.Request.BodyReader, rule, compressed, this);
            context.Features.Set<IRequestBodyPipeFeature>(new BodyFeature(reader));
        }
        return next(context);
    }

    /// <summary>The refusal of a descriptor command or ticket over <see cref="MaxCommandBytes"/> (the same words for every method).</summary>
    public static Exception CommandTooLarge(string what, long bytes) => Core.LakehouseException.Invalid(
        $"the {what} is {bytes.ToString("N0", CultureInfo.InvariantCulture)} bytes, over the 1 MiB limit for descriptor commands and tickets: " +
        "a query names symbols, dates and columns; split a very long symbol list into several queries");

    internal RpcException NotAMessage(Rule rule, int message) => Refuse(rule, StatusCode.InvalidArgument,
        $"the {rule.Method} request is not a valid Flight message: gRPC message {message} does not parse as protobuf {rule.Shape.Name}; {ClientHint}");

    internal RpcException BadCompressedFlag(Rule rule, int message, byte flag) => Refuse(rule, StatusCode.InvalidArgument,
        $"the {rule.Method} request is not a valid Flight message: gRPC message {message} has compressed-flag byte 0x{flag:X2} " +
        $"(0 = not compressed; 1 = compressed, with a grpc-encoding header); {ClientHint}");

    internal RpcException Truncated(Rule rule, int message) => Refuse(rule, StatusCode.InvalidArgument,
        $"the {rule.Method} request is not a valid Flight message: the body ends inside gRPC message {message}; {ClientHint}");

    internal RpcException TooLarge(Rule rule, long bytes)
    {
        if (rule.Command)
        {
            var refusal = (Core.LakehouseException)CommandTooLarge($"{rule.Method} request", bytes);
            return Refuse(rule, StatusCode.InvalidArgument, refusal.Message);
        }
        var advice = rule.Upload
            ? ": send smaller record batches, e.g. in pyarrow writer.write_table(table, max_chunksize=100_000) or write_batch of fewer rows"
            : "";
        return Refuse(rule, StatusCode.ResourceExhausted,
            $"a {rule.Method} message of {MiB(bytes)} is over the server's limit of {MiB(_maxReceive)} per message (Lakehouse:MaxReceiveMessageBytes){advice}");
    }

    private static string MiB(long bytes) => (bytes / (double)(1 << 20)).ToString("0.#", CultureInfo.InvariantCulture) + " MiB";

    private MalformedRequestException Refuse(Rule rule, StatusCode code, string message)
    {
        // Client garbage: one warning line, no stack trace.
        ServerLog.Refused(_logger, rule.Method, message);
        return new MalformedRequestException(new Status(code, message));
    }

    private sealed class BodyFeature(PipeReader reader) : IRequestBodyPipeFeature
    {
        public PipeReader Reader => reader;
    }
}

/// <summary>A request refused by <see cref="FlightRequestGuard"/>; already logged, passed to the client as it is.</summary>
internal sealed class MalformedRequestException(Status status) : RpcException(status);
