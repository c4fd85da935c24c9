using System.Text.Json;
using System.Text.Json.Serialization;
using Apache.Arrow.Flight;
using Grpc.Core;
using Lakehouse.Flight.Core.Wire;
using Lakehouse.Flight.Server.Internal.Actions;
using Microsoft.Extensions.DependencyInjection;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>An action added by registration only: ListActions and DoAction serve it with no change to the Flight service.</summary>
public sealed partial class ActionRegistrationTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() =>
        _server = await TestServer.StartAsync(TestServer.WithAuth, configureServices: services =>
        {
            services.AddFlightAction<CountAction>();
            services.AddFlightAction<HoldAction>();
        });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task RegisteredAction_IsListedAfterTheBuiltIns()
    {
        using var call = _server.Raw.ListActions(TestServer.Bearer(TestServer.ReaderToken));
        var actions = new List<FlightActionType>();
        while (await call.ResponseStream.MoveNext().DefaultTimeout())
        {
            actions.Add(call.ResponseStream.Current);
        }

        Assert.Equal(["ingest", "promote", "build-gold", "migrate-legacy", "upload-status", "stats", "manifest", "health", "list-versions", "create-snapshot", "list-snapshots", "delete-snapshot", "vacuum", "count", "hold"], actions.Select(a => a.Type));
        Assert.Equal(CountAction.Text, actions[^2].Description);
    }

    [Fact]
    public async Task RegisteredAction_StreamsItsProgressThenItsResult()
    {
        using var call = _server.Raw.DoAction(new FlightAction("Count", """{"to":3}"""), TestServer.Bearer(TestServer.WriterToken));
        var results = new List<string>();
        while (await call.ResponseStream.MoveNext().DefaultTimeout())
        {
            results.Add(call.ResponseStream.Current.Body.ToStringUtf8());
        }

        Assert.Equal(
        [
            """{"progress":{"action":"count","done":1,"total":3}}""",
            """{"progress":{"action":"count","done":2,"total":3}}""",
            """{"progress":{"action":"count","done":3,"total":3}}""",
            """{"counted":3}""",
        ], results);
    }

    [Fact]
    public async Task RegisteredWriterAction_RefusesAReader()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = _server.Raw.DoAction(new FlightAction("count", """{"to":1}"""), TestServer.Bearer(TestServer.ReaderToken));
            await call.ResponseStream.MoveNext().DefaultTimeout();
        });

        Assert.Equal(StatusCode.PermissionDenied, ex.StatusCode);
        Assert.Contains("the count action", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProgressThatCannotBeWritten_StopsTheWorkBeforeTheCallEnds()
    {
        HoldAction.WorkEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
        using var call = _server.Raw.DoAction(new FlightAction("hold", ""), TestServer.Bearer(TestServer.WriterToken));
        Assert.True(await call.ResponseStream.MoveNext().DefaultTimeout());
        Assert.Equal("""{"progress":{"action":"hold","done":1}}""", call.ResponseStream.Current.Body.ToStringUtf8());

        // The second update cannot be described: the call fails, and by then the work (waiting forever) was cancelled and ended.
        await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext().DefaultTimeout());

        Assert.True(HoldAction.WorkEnded.Task.IsCompleted, "the work was still running when the call ended");
        Assert.True(await HoldAction.WorkEnded.Task, "the work ended without seeing the cancellation");
    }

    [Theory]
    [InlineData("Count")]
    [InlineData("-count")]
    [InlineData("count--twice")]
    [InlineData("count_up")]
    [InlineData("")]
    public async Task AnActionNamedUnlikeAClientSendsIt_StopsTheServerFromStarting(string name)
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            TestServer.StartAsync(configureServices: services => services.AddSingleton<IFlightAction>(new NamedAction(name))));

        Assert.Contains($"is named '{name}'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TwoActionsOfOneName_StopTheServerFromStarting()
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            TestServer.StartAsync(configureServices: services => services.AddSingleton<IFlightAction>(new NamedAction("stats"))));

        Assert.Contains("two DoAction handlers are named 'stats'", ex.Message, StringComparison.Ordinal);
    }

    private sealed class NamedAction(string name) : IFlightAction
    {
        public string Name => name;

        public string Description => "";

        public bool RequiresWriter => false;

        public bool WaitsForIndex => false;

        public Task RunAsync(ActionCall call) => Task.CompletedTask;
    }

    /// <summary>Counts to the body's <c>to</c>, reporting each step through the shared progress helper.</summary>
    private sealed class CountAction : IFlightAction
    {
        public const string Text = "Counts to {\"to\":N} (writer). Streams {\"progress\":...} results; the last result is {\"counted\":N}.";

        public string Name => "count";

        public string Description => Text;

        public bool RequiresWriter => true;

        public bool WaitsForIndex => false;

        public async Task RunAsync(ActionCall call)
        {
            var to = JsonDocument.Parse(call.Body).RootElement.GetProperty("to").GetInt32();
            var counted = await call.RunWithProgressAsync<int, int>((progress, ct) =>
            {
                for (var i = 1; i <= to; i++)
                {
                    ct.ThrowIfCancellationRequested();
                    progress.Report(i);
                }
                return Task.FromResult(to);
            }, i => new ActionProgress { Action = Name, Done = i, Total = to }).ConfigureAwait(false);
            await call.WriteAsync(new Counted(counted), CountJson.Default.Counted).ConfigureAwait(false);
        }
    }

    /// <summary>Reports 1 and 2 then waits forever; 2 cannot be described. Tells whether its work ended cancelled.</summary>
    private sealed class HoldAction : IFlightAction
    {
        public static TaskCompletionSource<bool> WorkEnded { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Name => "hold";

        public string Description => "Holds its call (writer).";

        public bool RequiresWriter => true;

        public bool WaitsForIndex => false;

        public async Task RunAsync(ActionCall call) =>
            await call.RunWithProgressAsync<int, int>(async (progress, ct) =>
            {
                try
                {
                    progress.Report(1);
                    progress.Report(2);
                    await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
                    return 0;
                }
                finally
                {
                    WorkEnded.TrySetResult(ct.IsCancellationRequested);
                }
            }, i => i < 2 ? new ActionProgress { Action = Name, Done = i } : throw new InvalidOperationException("update 2 cannot be described"))
            .ConfigureAwait(false);
    }

    internal sealed record Counted([property: JsonPropertyName("counted")] int Value);

    [JsonSerializable(typeof(Counted))]
    internal sealed partial class CountJson : JsonSerializerContext;
}
