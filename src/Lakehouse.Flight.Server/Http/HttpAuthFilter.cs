using Lakehouse.Flight.Core;
using Lakehouse.Flight.Server.Internal;
using Microsoft.AspNetCore.Http;

namespace Lakehouse.Flight.Server.Http;

/// <summary>
/// The Flight server's credentials on the HTTP API, through the same <see cref="TokenService.Authenticate"/>:
/// Bearer tokens (issued at Handshake or static) or Basic user:password; readers may GET (and POST /sql,
/// which only reads), writers may also POST and DELETE. Off when no credentials are configured (the server then listens on loopback only).
/// </summary>
internal sealed class HttpAuthFilter(TokenService tokens) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        try
        {
            var caller = tokens.Authenticate(http.Request.Headers.Authorization.ToString());
            if (!HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method)
                && http.GetEndpoint()?.Metadata.GetMetadata<ReadOnlyEndpoint>() is null)
            {
                caller.RequireWriter($"{http.Request.Method} {http.Request.Path}");
            }
        }
        catch (LakehouseException ex)
        {
            if (ex.Kind == LakehouseErrorKind.Unauthenticated)
            {
                http.Response.Headers.WWWAuthenticate = "Bearer, Basic realm=\"lakehouse\"";
            }
            return HttpErrorFilter.Problem(ex);
        }
        return await next(context).ConfigureAwait(false);
    }
}

/// <summary>
/// Maps a <see cref="LakehouseException"/> (or an <see cref="HttpProblemException"/>) to problem+json with the message as
/// detail (statuses from <see cref="ErrorMapper"/>); a file system failure to the lake's words (<see cref="Storage.LakeFaults"/>);
/// anything else to a 500 problem that names no exception, type or path (the log has them).
/// </summary>
internal sealed class HttpErrorFilter(Microsoft.Extensions.Logging.ILogger<HttpErrorFilter> logger) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context).ConfigureAwait(false);
        }
        catch (LakehouseException ex)
        {
            return Problem(ex);
        }
        catch (HttpProblemException ex)
        {
            return Results.Problem(statusCode: ex.Status, title: ReasonPhrases(ex.Status), detail: ex.Message);
        }
        catch (Exception ex) when (!context.HttpContext.RequestAborted.IsCancellationRequested)
        {
            var method = $"{context.HttpContext.Request.Method} {context.HttpContext.Request.Path}";
            var status = ErrorMapper.ToStatus(ex, method, cancelled: false, out var expected);
            if (!expected)
            {
                ServerLog.Failed(logger, ex, method);
            }
            return ex is OperationCanceledException || ErrorMapper.KindOf(ex) is not { } kind
                ? Results.Problem(statusCode: StatusCodes.Status500InternalServerError, title: ReasonPhrases(500), detail: status.Detail)
                : Problem(new LakehouseException(kind, status.Detail));
        }
    }

    public static IResult Problem(LakehouseException ex)
    {
        var status = ErrorMapper.ToHttpStatus(ex.Kind);
        return Results.Problem(statusCode: status, title: ReasonPhrases(status), detail: ex.Message);
    }

    private static string ReasonPhrases(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
}
