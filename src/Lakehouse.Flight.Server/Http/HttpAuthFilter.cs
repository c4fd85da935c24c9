using Lakehouse.Flight.Server.Internal;
using Microsoft.AspNetCore.Http;

namespace Lakehouse.Flight.Server.Http;

/// <summary>
/// The Flight server's credentials on the HTTP API: Bearer tokens (issued at Handshake or static) or
/// Basic user:password; readers may GET, writers may also POST. Off when no credentials are configured
/// (the server then listens on loopback only).
/// </summary>
internal sealed class HttpAuthFilter(TokenService tokens) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (!tokens.Enabled)
        {
            return await next(context).ConfigureAwait(false);
        }
        var http = context.HttpContext;
        var header = http.Request.Headers.Authorization.ToString();
        var caller = tokens.Resolve(header) ?? tokens.CheckBasicHeader(header);
        if (caller is null)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer, Basic realm=\"lakehouse\"";
            return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized",
                detail: string.IsNullOrEmpty(header)
                    ? "no credentials: send 'Authorization: Bearer <token>' or Basic user:password"
                    : "invalid or expired credentials: authenticate again");
        }
        if (!HttpMethods.IsGet(http.Request.Method) && caller.Role != Role.Writer)
        {
            return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
                detail: $"{http.Request.Method} {http.Request.Path} needs the writer role; '{caller.Name}' is a {caller.Role.ToString().ToLowerInvariant()}");
        }
        return await next(context).ConfigureAwait(false);
    }
}

/// <summary>Maps a <see cref="Lakehouse.Flight.Core.LakehouseException"/> to problem+json with the message as detail.</summary>
internal sealed class HttpErrorFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context).ConfigureAwait(false);
        }
        catch (Lakehouse.Flight.Core.LakehouseException ex)
        {
            var status = ex.Kind switch
            {
                Lakehouse.Flight.Core.LakehouseErrorKind.NotFound => StatusCodes.Status404NotFound,
                Lakehouse.Flight.Core.LakehouseErrorKind.Conflict => StatusCodes.Status409Conflict,
                Lakehouse.Flight.Core.LakehouseErrorKind.Unavailable => StatusCodes.Status503ServiceUnavailable,
                _ => StatusCodes.Status400BadRequest,
            };
            return Results.Problem(statusCode: status, detail: ex.Message);
        }
    }
}
