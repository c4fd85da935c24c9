using System.Text;
using Apache.Arrow.Flight;
using Google.Protobuf;
using Grpc.Core;

namespace Lakehouse.Flight.Server.Internal;

internal sealed partial class LakehouseFlightService
{
    /// <summary>
    /// Basic <c>user:password</c> (in the <c>authorization</c> header, as pyarrow's
    /// <c>authenticate_basic_token</c> sends it, or as the payload <c>user:password</c>) answered with
    /// <c>authorization: Bearer &lt;token&gt;</c> in the response headers (and, to a payload handshake, the token as payload).
    /// </summary>
    public override async Task Handshake(IAsyncStreamReader<FlightHandshakeRequest> requestStream,
        IAsyncStreamWriter<FlightHandshakeResponse> responseStream, ServerCallContext context)
    {
        var header = context.RequestHeaders.GetValue("authorization");
        string? payload = null;
        // pyarrow closes its side before reading, so draining the requests cannot block.
        while (await requestStream.MoveNext(context.CancellationToken).ConfigureAwait(false))
        {
            if (!requestStream.Current.Payload.IsEmpty)
            {
                payload ??= requestStream.Current.Payload.ToStringUtf8();
            }
        }
        Caller? caller;
        if (!_tokens.Enabled)
        {
            caller = Caller.Anonymous;
        }
        else
        {
            caller = _tokens.CheckBasicHeader(header) ?? _tokens.Resolve(header);
            if (caller is null && payload is { } p && p.IndexOf(':', StringComparison.Ordinal) is > 0 and var colon)
            {
                caller = _tokens.CheckPassword(p[..colon], p[(colon + 1)..]);
            }
            if (caller is null)
            {
                throw new RpcException(new Status(StatusCode.Unauthenticated,
                    header is null && payload is null
                        ? "Handshake needs 'authorization: Basic base64(user:password)'"
                        : "unknown user or wrong password"));
            }
        }
        var token = _tokens.Enabled ? _tokens.Issue(caller) : "anonymous";
        ServerLog.Authenticated(_logger, caller.Name, caller.Role);
        await context.WriteResponseHeadersAsync(new Metadata { { "authorization", "Bearer " + token } }).ConfigureAwait(false);
        if (payload is not null)
        {
            // Only a payload handshake gets a payload back: pyarrow's authenticate_basic_token calls Finish()
            // without reading, and gRPC C++ may wait on an unread message.
            await responseStream.WriteAsync(new FlightHandshakeResponse(ByteString.CopyFrom(Encoding.UTF8.GetBytes(token)), 0)).ConfigureAwait(false);
        }
    }
}
