using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Threading.Channels;
using Apache.Arrow.Flight;
using Grpc.Core;
using Lakehouse.Flight.Core.Wire;

namespace Lakehouse.Flight.Server.Internal.Actions;

/// <summary>One DoAction call as a handler sees it: the body, the results stream and the call's cancellation.</summary>
internal sealed class ActionCall(byte[] body, IAsyncStreamWriter<FlightResult> results, CancellationToken cancellationToken)
{
    /// <summary>The body as sent (empty for none).</summary>
    public byte[] Body { get; } = body;

    /// <summary>Cancelled when the caller goes away or its deadline passes.</summary>
    public CancellationToken CancellationToken { get; } = cancellationToken;

    /// <summary>Writes one result as JSON through a <see cref="WireJson"/> type.</summary>
    public Task WriteAsync<T>(T value, JsonTypeInfo<T> type) =>
        results.WriteAsync(new FlightResult(JsonSerializer.SerializeToUtf8Bytes(value, type)));

    /// <summary>
    /// Runs <paramref name="work"/> on the thread pool and, while it runs, writes each update it reports as a
    /// <c>{"progress":...}</c> result (<paramref name="describe"/> names the fields); returns what the work returns,
    /// or rethrows its exception, once every update is written. The work gets the call's cancellation; if an update
    /// cannot be written (the caller went away) or described, the work is cancelled and awaited before the call
    /// ends, so no work outlives its call (a work that only looks at its token between steps holds the call until then).
    /// </summary>
    public async Task<TResult> RunWithProgressAsync<TProgress, TResult>(Func<IProgress<TProgress>, CancellationToken, Task<TResult>> work,
        Func<TProgress, ActionProgress> describe)
    {
        var updates = Channel.CreateUnbounded<TProgress>(new UnboundedChannelOptions { SingleReader = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(CancellationToken);
        // Not Task.Run(..., token): a run cancelled before it starts would never complete the channel.
        var run = Task.Run(async () =>
        {
            try
            {
                return await work(new ChannelProgress<TProgress>(updates.Writer), stop.Token).ConfigureAwait(false);
            }
            finally
            {
                updates.Writer.TryComplete();
            }
        }, CancellationToken.None);
        try
        {
            await foreach (var update in updates.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                await WriteAsync(new ProgressMessage(describe(update)), WireJson.Default.ProgressMessage).ConfigureAwait(false);
            }
        }
        catch
        {
            try
            {
                await stop.CancelAsync().ConfigureAwait(false);
            }
            finally
            {
                try
                {
                    await run.ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    // The work stopped because we cancelled it: the failure to write is the one the call reports.
                    // Any other failure of the work propagates instead (it says more than a lost caller).
                }
            }
            throw;
        }
        return await run.ConfigureAwait(false);
    }

    /// <summary>IProgress without a SynchronizationContext hop: straight into the channel the call drains.</summary>
    private sealed class ChannelProgress<T>(ChannelWriter<T> writer) : IProgress<T>
    {
        public void Report(T value) => writer.TryWrite(value);
    }
}
