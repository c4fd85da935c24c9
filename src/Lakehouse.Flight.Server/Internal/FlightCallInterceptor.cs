using Grpc.Core;
using Grpc.Core.Interceptors;
using Lakehouse.Flight.Core;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Server.Internal;

/// <summary>
/// Runs around every Flight call: authenticates (all but Handshake), then maps errors to statuses a
/// client can act on. Nothing leaves as Unknown: unexpected exceptions become Internal.
/// </summary>
internal sealed class FlightCallInterceptor : Interceptor
{
    public const string CallerKey = "lakehouse.caller";

    private readonly TokenService _tokens;
    private readonly ILogger<FlightCallInterceptor> _logger;

    public FlightCallInterceptor(TokenService tokens, ILogger<FlightCallInterceptor> logger)
    {
        _tokens = tokens;
        _logger = logger;
    }

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

    /// <summary>Refuses a reader where a writer is needed.</summary>
    public static void RequireWriter(ServerCallContext context, string what)
    {
        var caller = CallerOf(context);
        if (caller.Role != Role.Writer)
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied,
                $"{what} needs the writer role; '{caller.Name}' is a {caller.Role.ToString().ToLowerInvariant()}"));
        }
    }

    private async Task<T> Guard<T>(ServerCallContext context, Func<Task<T>> call)
    {
        var method = MethodName(context.Method);
        try
        {
            Authenticate(context, method);
            return await call().ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            if (ex.StatusCode is StatusCode.Unknown)
            {
                throw new RpcException(new Status(StatusCode.Internal, ex.Status.Detail));
            }
            ServerLog.Refused(_logger, method, ex.Status.Detail);
            throw;
        }
        catch (LakehouseException ex)
        {
            ServerLog.Refused(_logger, method, ex.Message);
            throw new RpcException(new Status(ToStatus(ex.Kind), ex.Message));
        }
        catch (Exception ex) when (context.CancellationToken.IsCancellationRequested && ex is not RpcException)
        {
            // A client that goes away surfaces as an aborted write (IOException, InvalidOperationException), not only as OCE.
            ServerLog.Cancelled(_logger, method);
            throw new RpcException(new Status(StatusCode.Cancelled, "the call was cancelled"));
        }
        catch (NotImplementedException ex)
        {
            throw new RpcException(new Status(StatusCode.Unimplemented, $"{method} is not served: {ex.Message}"));
        }
        catch (Exception ex)
        {
            ServerLog.Failed(_logger, ex, method);
            throw new RpcException(new Status(StatusCode.Internal, $"{method} failed on the server: {ex.GetType().Name}: {ex.Message}"));
        }
    }

    private void Authenticate(ServerCallContext context, string method)
    {
        if (!_tokens.Enabled || method == "Handshake")
        {
            return;
        }
        var header = context.RequestHeaders.GetValue("authorization");
        if (header is null)
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated,
                "no credentials: call Handshake with Basic user:password, then send 'authorization: Bearer <token>'"));
        }
        var caller = _tokens.Resolve(header)
            ?? _tokens.CheckBasicHeader(header)
            ?? throw new RpcException(new Status(StatusCode.Unauthenticated, "invalid or expired credentials: authenticate again"));
        context.UserState[CallerKey] = caller;
    }

    internal static StatusCode ToStatus(LakehouseErrorKind kind) => kind switch
    {
        LakehouseErrorKind.InvalidArgument => StatusCode.InvalidArgument,
        LakehouseErrorKind.NotFound => StatusCode.NotFound,
        LakehouseErrorKind.Conflict => StatusCode.Aborted,
        LakehouseErrorKind.Unavailable => StatusCode.Unavailable,
        _ => StatusCode.Internal,
    };

    private static string MethodName(string method)
    {
        var slash = method.LastIndexOf('/');
        return slash >= 0 ? method[(slash + 1)..] : method;
    }
}
