using Lakehouse.Flight.Core;
using Lakehouse.Flight.Server.Internal;
using Microsoft.AspNetCore.Http;

namespace Lakehouse.Flight.Server.Http;

/// <summary>
/// The Flight server's credentials on the HTTP API, through the same <see cref="TokenService.Authenticate"/>:
/// Bearer tokens (issued at Handshake or static) or Basic user:password; readers may GET, writers may
/// also POST and DELETE. Off when no credentials are configured (the server then listens on loopback only).
/// </summary>
internal sealed class HttpAuthFilter(TokenService tokens) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        try
        {
            var caller = tokens.Authenticate(http.Request.Headers.Authorization.ToString());
            if (!HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method))
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

/// <summary>Maps a <see cref="LakehouseException"/> (or an <see cref="HttpProblemException"/>) to problem+json with the message as detail (statuses from <see cref="ErrorMapper"/>).</summary>
internal sealed class HttpErrorFilter : IEndpointFilter
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
    }

    public static IResult Problem(LakehouseException ex)
    {
        var status = ErrorMapper.ToHttpStatus(ex.Kind);
        return Results.Problem(statusCode: status, title: ReasonPhrases(status), detail: ex.Message);
    }

    private static string ReasonPhrases(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
}
