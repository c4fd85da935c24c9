using System.Diagnostics;
using Apache.Arrow.Flight;
using Grpc.Core;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Server.Internal.Actions;

namespace Lakehouse.Flight.Server.Internal;

/// <summary>ListActions and DoAction over the handlers in <see cref="FlightActions"/> (Internal/Actions/, one class per action).</summary>
internal sealed partial class LakehouseFlightService
{
    public override async Task ListActions(IAsyncStreamWriter<FlightActionType> responseStream, ServerCallContext context)
    {
        foreach (var type in actions.Types)
        {
            await responseStream.WriteAsync(type).ConfigureAwait(false);
        }
    }

    public override async Task DoAction(FlightAction request, IAsyncStreamWriter<FlightResult> responseStream, ServerCallContext context)
    {
        var sw = Stopwatch.StartNew();
        var ct = context.CancellationToken;
        var caller = FlightCallInterceptor.CallerOf(context);
        // Flight SQL's actions are not in ListActions (it lists the lake's own actions; Flight SQL clients know theirs).
        if (sql.Enabled && Sql.FlightSqlService.IsAction(request.Type))
        {
            // Flight SQL's actions keep the protocol's names (CreatePreparedStatement, ...), outside the kebab-case table.
            await sql.DoActionAsync(request, responseStream, ct).ConfigureAwait(false);
            ServerLog.ActionDone(_logger, request.Type, caller.Name, sw.ElapsedMilliseconds);
            return;
        }
        var action = actions.Find(request.Type) ?? throw LakehouseException.Invalid(
            $"unknown action '{request.Type}': valid actions are {string.Join(", ", actions.Names)}");
        if (action.RequiresWriter)
        {
            caller.RequireWriter($"the {action.Name} action");
        }
        if (action.WaitsForIndex && !_store.IsReady)
        {
            // The ready gate (D25): an action that reads or writes the lake needs the store's whole index.
            await _store.WaitReadyAsync(ct).ConfigureAwait(false);
        }
        await action.RunAsync(new ActionCall(request.Body.ToByteArray(), responseStream, ct)).ConfigureAwait(false);
        ServerLog.ActionDone(_logger, action.Name, caller.Name, sw.ElapsedMilliseconds);
    }
}
