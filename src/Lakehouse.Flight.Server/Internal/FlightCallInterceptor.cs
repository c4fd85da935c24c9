using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Server.Internal;

/// <summary>
/// Runs around every Flight call on the stock gRPC path: authenticates (all but Handshake) with the
/// shared <see cref="TokenService"/>, then maps failures with the shared <see cref="ErrorMapper"/>.
/// </summary>
internal sealed class FlightCallInterceptor(TokenService tokens, ILogger<FlightCallInterceptor> logger) : Interceptor
{
    public const string CallerKey = "lakehouse.caller";

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation) =>
        Guard(context, () => continuation(request, context));

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation) =>
        Guard(context, () => continuation(requestStream, context));

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation) =>
        Guard(context, async () =>
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
            return true;
        });

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        Guard(context, async () =>
        {
            await continuation(requestStream, responseStream, context).ConfigureAwait(false);
            return true;
        });

    /// <summary>The authenticated caller of a call (set by this interceptor).</summary>
    public static Caller CallerOf(ServerCallContext context) =>
        context.UserState.TryGetValue(CallerKey, out var c) && c is Caller caller ? caller : Caller.Anonymous;

    private async Task<T> Guard<T>(ServerCallContext context, Func<Task<T>> call)
    {
        var method = MethodName(context.Method);
        try
        {
            if (method != "Handshake")
            {
                context.UserState[CallerKey] = tokens.Authenticate(context.RequestHeaders.GetValue("authorization"));
            }
            return await call().ConfigureAwait(false);
        }
        catch (MalformedRequestException)
        {
            // FlightRequestGuard logged it and built the status.
            throw;
        }
        catch (Exception ex)
        {
            var status = ErrorMapper.ToStatus(ex, method, context.CancellationToken.IsCancellationRequested, out var expected);
            if (!expected)
            {
                ServerLog.Failed(logger, ex, method);
            }
            else if (status.StatusCode == StatusCode.Cancelled)
            {
                ServerLog.Cancelled(logger, method);
            }
            else
            {
                ServerLog.Refused(logger, method, status.Detail);
            }
            if (ex is RpcException rpc && rpc.Status.StatusCode == status.StatusCode)
            {
                throw;
            }
            throw new RpcException(status);
        }
    }

    private static string MethodName(string method)
    {
        var slash = method.LastIndexOf('/');
        return slash >= 0 ? method[(slash + 1)..] : method;
    }
}
