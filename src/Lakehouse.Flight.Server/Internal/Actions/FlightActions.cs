using Apache.Arrow.Flight;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Lakehouse.Flight.Server.Internal.Actions;

/// <summary>The DoAction types the server serves: every <see cref="IFlightAction"/> registered, in registration order.</summary>
internal sealed class FlightActions
{
    private readonly IReadOnlyList<IFlightAction> _actions;
    private readonly Dictionary<string, IFlightAction> _byName;

    public FlightActions(IEnumerable<IFlightAction> actions)
    {
        _actions = actions.ToList();
        _byName = new Dictionary<string, IFlightAction>(StringComparer.Ordinal);
        foreach (var action in _actions)
        {
            if (!IsKebab(action.Name))
            {
                throw new InvalidOperationException(
                    $"DoAction handler {action.GetType().Name} is named '{action.Name}': names are lower-case words of a-z and 0-9 joined by single hyphens, as clients send them");
            }
            if (!_byName.TryAdd(action.Name, action))
            {
                throw new InvalidOperationException(
                    $"two DoAction handlers are named '{action.Name}' ({_byName[action.Name].GetType().Name} and {action.GetType().Name}): names must be unique");
            }
        }
    }

    /// <summary>What ListActions streams.</summary>
    public IEnumerable<FlightActionType> Types => _actions.Select(a => new FlightActionType(a.Name, a.Description));

    /// <summary>The names, in the order ListActions gives them.</summary>
    public IEnumerable<string> Names => _actions.Select(a => a.Name);

    /// <summary>The handler for a type as sent (trimmed, any case); null when none has that name.</summary>
    public IFlightAction? Find(string? type) => _byName.GetValueOrDefault((type ?? "").Trim().ToLowerInvariant());

    /// <summary>Lower-case words of a-z and 0-9 joined by single hyphens (<c>build-gold</c>), as clients send action types.</summary>
    internal static bool IsKebab(string name) =>
        name.Length > 0 && name[0] != '-' && name[^1] != '-' && !name.Contains("--", StringComparison.Ordinal)
        && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');
}

internal static class FlightActionServiceCollectionExtensions
{
    /// <summary>The built-in actions (ListActions shows them in this order) and the table that finds them.</summary>
    public static IServiceCollection AddFlightActions(this IServiceCollection services)
    {
        services.TryAddSingleton<FlightActions>();
        services.AddFlightAction<IngestAction>();
        services.AddFlightAction<PromoteAction>();
        services.AddFlightAction<BuildGoldAction>();
        services.AddFlightAction<MigrateLegacyAction>();
        services.AddFlightAction<UploadStatusAction>();
        services.AddFlightAction<StatsAction>();
        services.AddFlightAction<ManifestAction>();
        services.AddFlightAction<HealthAction>();
        services.AddFlightAction<ListVersionsAction>();
        services.AddFlightAction<CreateSnapshotAction>();
        services.AddFlightAction<ListSnapshotsAction>();
        services.AddFlightAction<DeleteSnapshotAction>();
        services.AddFlightAction<VacuumAction>();
        return services;
    }

    /// <summary>Adds a DoAction handler (a singleton); ListActions and DoAction find it by its name.</summary>
    public static IServiceCollection AddFlightAction<T>(this IServiceCollection services)
        where T : class, IFlightAction
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IFlightAction, T>());
        return services;
    }
}
