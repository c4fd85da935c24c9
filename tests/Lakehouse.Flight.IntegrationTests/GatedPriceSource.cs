using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Lakehouse.Flight.Ingestion;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>
/// A test source named <c>gated</c>: synthetic bars, but each symbol waits for <see cref="Open"/> (or the
/// call's cancellation) before it is returned, so a test can hold a job in <c>running</c>. It records which
/// symbols started and the most fetches of one symbol that ever ran at once; symbols in <see cref="Failing"/> fail.
/// </summary>
internal sealed class GatedPriceSource : IPriceSource
{
    public const string SourceName = "gated";

    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, int> _active = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _maxActive = new(StringComparer.Ordinal);

    public GatedPriceSource(bool open = false, params string[] failing)
    {
        Failing = failing.ToHashSet(StringComparer.Ordinal);
        if (open)
        {
            Open();
        }
    }

    public string Name => SourceName;

    public HashSet<string> Failing { get; }

    public ConcurrentQueue<string> Started { get; } = new();

    public int MaxConcurrent(string symbol) => _maxActive.GetValueOrDefault(symbol);

    public void Open() => _gate.TrySetResult();

    public async IAsyncEnumerable<SourceResult> FetchAsync(SourceRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var symbol in request.Symbols)
        {
            var now = _active.AddOrUpdate(symbol, 1, (_, n) => n + 1);
            _maxActive.AddOrUpdate(symbol, now, (_, n) => Math.Max(n, now));
            Started.Enqueue(symbol);
            try
            {
                await _gate.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _active.AddOrUpdate(symbol, 0, (_, n) => n - 1);
            }
            yield return Failing.Contains(symbol)
                ? SourceResult.Failed(symbol, $"{symbol}: the test source fails this symbol")
                : new SourceResult(symbol, SyntheticBars.GenerateOne(symbol, request.From!.Value, request.To!.Value, request.Seed).ToArray(), [], []);
        }
    }
}
