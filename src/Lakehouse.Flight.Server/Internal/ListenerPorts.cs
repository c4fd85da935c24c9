using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;

namespace Lakehouse.Flight.Server.Internal;

/// <summary>
/// Ties each route to its listener: Flight (gRPC) only on the Flight port, the HTTP API only on the
/// HTTP port. Kestrel tags every connection with the listener that accepted it; a middleware refuses a
/// request that came in on the other one with a status that names the right port.
/// </summary>
internal sealed class ListenerPorts
{
    private const string Key = "lakehouse.listener";
    private const string FlightListener = "flight";
    private const string FlightPrefix = "/arrow.flight.protocol.FlightService";

    /// <summary>The bound ports, known once the server listens.</summary>
    public int FlightPort { get; set; }

    public int? HttpPort { get; set; }

    /// <summary>Connection middleware for the Flight listener's <c>ListenOptions</c>.</summary>
    public static Func<ConnectionDelegate, ConnectionDelegate> TagFlight => next => connection =>
    {
        connection.Items[Key] = FlightListener;
        return next(connection);
    };

    public static bool IsFlightRequest(HttpContext context) =>
        context.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(Key, out var v) == true && (string?)v == FlightListener;

    public static bool IsFlightPath(PathString path) => path.StartsWithSegments(FlightPrefix, StringComparison.Ordinal);

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var onFlight = IsFlightRequest(context);
        var flightPath = IsFlightPath(context.Request.Path);
        if (onFlight && !flightPath)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            context.Response.ContentType = "text/plain; charset=utf-8";
            var http = HttpPort is { } p ? $"the HTTP API is on port {p}" : "the HTTP API is turned off";
            await context.Response.WriteAsync($"This is the Arrow Flight (gRPC) port; {http}.\n", context.RequestAborted).ConfigureAwait(false);
            return;
        }
        if (!onFlight && flightPath)
        {
            await Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not Found",
                detail: $"Arrow Flight (gRPC) is served on port {FlightPort}, not on the HTTP API port: connect with grpc://host:{FlightPort}")
                .ExecuteAsync(context).ConfigureAwait(false);
            return;
        }
        await next(context).ConfigureAwait(false);
    }
}
