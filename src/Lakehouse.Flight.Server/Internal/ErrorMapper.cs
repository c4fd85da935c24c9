using Grpc.Core;
using Lakehouse.Flight.Core;
using Microsoft.AspNetCore.Http;

namespace Lakehouse.Flight.Server.Internal;

/// <summary>
/// The one mapping from failures to what a client sees, for every gRPC path (the interceptor and
/// FastDoGet) and the HTTP API: a <see cref="LakehouseException"/> keeps its message and maps its kind;
/// nothing leaves as Unknown.
/// </summary>
internal static class ErrorMapper
{
    public static StatusCode ToStatusCode(LakehouseErrorKind kind) => kind switch
    {
        LakehouseErrorKind.InvalidArgument or LakehouseErrorKind.InvalidData => StatusCode.InvalidArgument,
        LakehouseErrorKind.NotFound => StatusCode.NotFound,
        LakehouseErrorKind.Conflict => StatusCode.Aborted,
        LakehouseErrorKind.Unavailable => StatusCode.Unavailable,
        LakehouseErrorKind.Unauthenticated => StatusCode.Unauthenticated,
        LakehouseErrorKind.PermissionDenied => StatusCode.PermissionDenied,
        LakehouseErrorKind.Unimplemented => StatusCode.Unimplemented,
        LakehouseErrorKind.ResourceExhausted or LakehouseErrorKind.DiskFull => StatusCode.ResourceExhausted,
        LakehouseErrorKind.FailedPrecondition => StatusCode.FailedPrecondition,
        _ => StatusCode.Internal,
    };

    public static int ToHttpStatus(LakehouseErrorKind kind) => kind switch
    {
        LakehouseErrorKind.NotFound => StatusCodes.Status404NotFound,
        LakehouseErrorKind.Conflict => StatusCodes.Status409Conflict,
        LakehouseErrorKind.Unavailable => StatusCodes.Status503ServiceUnavailable,
        LakehouseErrorKind.Unauthenticated => StatusCodes.Status401Unauthorized,
        LakehouseErrorKind.PermissionDenied => StatusCodes.Status403Forbidden,
        LakehouseErrorKind.Unimplemented => StatusCodes.Status501NotImplemented,
        LakehouseErrorKind.ResourceExhausted => StatusCodes.Status429TooManyRequests,
        LakehouseErrorKind.DiskFull => StatusCodes.Status507InsufficientStorage,
        LakehouseErrorKind.FailedPrecondition => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status400BadRequest,
    };

    /// <summary>The kind of a failure the lake can explain (its own, or a file system failure), or null.</summary>
    public static LakehouseErrorKind? KindOf(Exception exception) => exception switch
    {
        LakehouseException lake => lake.Kind,
        _ => Storage.LakeFaults.Translate(exception)?.Kind,
    };

    /// <summary>
    /// The status of a failed call. <paramref name="expected"/> is false for failures a user cannot
    /// fix (the caller logs those with their stack trace).
    /// </summary>
    public static Status ToStatus(Exception exception, string method, bool cancelled, out bool expected)
    {
        expected = true;
        switch (exception)
        {
            case RpcException rpc:
                return rpc.StatusCode == StatusCode.Unknown ? new Status(StatusCode.Internal, rpc.Status.Detail) : rpc.Status;
            case LakehouseException lake:
                return new Status(ToStatusCode(lake.Kind), lake.Message);
            case Exception when !cancelled && Storage.LakeFaults.Translate(exception) is { } fault:
                // A file system failure outside the commit pipeline: its own text names server paths. An unexplained
                // I/O error is still logged with its stack trace.
                expected = fault.Kind != LakehouseErrorKind.Unavailable;
                return new Status(ToStatusCode(fault.Kind), fault.Message);
            case OperationCanceledException when cancelled:
                return new Status(StatusCode.Cancelled, "the call was cancelled");
            case Exception when cancelled:
                // A client that goes away surfaces as an aborted write (IOException, InvalidOperationException), not only as OCE.
                return new Status(StatusCode.Cancelled, "the call was cancelled");
            case NotImplementedException ni:
                return new Status(StatusCode.Unimplemented, $"{method} is not served: {ni.Message}");
            default:
                // Never the exception's text or type: it may name server paths or native types. The log has both.
                expected = false;
                return new Status(StatusCode.Internal, $"{method} failed on an unexpected server error (logged); retry, and report it if it persists");
        }
    }
}
