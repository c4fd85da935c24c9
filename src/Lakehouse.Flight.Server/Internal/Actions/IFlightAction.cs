namespace Lakehouse.Flight.Server.Internal.Actions;

/// <summary>
/// One DoAction type. Handlers are singletons registered in DI (<see cref="FlightActionServiceCollectionExtensions.AddFlightAction{T}"/>);
/// <see cref="FlightActions"/> lists them for ListActions in registration order and finds them by name for DoAction,
/// so adding an action is a class and its registration.
/// </summary>
internal interface IFlightAction
{
    /// <summary>The type as clients send it: lower case, e.g. <c>build-gold</c>.</summary>
    string Name { get; }

    /// <summary>What ListActions tells a user: what it does, its body and its results.</summary>
    string Description { get; }

    /// <summary>Only callers with the writer role may run it.</summary>
    bool RequiresWriter { get; }

    /// <summary>The call waits for the store's whole index first (every action but <c>health</c>; decisions D25).</summary>
    bool WaitsForIndex { get; }

    /// <summary>Reads the body, does the work and writes the results to <paramref name="call"/>.</summary>
    Task RunAsync(ActionCall call);
}
